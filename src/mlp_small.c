/* mlp_small.c — fused kernels for small networks: forward pass, backward
 * pass and Pearlmutter's R-operator without BLAS calls (mlp.h, "Small
 * networks"; layout in mlp_small.h).
 *
 * The products are written on vectors of IR_MLPS_LANES samples (GCC/clang
 * vector extensions), so every product runs along the sample dimension:
 *   lin      Z[j'] = b[j'] + Σ_j C(j', j) A[j]   (forward, R-forward, and
 *            with C = Wᵀ the backward D = WᵀG): one accumulator vector per
 *            block of samples, the coefficients broadcast;
 *   outer    C[j'][j] = Σ_i P[j'][i] Q[j][i]     (weight gradients, the
 *            HVP's weight blocks): 8 partial sums per entry, added in a
 *            fixed order at the end.
 * The order of every sum is fixed by the code (not by the instruction set),
 * so a result does not depend on the clone that runs; it differs from the
 * BLAS path's by rounding.  The hot entry points are compiled for AVX-512,
 * AVX2 and the baseline (target_clones, chosen at load time) where the
 * compiler supports it. */
#include <config.h>

/* Contract a·b + c into fused multiply-adds where the clone has them (the
 * library is compiled as ISO C, where GCC defaults to no contraction). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#elif defined(__clang__)
#pragma STDC FP_CONTRACT ON
#endif

#include "mlp_small.h"

#include "implreg/status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef double v8d __attribute__((vector_size(8 * sizeof(double))));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    !defined(IR_MLPS_NO_CLONES)
#define IR_MLPS_HOT                                                            \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define IR_MLPS_HOT
#endif

#define NL IR_MLPS_LANES

/* The loops over the 8 accumulators of outer must be unrolled, or GCC keeps
 * the accumulators in memory and every multiply-add waits for the previous
 * one's store (measured: the backward pass of a 4-32-1 network 4× slower).
 * Unrolling does not change any sum's order. */
#if defined(__clang__)
#define IR_MLPS_UNROLL8 _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define IR_MLPS_UNROLL8 _Pragma("GCC unroll 8")
#else
#define IR_MLPS_UNROLL8
#endif

double ir_mlps_flops(const ir_mlp_arch *a, size_t m) {
  double f = 0;
  for (size_t l = 0; l < a->nlayers; l++)
    f += (double)a->width[l] * (double)a->width[l + 1];
  return 2.0 * (double)m * f;
}

void ir_mlps_free(ir_mlps *s) {
  free(s->mem);
  memset(s, 0, sizeof *s);
}

int ir_mlps_reserve(ir_mlps *s, const ir_mlp_arch *a, size_t m) {
  const size_t mp = (m + NL - 1) / NL * NL;
  if (s->mem != NULL && mp <= s->cap)
    return IR_OK;
  ir_mlps_free(s);
  s->a = *a;
  s->L = a->nlayers;
  s->K = a->width[a->nlayers];
  for (size_t l = 0; l <= s->L; l++)
    s->maxw = a->width[l] > s->maxw ? a->width[l] : s->maxw;
  const int smooth = ir_mlp_act_is_smooth(a->act);
  /* Rows of mp doubles: inputs, targets, P, RD, and per layer Z, G, RZ, RG
   * (+ A, S1, RA and S2 below the output). */
  size_t rows = a->width[0] + 2 * s->K + s->maxw;
  for (size_t l = 0; l < s->L; l++)
    rows += a->width[l + 1] * (l + 1 < s->L ? (smooth ? 8 : 7) : 4);
  /* Each array is followed by a gap of one cache line: the arrays are
   * mostly multiples of 4 KiB long, and without the gaps they all began at
   * the same offset within a page, so that the streams of one pass fell
   * into the same L1 sets (an HVP of the 4-32-1 network took 1.5 or 1.9 µs
   * depending on which arrays the workspace held). */
  const size_t narrays = 4 + 8 * s->L;
  double *mem = NULL;
  if (rows > (SIZE_MAX / sizeof(double) - narrays * NL) / mp ||
      posix_memalign((void **)&mem, 64,
                     (rows * mp + narrays * NL) * sizeof(double)) != 0)
    return ir_error(IR_ENOMEM,
                    "out of memory (small-network workspace, %zu samples)", m);
  s->mem = mem;
  s->cap = mp;
  double *p = mem;
#define IR_TAKE(ptr, w)                                                        \
  do {                                                                         \
    (ptr) = p;                                                                 \
    p += (w) * mp + NL;                                                        \
  } while (0)
  IR_TAKE(s->X0, a->width[0]);
  IR_TAKE(s->Y0, s->K);
  IR_TAKE(s->P, s->K);
  IR_TAKE(s->RD, s->maxw);
  for (size_t l = 0; l < s->L; l++) {
    const size_t w = a->width[l + 1];
    IR_TAKE(s->Z[l], w);
    IR_TAKE(s->G[l], w);
    IR_TAKE(s->RZ[l], w);
    IR_TAKE(s->RG[l], w);
    if (l + 1 < s->L) {
      IR_TAKE(s->A[l], w);
      IR_TAKE(s->S1[l], w);
      IR_TAKE(s->RA[l], w);
      if (smooth)
        IR_TAKE(s->S2[l], w);
    }
  }
#undef IR_TAKE
  return IR_OK;
}

void ir_mlps_load(ir_mlps *s, size_t m, const double *X, size_t ldx,
                  const double *Y, size_t ldy, int reuse) {
  const size_t d = s->a.width[0], K = s->K, mp = (m + NL - 1) / NL * NL;
  /* The transposition costs about 5% of a step of a 4-32-1 network on 64
   * samples, paid again at every step of full-batch GD otherwise. */
  if (reuse && s->src_x == X && s->src_y == Y && s->m == m &&
      s->src_ldx == ldx && s->src_ldy == ldy)
    return;
  s->src_x = reuse ? X : NULL;
  s->src_y = Y;
  s->src_ldx = ldx;
  s->src_ldy = ldy;
  s->m = m;
  s->mp = mp;
  for (size_t k = 0; k < d; k++) {
    double *row = s->X0 + k * mp;
    for (size_t i = 0; i < m; i++)
      row[i] = X[i * ldx + k];
    for (size_t i = m; i < mp; i++)
      row[i] = 0.0;
  }
  for (size_t k = 0; k < K; k++) {
    double *row = s->Y0 + k * mp;
    for (size_t i = 0; i < m; i++)
      row[i] = Y[i * ldy + k];
    for (size_t i = m; i < mp; i++)
      row[i] = 0.0;
  }
}

/* ---- the two products ----------------------------------------------------
 */

/* What lin stores for each output vector acc (element by element, rows of
 * the same shape as the output): */
enum {
  EPI_STORE = 0, /* Z = acc */
  EPI_MUL = 1,   /* Z = acc ⊙ M1 (σ' stored) */
  EPI_TANH = 2,  /* Z = acc ⊙ (1 − M1²) (σ' of tanh from its value M1) */
  EPI_RGRAD = 3  /* Z = acc ⊙ M1 + M2 ⊙ M3 (the HVP's R{G}) */
};

typedef struct {
  int mode;
  const v8d *M1, *M2, *M3;
  v8d *raw; /* when != NULL, acc itself is stored here too */
} epilogue;

/* *out = the epilogue of acc at vector k (a macro: vectors are not passed
 * by value, whose ABI differs between the clones). */
#define EPI_APPLY(e, acc, k, out)                                              \
  do {                                                                         \
    if ((e)->raw)                                                              \
      (e)->raw[k] = (acc);                                                     \
    switch ((e)->mode) {                                                       \
    case EPI_MUL: *(out) = (acc) * (e)->M1[k]; break;                          \
    case EPI_TANH: *(out) = (acc) * (1.0 - (e)->M1[k] * (e)->M1[k]); break;    \
    case EPI_RGRAD:                                                            \
      *(out) = (acc) * (e)->M1[k] + (e)->M2[k] * (e)->M3[k];                   \
      break;                                                                   \
    default: *(out) = (acc);                                                   \
    }                                                                          \
  } while (0)

/* lin on the W (8 or 4) sample vectors from ib of output row z: each sum
 * b0 + Σ_j c_j A[j] (+ Σ_j c2_j A2[j]) in that order. */
static inline __attribute__((always_inline)) void
lin_block(int W, size_t nin, size_t nb, size_t ib, const double *c,
          size_t cs, double b0, const v8d *A, const double *c2,
          const v8d *A2, v8d *z, size_t k0, const epilogue *e) {
  v8d a[8];
  IR_MLPS_UNROLL8
  for (int t = 0; t < W; t++)
    a[t] = (v8d){0} + b0;
  for (size_t j = 0; j < nin; j++) {
    const double w = c[j * cs];
    const v8d *x = A + j * nb + ib;
    IR_MLPS_UNROLL8
    for (int t = 0; t < W; t++)
      a[t] += w * x[t];
  }
  if (c2)
    for (size_t j = 0; j < nin; j++) {
      const double w = c2[j * cs];
      const v8d *x = A2 + j * nb + ib;
      IR_MLPS_UNROLL8
      for (int t = 0; t < W; t++)
        a[t] += w * x[t];
    }
  IR_MLPS_UNROLL8
  for (int t = 0; t < W; t++)
    EPI_APPLY(e, a[t], k0 + ib + t, z + ib + t);
}

/* a[t] += c_j A[j][ib + t] and b[t] += d_j A[j][ib + t], j in order: one
 * operand set of lin_block_pair. */
static inline __attribute__((always_inline)) void
lin_pair_acc(size_t nin, size_t nb, size_t ib, const double *c,
             const double *d, size_t cs, const v8d *A, v8d *a, v8d *b) {
  for (size_t j = 0; j < nin; j++) {
    const double w = c[j * cs], v = d[j * cs];
    const v8d *x = A + j * nb + ib;
    IR_MLPS_UNROLL8
    for (int t = 0; t < 8; t++) {
      a[t] += w * x[t];
      b[t] += v * x[t];
    }
  }
}

/* lin_block(8) for the two output rows of c and d (z and zd, vectors k0
 * and kd): each sample vector of A is loaded once for both — a small layer
 * reloads its whole input for every output row.  Each sum as lin_block's
 * (the same bits). */
static inline __attribute__((always_inline)) void
lin_block_pair(size_t nin, size_t nb, size_t ib, const double *c,
               const double *d, size_t cs, double b0, double bd, const v8d *A,
               const double *c2, const double *d2, const v8d *A2, v8d *z,
               v8d *zd, size_t k0, size_t kd, const epilogue *e) {
  v8d a[8], b[8];
  IR_MLPS_UNROLL8
  for (int t = 0; t < 8; t++) {
    a[t] = (v8d){0} + b0;
    b[t] = (v8d){0} + bd;
  }
  lin_pair_acc(nin, nb, ib, c, d, cs, A, a, b);
  if (c2)
    lin_pair_acc(nin, nb, ib, c2, d2, cs, A2, a, b);
  IR_MLPS_UNROLL8
  for (int t = 0; t < 8; t++) {
    EPI_APPLY(e, a[t], k0 + ib + t, z + ib + t);
    EPI_APPLY(e, b[t], kd + ib + t, zd + ib + t);
  }
}

/* Z[j'] = epilogue(b[j'] + Σ_j C[j'·rs + j·cs] A[j] (+ the same with C2,
 * A2 when C2 != NULL)), j' < nout, j < nin; rows of nb vectors.  b may be
 * NULL. */
static inline __attribute__((always_inline)) void
lin(size_t nout, size_t nin, size_t nb, const double *C, size_t rs, size_t cs,
    const double *b, const v8d *A, const double *C2, const v8d *A2, v8d *Z,
    const epilogue *e) {
  size_t jo = 0;
  /* two rows at a time where their blocks of 8 are all the row has (not
   * with a second operand: the HVP's products measured slower so) */
  for (; C2 == NULL && nb % 8 == 0 && jo + 2 <= nout; jo += 2) {
    const double *c = C + jo * rs, *c2 = C2 ? C2 + jo * rs : NULL;
    for (size_t ib = 0; ib < nb; ib += 8)
      lin_block_pair(nin, nb, ib, c, c + rs, cs, b ? b[jo] : 0.0,
                     b ? b[jo + 1] : 0.0, A, c2, c2 ? c2 + rs : NULL, A2,
                     Z + jo * nb, Z + (jo + 1) * nb, jo * nb, (jo + 1) * nb,
                     e);
  }
  for (; jo < nout; jo++) {
    const double *c = C + jo * rs, *c2 = C2 ? C2 + jo * rs : NULL;
    const double b0 = b ? b[jo] : 0.0;
    v8d *z = Z + jo * nb;
    const size_t k0 = jo * nb;
    size_t ib = 0;
    /* blocks of 8 vectors, then 4: half the loop overhead and coefficient
     * loads of blocks of 4 where nin is small */
    for (; ib + 8 <= nb; ib += 8)
      lin_block(8, nin, nb, ib, c, cs, b0, A, c2, A2, z, k0, e);
    for (; ib + 4 <= nb; ib += 4)
      lin_block(4, nin, nb, ib, c, cs, b0, A, c2, A2, z, k0, e);
    for (; ib < nb; ib++) {
      /* fewer than 4 blocks left: 4 partial sums along j instead, so that
       * the sum is not one chain of nin dependent adds */
      v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
      size_t j = 0;
      for (; j + 4 <= nin; j += 4) {
        a0 += c[j * cs] * A[j * nb + ib];
        a1 += c[(j + 1) * cs] * A[(j + 1) * nb + ib];
        a2 += c[(j + 2) * cs] * A[(j + 2) * nb + ib];
        a3 += c[(j + 3) * cs] * A[(j + 3) * nb + ib];
      }
      for (; j < nin; j++)
        a0 += c[j * cs] * A[j * nb + ib];
      if (c2) {
        for (j = 0; j + 4 <= nin; j += 4) {
          a0 += c2[j * cs] * A2[j * nb + ib];
          a1 += c2[(j + 1) * cs] * A2[(j + 1) * nb + ib];
          a2 += c2[(j + 2) * cs] * A2[(j + 2) * nb + ib];
          a3 += c2[(j + 3) * cs] * A2[(j + 3) * nb + ib];
        }
        for (; j < nin; j++)
          a0 += c2[j * cs] * A2[j * nb + ib];
      }
      const v8d acc = b0 + ((a0 + a1) + (a2 + a3));
      EPI_APPLY(e, acc, k0 + ib, z + ib);
    }
  }
}

/* The 8 partial sums of a vector added in a fixed order. */
static inline double hsum(const v8d *v) {
  const v8d a = *v;
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define IR_MLPS_SHUFFLE 1
#endif
#endif

/* The 8 sums of 8 accumulators as one vector, each added in hsum's order
 * (so both give the same bits): three rounds of shuffles and adds. */
static inline __attribute__((always_inline)) void
hsum8(const v8d *a, double *out, size_t stride) {
#ifdef IR_MLPS_SHUFFLE
  v8d s[4];
  IR_MLPS_UNROLL8
  for (int t = 0; t < 4; t++)
    s[t] = __builtin_shufflevector(a[2 * t], a[2 * t + 1], 0, 1, 2, 3, 8, 9,
                                   10, 11) +
           __builtin_shufflevector(a[2 * t], a[2 * t + 1], 4, 5, 6, 7, 12, 13,
                                   14, 15);
  v8d u[2];
  IR_MLPS_UNROLL8
  for (int t = 0; t < 2; t++)
    u[t] = __builtin_shufflevector(s[2 * t], s[2 * t + 1], 0, 1, 8, 9, 4, 5,
                                   12, 13) +
           __builtin_shufflevector(s[2 * t], s[2 * t + 1], 2, 3, 10, 11, 6, 7,
                                   14, 15);
  const v8d r = __builtin_shufflevector(u[0], u[1], 0, 8, 2, 10, 4, 12, 6,
                                        14) +
                __builtin_shufflevector(u[0], u[1], 1, 9, 3, 11, 5, 13, 7, 15);
  /* lanes: a0, a4, a2, a6, a1, a5, a3, a7 */
  if (stride == 1) {
    const v8d o = __builtin_shufflevector(r, r, 0, 4, 2, 6, 1, 5, 3, 7);
    memcpy(out, &o, sizeof o);
  } else {
    /* one vector store and 8 scalar copies: cheaper than 8 extractions */
    const v8d o = __builtin_shufflevector(r, r, 0, 4, 2, 6, 1, 5, 3, 7);
    double tmp[8];
    memcpy(tmp, &o, sizeof o);
    IR_MLPS_UNROLL8
    for (int t = 0; t < 8; t++)
      out[t * stride] = tmp[t];
  }
#else
  IR_MLPS_UNROLL8
  for (int t = 0; t < 8; t++)
    out[t * stride] = hsum(&a[t]);
#endif
}

/* a[t] += Σ_ib P[(j1 + t/NIN)·nb + ib] ⊙ Q[(t mod NIN)·nb + ib], ib in
 * order: the 8 accumulators of outer_rows for one operand pair. */
static inline __attribute__((always_inline)) void
outer_rows_acc(const size_t NIN, size_t j1, size_t nb, const v8d *P,
               const v8d *Q, v8d *a) {
  for (size_t ib = 0; ib < nb; ib++) {
    v8d p[4], q[4];
    IR_MLPS_UNROLL8
    for (size_t r = 0; r < 8 / NIN; r++)
      p[r] = P[(j1 + r) * nb + ib];
    IR_MLPS_UNROLL8
    for (size_t j = 0; j < NIN; j++)
      q[j] = Q[j * nb + ib];
    IR_MLPS_UNROLL8
    for (size_t t = 0; t < 8; t++)
      a[t] += p[t / NIN] * q[t % NIN];
  }
}

/* outer's rows j' < the returned count (a multiple of 8/NIN), for NIN = 2
 * or 4 inputs (a constant, so that the 8 accumulators' addresses are): 8/NIN
 * rows at a time, their 8 entries contiguous in C. */
static inline __attribute__((always_inline)) size_t
outer_rows(const size_t NIN, size_t nout, size_t nb, const v8d *P,
           const v8d *Q, const v8d *P2, const v8d *Q2, double *C) {
  size_t j1 = 0;
  for (; j1 + 8 / NIN <= nout; j1 += 8 / NIN) {
    v8d a[8] = {{0}};
    outer_rows_acc(NIN, j1, nb, P, Q, a);
    if (Q2)
      outer_rows_acc(NIN, j1, nb, P2, Q2, a);
    hsum8(a, C + j1 * NIN, 1);
  }
  return j1;
}

/* C[j'][j] = Σ_i P[j'][i] Q[j][i] (+ Σ_i P2[j'][i] Q2[j][i] when P2 !=
 * NULL), j' < nout, j < nin, C row-major nout × nin; cb[j'] = Σ_i P[j'][i]
 * when cb != NULL.  Eight entries at a time (along j, or along j' when
 * nin < 8), each from 8 partial sums over the sample vectors. */
static inline void outer(size_t nout, size_t nin, size_t nb, const v8d *P,
                         const v8d *Q, const v8d *P2, const v8d *Q2, double *C,
                         double *cb) {
  /* Entry (j', j) = Σ_ib X[x·nb + ib] ⊙ Y[y·nb + ib] summed: groups of 8
   * along one index. */
  size_t jo = 0;
  if (nin == 2 || nin == 4) {
    /* 8/nin rows of nin entries: contiguous in C, so one vector store
     * instead of 8 strided ones, and 8/nin + nin loads per 8 multiply-adds
     * instead of 9.  Each entry is summed as in the branch below (the same
     * bits). */
    const size_t j1 = nin == 4 ? outer_rows(4, nout, nb, P, Q, P2, Q2, C)
                               : outer_rows(2, nout, nb, P, Q, P2, Q2, C);
    /* the biases of those rows, 8 at a time, then one by one */
    for (; cb && jo + 8 <= j1; jo += 8) {
      v8d a[8] = {{0}};
      for (size_t ib = 0; ib < nb; ib++)
        IR_MLPS_UNROLL8
        for (int t = 0; t < 8; t++)
          a[t] += P[(jo + t) * nb + ib];
      hsum8(a, cb + jo, 1);
    }
    for (; cb && jo < j1; jo++) {
      v8d a0 = {0};
      for (size_t ib = 0; ib < nb; ib++)
        a0 += P[jo * nb + ib];
      cb[jo] = hsum(&a0);
    }
    jo = j1;
  } else if (nin < 8)
    for (; jo + 8 <= nout; jo += 8) {
      for (size_t j = 0; j < nin; j++) {
        v8d a[8] = {{0}};
        const v8d *q = Q + j * nb, *r = Q2 ? Q2 + j * nb : NULL;
        for (size_t ib = 0; ib < nb; ib++) {
          const v8d x = q[ib];
          IR_MLPS_UNROLL8
          for (int t = 0; t < 8; t++)
            a[t] += P[(jo + t) * nb + ib] * x;
        }
        if (r)
          for (size_t ib = 0; ib < nb; ib++) {
            const v8d x = r[ib];
            IR_MLPS_UNROLL8
            for (int t = 0; t < 8; t++)
              a[t] += P2[(jo + t) * nb + ib] * x;
          }
        hsum8(a, C + jo * nin + j, nin);
      }
      if (cb) {
        v8d a[8] = {{0}};
        for (size_t ib = 0; ib < nb; ib++)
          IR_MLPS_UNROLL8
          for (int t = 0; t < 8; t++)
            a[t] += P[(jo + t) * nb + ib];
        hsum8(a, cb + jo, 1);
      }
    }
  for (; jo < nout; jo++) {
    const v8d *p = P + jo * nb, *p2 = P2 ? P2 + jo * nb : NULL;
    double *c = C + jo * nin;
    size_t j = 0;
    for (; j + 8 <= nin; j += 8) {
      v8d a[8] = {{0}};
      for (size_t ib = 0; ib < nb; ib++) {
        const v8d x = p[ib];
        IR_MLPS_UNROLL8
        for (int t = 0; t < 8; t++)
          a[t] += x * Q[(j + t) * nb + ib];
      }
      if (p2)
        for (size_t ib = 0; ib < nb; ib++) {
          const v8d x = p2[ib];
          IR_MLPS_UNROLL8
          for (int t = 0; t < 8; t++)
            a[t] += x * Q2[(j + t) * nb + ib];
        }
      hsum8(a, c + j, 1);
    }
    for (; j < nin; j++) {
      const v8d *q = Q + j * nb;
      v8d a0 = {0};
      for (size_t ib = 0; ib < nb; ib++)
        a0 += p[ib] * q[ib];
      if (p2) {
        const v8d *r = Q2 + j * nb;
        for (size_t ib = 0; ib < nb; ib++)
          a0 += p2[ib] * r[ib];
      }
      c[j] = hsum(&a0);
    }
    if (cb) {
      v8d a0 = {0};
      for (size_t ib = 0; ib < nb; ib++)
        a0 += p[ib];
      cb[jo] = hsum(&a0);
    }
  }
}

/* ---- passes ---------------------------------------------------------------
 */

static const v8d *vin(const ir_mlps *s, size_t l) {
  return (const v8d *)(l == 0 ? s->X0 : s->A[l - 1]);
}

static size_t woff(const ir_mlp_arch *a, size_t l) {
  return ir_mlp_weight_offset(a, l);
}

/* The products of the forward pass (activations are applied by the caller
 * between layers: ir_mlp_act_eval is not cloned). */
IR_MLPS_HOT static void fwd_layer(ir_mlps *s, const double *theta, size_t l) {
  const size_t in = s->a.width[l], out = s->a.width[l + 1], nb = s->mp / NL;
  const double *W = theta + woff(&s->a, l);
  const epilogue e = {EPI_STORE, NULL, NULL, NULL, NULL};
  lin(out, in, nb, W, in, 1, W + in * out, vin(s, l), NULL, NULL,
      (v8d *)s->Z[l], &e);
}

/* σ' of tanh is never stored by the forward pass: the backward pass forms
 * 1 − a² from the activations where it needs it, and ir_mlps_second stores
 * it for the HVP. */
static int s1_lazy(const ir_mlps *s) { return s->a.act == IR_ACT_TANH; }

double ir_mlps_forward(ir_mlps *s, const double *theta, int want_grad) {
  const size_t L = s->L, K = s->K, m = s->m, mp = s->mp;
  const int s1 = want_grad && !s1_lazy(s);
  for (size_t l = 0; l < L; l++) {
    fwd_layer(s, theta, l);
    if (l + 1 < L)
      ir_mlp_act_eval(s->a.act, s->Z[l], s->A[l], s1 ? s->S1[l] : NULL,
                      s->a.width[l + 1] * mp);
  }
  /* The loss with the arithmetic (and order of sums) of mlp.c's
   * ir_mlp_forward: samples outer, outputs inner. */
  const double *F = s->Z[L - 1], *Y = s->Y0;
  double *GL = s->G[L - 1];
  double loss = 0;
  if (want_grad)
    for (size_t k = 0; k < K; k++)
      for (size_t i = m; i < mp; i++)
        GL[k * mp + i] = 0.0;
  if (s->a.loss == IR_LOSS_CE) {
    double *P = s->P;
    for (size_t i = 0; i < m; i++) {
      double mx = F[i];
      for (size_t k = 1; k < K; k++)
        mx = F[k * mp + i] > mx ? F[k * mp + i] : mx;
      double se = 0, sy = 0, yf = 0;
      for (size_t k = 0; k < K; k++) {
        const double f = F[k * mp + i], y = Y[k * mp + i];
        P[k * mp + i] = exp(f - mx);
        se += P[k * mp + i];
        sy += y;
        yf += y * f;
      }
      const double lse = mx + log(se);
      for (size_t k = 0; k < K; k++)
        P[k * mp + i] /= se;
      loss += sy * lse - yf;
      if (want_grad)
        for (size_t k = 0; k < K; k++)
          GL[k * mp + i] = (sy * P[k * mp + i] - Y[k * mp + i]) / (double)m;
    }
    return loss / (double)m;
  }
  const double scale = s->a.loss == IR_LOSS_MSE
                           ? 1.0 / ((double)m * (double)K)
                           : 0.5 / (double)m;
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < K; k++) {
      const double r = F[k * mp + i] - Y[k * mp + i];
      loss += r * r;
      if (want_grad)
        GL[k * mp + i] = 2.0 * scale * r;
    }
  return loss * scale;
}

IR_MLPS_HOT static void bwd_pass(ir_mlps *s, const double *theta,
                                 double *grad) {
  const size_t nb = s->mp / NL;
  for (size_t l = s->L; l-- > 0;) {
    const size_t in = s->a.width[l], out = s->a.width[l + 1];
    const double *W = theta + woff(&s->a, l);
    const v8d *G = (const v8d *)s->G[l];
    if (grad) {
      double *gW = grad + woff(&s->a, l);
      outer(out, in, nb, G, vin(s, l), NULL, NULL, gW, gW + in * out);
    }
    if (l == 0)
      break;
    /* G_{l−1} = (W_lᵀ G_l) ⊙ σ' in one pass. */
    const epilogue e = {
        s1_lazy(s) ? EPI_TANH : EPI_MUL,
        (const v8d *)(s1_lazy(s) ? s->A[l - 1] : s->S1[l - 1]), NULL, NULL,
        NULL};
    lin(in, out, nb, W, 1, in, NULL, G, NULL, NULL, (v8d *)s->G[l - 1], &e);
  }
}

void ir_mlps_backward(ir_mlps *s, const double *theta, double *grad) {
  bwd_pass(s, theta, grad);
}

/* D_l = W_{l+1}ᵀ G_{l+1} is formed here, for the HVP only, rather than
 * stored by every backward pass: a gradient step of a model that once took
 * an HVP paid 0.17 µs of 2.2 for it (4-32-1 tanh, 64 samples).  The
 * product is the backward pass's own (same loop, same order: the same
 * bits). */
IR_MLPS_HOT static void second_pass(ir_mlps *s, const double *theta) {
  const size_t nb = s->mp / NL;
  for (size_t l = 0; l + 1 < s->L; l++) {
    const size_t w = s->a.width[l + 1], len = w * s->mp;
    if (s1_lazy(s)) {
      const v8d *A = (const v8d *)s->A[l];
      v8d *S1 = (v8d *)s->S1[l];
      for (size_t i = 0; i < w * nb; i++)
        S1[i] = 1.0 - A[i] * A[i];
    }
    if (ir_mlp_act_is_smooth(s->a.act)) {
      ir_mlp_act_second(s->a.act, s->Z[l], s->A[l], s->S1[l], s->S2[l], len);
      /* D ⊙ σ'' in place of σ'': the only way the HVP uses σ''. */
      const epilogue e = {EPI_MUL, (const v8d *)s->S2[l], NULL, NULL, NULL};
      lin(w, s->a.width[l + 2], nb, theta + woff(&s->a, l + 1), 1, w, NULL,
          (const v8d *)s->G[l + 1], NULL, NULL, (v8d *)s->S2[l], &e);
    }
  }
}

void ir_mlps_second(ir_mlps *s, const double *theta) {
  second_pass(s, theta);
}

IR_MLPS_HOT static void hvp_pass(ir_mlps *s, const double *theta,
                                 const double *v, double *hv) {
  const size_t L = s->L, K = s->K, m = s->m, mp = s->mp, nb = mp / NL;
  const int smooth = ir_mlp_act_is_smooth(s->a.act);
  /* R-forward: R{Z_l} = VW_l A_{l−1} + Vb_l + W_l R{A_{l−1}}, and
   * R{A_l} = σ' ⊙ R{Z_l} in the same pass. */
  for (size_t l = 0; l < L; l++) {
    const size_t in = s->a.width[l], out = s->a.width[l + 1],
                 wo = woff(&s->a, l);
    const double *VW = v + wo, *W = theta + wo;
    const int last = l + 1 == L;
    const epilogue e = {last ? EPI_STORE : EPI_MUL,
                        last ? NULL : (const v8d *)s->S1[l], NULL, NULL,
                        last ? NULL : (v8d *)s->RZ[l]};
    lin(out, in, nb, VW, in, 1, VW + in * out, vin(s, l), l > 0 ? W : NULL,
        l > 0 ? (const v8d *)s->RA[l - 1] : NULL,
        (v8d *)(last ? s->RZ[l] : s->RA[l]), &e);
  }
  /* R{G_{L−1}}: the loss Hessian in output space (mlp.c's
   * ir_mlp_loss_rop), zero on the padding samples. */
  {
    const double *RF = s->RZ[L - 1];
    double *RG = s->RG[L - 1];
    if (s->a.loss == IR_LOSS_CE) {
      const double *P = s->P, *Y = s->Y0;
      for (size_t i = 0; i < m; i++) {
        double pr = 0, sy = 0;
        for (size_t k = 0; k < K; k++) {
          pr += P[k * mp + i] * RF[k * mp + i];
          sy += Y[k * mp + i];
        }
        for (size_t k = 0; k < K; k++)
          RG[k * mp + i] =
              sy * P[k * mp + i] * (RF[k * mp + i] - pr) / (double)m;
      }
    } else {
      const double c = s->a.loss == IR_LOSS_MSE ? 2.0 / ((double)m * (double)K)
                                                : 1.0 / (double)m;
      for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < m; i++)
          RG[k * mp + i] = c * RF[k * mp + i];
    }
    for (size_t k = 0; k < K; k++)
      for (size_t i = m; i < mp; i++)
        RG[k * mp + i] = 0.0;
  }
  /* R-backward. */
  for (size_t l = L; l-- > 0;) {
    const size_t in = s->a.width[l], out = s->a.width[l + 1],
                 wo = woff(&s->a, l);
    const v8d *RG = (const v8d *)s->RG[l], *G = (const v8d *)s->G[l];
    double *hW = hv + wo;
    /* hW = R{G} Aᵀ + G R{A}ᵀ, hb = Σ_i R{G}. */
    outer(out, in, nb, RG, vin(s, l), l > 0 ? G : NULL,
          l > 0 ? (const v8d *)s->RA[l - 1] : NULL, hW, hW + in * out);
    if (l == 0)
      break;
    /* R{G_{l−1}} = (W_lᵀ R{G_l} + VW_lᵀ G_l) ⊙ σ' + (D ⊙ σ'') ⊙ R{Z}. */
    const epilogue e = {smooth ? EPI_RGRAD : EPI_MUL,
                        (const v8d *)s->S1[l - 1],
                        smooth ? (const v8d *)s->S2[l - 1] : NULL,
                        (const v8d *)s->RZ[l - 1], NULL};
    lin(in, out, nb, theta + wo, 1, in, NULL, RG, v + wo, G,
        (v8d *)s->RG[l - 1], &e);
  }
}

void ir_mlps_hvp(ir_mlps *s, const double *theta, const double *v,
                 double *hv) {
  hvp_pass(s, theta, v, hv);
}
