/* mlp.c — fully connected networks: forward pass, backpropagation and
 * Pearlmutter's R-operator for exact Hessian-vector products (see mlp.h).
 *
 * Notation (rows are samples, everything row-major): layer l = 0..L−1 maps
 * A_{l−1} (m×in_l; A_{−1} = the inputs) to Z_l = A_{l−1}W_lᵀ + 1b_lᵀ and
 * A_l = σ(Z_l) for l < L−1; the output is F = Z_{L−1}.  G_l = ∂L/∂Z_l,
 * D_l = G_{l+1}W_{l+1} = ∂L/∂A_l, so G_l = D_l ⊙ σ'(Z_l).  The R-operator
 * R{·} is the directional derivative along V = (VW_l, Vb_l); the HVP is
 * R{∇L} = (R{G_l}ᵀA_{l−1} + G_lᵀR{A_{l−1}}, colsum R{G_l}).
 */
#include <config.h>

#include "implreg/mlp.h"

#include "implreg/status.h"
#include "mlp_small.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- names and sizes ------------------------------------------------------
 */

static const char *const ir_act_names[] = {"relu", "tanh", "softplus", "gelu",
                                           "identity"};
static const char *const ir_loss_names[] = {"mse", "half-mse", "ce"};
static const char *const ir_loss_formulas[] = {
    "L = (1/(mK)) sum_i ||f(x_i) - y_i||^2 (torch MSELoss, mean over all "
    "elements)",
    "L = (1/(2m)) sum_i ||f(x_i) - y_i||^2 (half mean over samples of the "
    "sum over outputs)",
    "L = (1/m) sum_i [logsumexp(f(x_i)) - f(x_i)_{y_i}] (torch "
    "CrossEntropyLoss, mean over samples)"};

int ir_act_parse(const char *name, ir_act *act) {
  for (int i = 0; i < 5; i++)
    if (strcmp(name, ir_act_names[i]) == 0) {
      *act = (ir_act)i;
      return IR_OK;
    }
  return ir_error(IR_EINVAL,
                  "unknown activation '%s' (use relu, tanh, softplus, gelu "
                  "or identity)",
                  name);
}

int ir_loss_parse(const char *name, ir_loss *loss) {
  for (int i = 0; i < 3; i++)
    if (strcmp(name, ir_loss_names[i]) == 0) {
      *loss = (ir_loss)i;
      return IR_OK;
    }
  return ir_error(IR_EINVAL, "unknown loss '%s' (use mse, half-mse or ce)",
                  name);
}

const char *ir_act_name(ir_act act) {
  return (unsigned)act < 5 ? ir_act_names[act] : "?";
}
const char *ir_loss_name(ir_loss loss) {
  return (unsigned)loss < 3 ? ir_loss_names[loss] : "?";
}
const char *ir_loss_formula(ir_loss loss) {
  return (unsigned)loss < 3 ? ir_loss_formulas[loss] : "?";
}

int ir_mlp_arch_parse(const char *spec, ir_mlp_arch *arch) {
  size_t w[IR_MLP_MAX_LAYERS + 2], nw = 0;
  const char *s = spec;
  if (s == NULL || *s == '\0')
    return ir_error(IR_EINVAL, "empty architecture (expected e.g. 784-64-10)");
  for (;;) {
    if (*s < '0' || *s > '9')
      return ir_error(IR_EINVAL,
                      "architecture '%s': expected a width at '%s' (write "
                      "input-hidden-...-output, e.g. 784-64-10)",
                      spec, s);
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (v == 0 || v > 100000000ULL)
      return ir_error(IR_EINVAL,
                      "architecture '%s': width %llu out of range [1, 1e8]",
                      spec, v);
    if (nw == IR_MLP_MAX_LAYERS + 1)
      return ir_error(IR_EINVAL, "architecture '%s': more than %d layers", spec,
                      IR_MLP_MAX_LAYERS);
    w[nw++] = (size_t)v;
    s = end;
    if (*s == '\0')
      break;
    if (*s != '-')
      return ir_error(IR_EINVAL,
                      "architecture '%s': unexpected '%c' (widths are "
                      "separated by '-')",
                      spec, *s);
    s++;
  }
  if (nw < 2)
    return ir_error(IR_EINVAL,
                    "architecture '%s': need at least an input and an output "
                    "width (e.g. 784-10)",
                    spec);
  arch->nlayers = nw - 1;
  for (size_t i = 0; i < nw; i++)
    arch->width[i] = w[i];
  return IR_OK;
}

size_t ir_mlp_weight_offset(const ir_mlp_arch *a, size_t l) {
  size_t off = 0;
  for (size_t i = 0; i < l; i++)
    off += a->width[i] * a->width[i + 1] + a->width[i + 1];
  return off;
}

size_t ir_mlp_bias_offset(const ir_mlp_arch *a, size_t l) {
  return ir_mlp_weight_offset(a, l) + a->width[l] * a->width[l + 1];
}

size_t ir_mlp_nparams(const ir_mlp_arch *a) {
  return ir_mlp_weight_offset(a, a->nlayers);
}

void ir_mlp_init_torch(const ir_mlp_arch *a, gsl_rng *r, gsl_vector *theta) {
  /* nn.Linear.reset_parameters: kaiming_uniform(a = √5) gives the bound
   * gain·√(3/fan_in) with gain = √(2/(1 + 5)), i.e. 1/√fan_in, and the bias
   * is uniform on the same interval. */
  size_t k = 0;
  for (size_t l = 0; l < a->nlayers; l++) {
    double bound = 1.0 / sqrt((double)a->width[l]);
    size_t cnt = a->width[l] * a->width[l + 1] + a->width[l + 1];
    for (size_t i = 0; i < cnt; i++, k++)
      gsl_vector_set(theta, k, bound * (2.0 * gsl_rng_uniform(r) - 1.0));
  }
}

/* ---- activations ------------------------------------------------------------
 */

static const double ir_inv_sqrt2 = 0.70710678118654752440;
static const double ir_inv_sqrt2pi = 0.39894228040143267794;

/* tanh over an array.  On a small network the activation is otherwise the
 * largest cost of a step.
 *
 * With AVX-512 (checked at run time): our own 8-wide tanh, about 2×
 * faster than glibc's libmvec AVX-512 tanh here (2048 values: 0.90 µs
 * against 2.1–2.5 µs on the machine of bench/README.md), within 2.7 ulp
 * (measured against tanhl on 2.4·10⁶ points over [−25, 25], [−1, 1] and
 * |x| down to 2⁻⁵⁰; tests/test_mlp.c checks 3 ulp on a grid).  It computes
 *   y = −2·min(|x|, 20),  e = expm1(y),  tanh|x| = −e / (2 + e),
 * with the sign of x restored (tanh 20 = 1 in double).  expm1(y): y =
 * k·ln2 + r, |r| <= ln2/2 (k rounded, ln2 in two parts), expm1(r) = r +
 * r²·q(r) with q the minimax polynomial of degree 9 for (expm1(r) − r)/r²
 * on |r| <= 0.3475 (Remez at 50 digits: docs/tanh_minimax.py; 1.1e-16
 * absolute with its coefficients rounded to double, so r²·|δq| <= 1.4e-17;
 * the Taylor polynomial to r¹¹/13! it replaced erred by 3.6e-17 but took
 * two more multiply-adds, 0.96 against 0.90 µs per 2048 values, for a worst
 * case of 2.5 ulp), and e = 2^k·expm1(r) + (2^k − 1) in one fused
 * multiply-add, which is exact enough because 2^k − 1 is exact and the two
 * terms never cancel for y <= 0.  No division by zero (2 + e >= 1), NaN
 * propagates, ±0 and subnormals keep their value.
 *
 * Without AVX-512: glibc's libmvec SSE tanh (2 values per call at the
 * cost of about one scalar call, within 4 ulp) when the library has it,
 * else libm's tanh.  Every value goes through the same vector routine (the
 * tail is padded), so a value's tanh does not depend on its position in
 * the array. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static inline __m512d
ir_tanh8(__m512d x) {
  const __m512d ax = _mm512_abs_pd(x);
  const __m512d cx = _mm512_min_pd(_mm512_set1_pd(20.0), ax); /* NaN kept */
  const __m512d y = _mm512_mul_pd(cx, _mm512_set1_pd(-2.0));
  /* k from cx rather than from y, one step earlier (the same k: scaling by
   * −2 is exact) */
  const __m512d k = _mm512_roundscale_pd(
      _mm512_mul_pd(cx, _mm512_set1_pd(-2.0 * 1.4426950408889634074)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  /* ln2 = 0x1.62e42feep-1 + 1.9082149292705877e-10 (the first part has 32
   * significant bits, so k·part is exact for |k| < 2²¹) */
  __m512d r =
      _mm512_fnmadd_pd(k, _mm512_set1_pd(6.93147180369123816490e-01), y);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.90821492927058770002e-10), r);
  /* q(r) = Σ_{i=0}^{9} c_i r^i by Estrin's scheme: the function is bound
   * by its chain of dependent operations, and Horner's steps were half of
   * it (2048 values: 1.65 µs with Horner, 1.05 µs with Estrin and k
   * computed early). */
  const __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2);
#define IR_C(c) _mm512_set1_pd(c)
  const __m512d e01 =
      _mm512_fmadd_pd(IR_C(0.16666666666666674), r, IR_C(0.5000000000000001));
  const __m512d e23 = _mm512_fmadd_pd(IR_C(0.008333333333321974), r,
                                      IR_C(0.04166666666662324));
  const __m512d e45 = _mm512_fmadd_pd(IR_C(0.00019841269887298178), r,
                                      IR_C(0.001388888891765572));
  const __m512d e67 = _mm512_fmadd_pd(IR_C(2.7557241539114074e-06), r,
                                      IR_C(2.4801520611317242e-05));
  const __m512d e89 = _mm512_fmadd_pd(IR_C(2.5110349653679175e-08), r,
                                      IR_C(2.7620413123830954e-07));
#undef IR_C
  const __m512d f03 = _mm512_fmadd_pd(e23, r2, e01);
  const __m512d f47 = _mm512_fmadd_pd(e67, r2, e45);
  const __m512d q = _mm512_fmadd_pd(_mm512_fmadd_pd(e89, r4, f47), r4, f03);
  const __m512d p = _mm512_fmadd_pd(r2, q, r);
  const __m512d tk = _mm512_scalef_pd(_mm512_set1_pd(1.0), k); /* 2^k */
  const __m512d e =
      _mm512_fmadd_pd(tk, p, _mm512_sub_pd(tk, _mm512_set1_pd(1.0)));
  /* −e/(2 + e) as e/(−2 − e) (the same bits), then the sign bit of x
   * over t's (t >= 0) by one bitwise select (sign ? x : t) */
  const __m512d t = _mm512_div_pd(e, _mm512_sub_pd(_mm512_set1_pd(-2.0), e));
  const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
      sign, _mm512_castpd_si512(x), _mm512_castpd_si512(t), 0xCA));
}

__attribute__((target("avx512f"))) static void
ir_tanh_avx512(const double *z, double *a, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8)
    _mm512_storeu_pd(a + i, ir_tanh8(_mm512_loadu_pd(z + i)));
  if (i < len) {
    double buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(buf, z + i, (len - i) * sizeof(double));
    _mm512_storeu_pd(buf, ir_tanh8(_mm512_loadu_pd(buf)));
    memcpy(a + i, buf, (len - i) * sizeof(double));
  }
}

#ifdef HAVE_LIBMVEC_TANH
__m128d _ZGVbN2v_tanh(__m128d x);

static void ir_tanh_other(const double *z, double *a, size_t len) {
  size_t i = 0;
  for (; i + 2 <= len; i += 2)
    _mm_storeu_pd(a + i, _ZGVbN2v_tanh(_mm_loadu_pd(z + i)));
  if (i < len) {
    double buf[2] = {z[i], 0.0};
    _mm_storeu_pd(buf, _ZGVbN2v_tanh(_mm_loadu_pd(buf)));
    a[i] = buf[0];
  }
}
#else
static void ir_tanh_other(const double *z, double *a, size_t len) {
  for (size_t i = 0; i < len; i++)
    a[i] = tanh(z[i]);
}
#endif

static void ir_tanh_array(const double *z, double *a, size_t len) {
  static int avx512 = -1;
  if (avx512 < 0) {
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f") != 0;
  }
  if (avx512)
    ir_tanh_avx512(z, a, len);
  else
    ir_tanh_other(z, a, len);
}
#else
static void ir_tanh_array(const double *z, double *a, size_t len) {
  for (size_t i = 0; i < len; i++)
    a[i] = tanh(z[i]);
}
#endif

/* a = σ(z) and, if s1 != NULL, s1 = σ'(z), elementwise over len values.
 * Compiled for AVX-512, AVX2 and the baseline (chosen at load time): the
 * ReLU loops are exact selections, so every clone gives the same bits, and
 * on a 4-32-1 network they were a third of a step in the baseline's 2-wide
 * SSE2 (0.7 µs for 2048 values). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void ir_act_forward(ir_act act, const double *z, double *a, double *s1,
                           size_t len) {
  switch (act) {
  case IR_ACT_RELU:
    for (size_t i = 0; i < len; i++)
      a[i] = z[i] > 0 ? z[i] : 0.0;
    if (s1)
      for (size_t i = 0; i < len; i++)
        s1[i] = z[i] > 0 ? 1.0 : 0.0;
    break;
  case IR_ACT_TANH:
    ir_tanh_array(z, a, len);
    if (s1)
      for (size_t i = 0; i < len; i++)
        s1[i] = 1.0 - a[i] * a[i];
    break;
  case IR_ACT_SOFTPLUS:
    /* log(1 + eᶻ) = max(z, 0) + log1p(e^{−|z|}): no overflow, no
     * cancellation; σ' is the logistic function. */
    for (size_t i = 0; i < len; i++) {
      double e = exp(-fabs(z[i]));
      a[i] = (z[i] > 0 ? z[i] : 0.0) + log1p(e);
      if (s1)
        s1[i] = z[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    }
    break;
  case IR_ACT_GELU:
    for (size_t i = 0; i < len; i++) {
      double Phi = 0.5 * erfc(-z[i] * ir_inv_sqrt2);
      a[i] = z[i] * Phi;
      if (s1)
        s1[i] = Phi + z[i] * ir_inv_sqrt2pi * exp(-0.5 * z[i] * z[i]);
    }
    break;
  case IR_ACT_IDENTITY:
    if (a != z)
      memcpy(a, z, len * sizeof(double));
    if (s1)
      for (size_t i = 0; i < len; i++)
        s1[i] = 1.0;
    break;
  }
}

void ir_mlp_activate(ir_act act, const double *z, double *a, size_t len) {
  ir_act_forward(act, z, a, NULL, len);
}

void ir_mlp_act_eval(ir_act act, const double *z, double *a, double *s1,
                     size_t len) {
  ir_act_forward(act, z, a, s1, len);
}

double ir_mlp_output_loss(ir_loss loss, const double *F, size_t m, size_t K,
                          const double *Y, size_t ldy) {
  /* The arithmetic of ir_mlp_forward's loss, without the gradient. */
  double sum = 0;
  if (loss == IR_LOSS_CE) {
    for (size_t i = 0; i < m; i++) {
      const double *f = F + i * K, *y = Y + i * ldy;
      double mx = f[0];
      for (size_t k = 1; k < K; k++)
        mx = f[k] > mx ? f[k] : mx;
      double se = 0, sy = 0, yf = 0;
      for (size_t k = 0; k < K; k++) {
        se += exp(f[k] - mx);
        sy += y[k];
        yf += y[k] * f[k];
      }
      sum += sy * (mx + log(se)) - yf;
    }
    return sum / (double)m;
  }
  const double scale = loss == IR_LOSS_MSE ? 1.0 / ((double)m * (double)K)
                                           : 0.5 / (double)m;
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < K; k++) {
      const double r = F[i * K + k] - Y[i * ldy + k];
      sum += r * r;
    }
  return sum * scale;
}

/* s2 = σ''(z) for the smooth activations (ReLU and identity have none). */
static void ir_act_second(ir_act act, const double *z, const double *a,
                          const double *s1, double *s2, size_t len) {
  switch (act) {
  case IR_ACT_TANH:
    for (size_t i = 0; i < len; i++)
      s2[i] = -2.0 * a[i] * s1[i];
    break;
  case IR_ACT_SOFTPLUS:
    for (size_t i = 0; i < len; i++)
      s2[i] = s1[i] * (1.0 - s1[i]);
    break;
  case IR_ACT_GELU:
    for (size_t i = 0; i < len; i++)
      s2[i] = ir_inv_sqrt2pi * exp(-0.5 * z[i] * z[i]) * (2.0 - z[i] * z[i]);
    break;
  default: memset(s2, 0, len * sizeof(double));
  }
}

static int ir_act_smooth(ir_act act) {
  return act == IR_ACT_TANH || act == IR_ACT_SOFTPLUS || act == IR_ACT_GELU;
}

int ir_mlp_act_is_smooth(ir_act act) { return ir_act_smooth(act); }

void ir_mlp_act_second(ir_act act, const double *z, const double *a,
                       const double *s1, double *s2, size_t len) {
  ir_act_second(act, z, a, s1, s2, len);
}

/* ---- the model
 * ---------------------------------------------------------------- */

typedef struct {
  ir_model base;
  ir_mlp_arch a;
  const gsl_matrix *X, *Y;
  size_t L, K;
  size_t cap; /* rows of every per-sample buffer */
  /* batch gathered from X, Y (mini-batches whose rows are not one
   * contiguous run only), xbcap rows; allocated on first use */
  double *Xb, *Yb;
  size_t xbcap;
  /* forward/backward state, per layer l: Z (pre-activation), A (activation,
   * l < L−1), S1 = σ'(Z), S2 = σ''(Z) (smooth activations, on demand),
   * G = ∂L/∂Z, D = ∂L/∂A (l < L−1); P = softmax of the output (CE). */
  double *Z[IR_MLP_MAX_LAYERS], *A[IR_MLP_MAX_LAYERS], *S1[IR_MLP_MAX_LAYERS],
      *S2[IR_MLP_MAX_LAYERS], *G[IR_MLP_MAX_LAYERS], *D[IR_MLP_MAX_LAYERS];
  double *P;
  /* R-operator state: RZ, RA (l < L−1), RG per layer, RD scratch */
  double *RZ[IR_MLP_MAX_LAYERS], *RA[IR_MLP_MAX_LAYERS], *RG[IR_MLP_MAX_LAYERS],
      *RD;
  /* the same for a block of rb vectors (hvp_many): layout [row][vector][unit]
   * so that the block of all vectors is one (m·rb)×width matrix */
  double *BZ[IR_MLP_MAX_LAYERS], *BA[IR_MLP_MAX_LAYERS], *BG[IR_MLP_MAX_LAYERS],
      *BD, *BW, *BH;
  size_t bcap;  /* rows·vectors the block buffers hold */
  size_t bwcap; /* doubles in BW and BH */
  /* which (θ, batch) the forward/backward state belongs to; a gradient
   * call records it (a copy of θ) only once a second-order call has been
   * seen (hvp_seen), so that plain training does not copy θ every step */
  int valid, s2_valid, hvp_seen;
  double *theta_c;
  size_t *idx_c, nb_c, idx_cap;
  int full_c;
  size_t m; /* rows in the current state */
  const double *A0, *Y0;
  size_t lda0, ldy0;
  double loss_c;
  /* small networks (mlp_small.c): the fused kernels' workspace and state;
   * small_state says which layout the cached state is in */
  ir_mlps sm;
  ir_mlp_kernels kernels, last;
  int small_state;
} ir_mlp;

static void ir_mlp_free_buffers(ir_mlp *n) {
  free(n->P);
  free(n->RD);
  for (size_t l = 0; l < IR_MLP_MAX_LAYERS; l++) {
    free(n->Z[l]);
    free(n->A[l]);
    free(n->S1[l]);
    free(n->S2[l]);
    free(n->G[l]);
    free(n->D[l]);
    free(n->RZ[l]);
    free(n->RA[l]);
    free(n->RG[l]);
    n->Z[l] = n->A[l] = n->S1[l] = n->S2[l] = n->G[l] = n->D[l] = NULL;
    n->RZ[l] = n->RA[l] = n->RG[l] = NULL;
  }
  n->P = n->RD = NULL;
  n->cap = 0;
}

static void ir_mlp_free_block(ir_mlp *n) {
  for (size_t l = 0; l < IR_MLP_MAX_LAYERS; l++) {
    free(n->BZ[l]);
    free(n->BA[l]);
    free(n->BG[l]);
    n->BZ[l] = n->BA[l] = n->BG[l] = NULL;
  }
  free(n->BD);
  free(n->BW);
  free(n->BH);
  n->BD = n->BW = n->BH = NULL;
  n->bcap = n->bwcap = 0;
}

static void ir_mlp_destroy(ir_model *m) {
  ir_mlp *n = (ir_mlp *)m;
  ir_mlp_free_buffers(n);
  ir_mlp_free_block(n);
  free(n->Xb);
  free(n->Yb);
  free(n->theta_c);
  free(n->idx_c);
  ir_mlps_free(&n->sm);
  free(n);
}

/* Makes every per-sample buffer hold at least rows rows. */
static int ir_mlp_reserve(ir_mlp *n, size_t rows) {
  if (rows <= n->cap)
    return IR_OK;
  size_t cap = n->cap ? n->cap : 16;
  while (cap < rows)
    cap *= 2;
  if (cap > n->X->size1 && rows <= n->X->size1)
    cap = n->X->size1;
  ir_mlp_free_buffers(n);
  n->valid = 0;
  const size_t K = n->K;
  size_t maxw = 0;
  for (size_t l = 0; l <= n->L; l++)
    if (n->a.width[l] > maxw)
      maxw = n->a.width[l];
  int ok = 1;
#define IR_ALLOC(ptr, cnt)                                                     \
  do {                                                                         \
    (ptr) = malloc((cnt) * sizeof(double));                                    \
    ok = ok && (ptr) != NULL;                                                  \
  } while (0)
  IR_ALLOC(n->P, cap * K);
  IR_ALLOC(n->RD, cap * maxw);
  const int smooth = ir_act_smooth(n->a.act);
  for (size_t l = 0; l < n->L; l++) {
    size_t w = n->a.width[l + 1];
    IR_ALLOC(n->Z[l], cap * w);
    IR_ALLOC(n->G[l], cap * w);
    IR_ALLOC(n->RZ[l], cap * w);
    IR_ALLOC(n->RG[l], cap * w);
    if (l + 1 < n->L) {
      IR_ALLOC(n->A[l], cap * w);
      IR_ALLOC(n->S1[l], cap * w);
      IR_ALLOC(n->D[l], cap * w);
      IR_ALLOC(n->RA[l], cap * w);
      if (smooth)
        IR_ALLOC(n->S2[l], cap * w);
    }
  }
#undef IR_ALLOC
  if (!ok) {
    ir_mlp_free_buffers(n);
    return ir_error(
        IR_ENOMEM, "out of memory (network activations for %zu samples)", rows);
  }
  n->cap = cap;
  return IR_OK;
}

/* Is the cached state that of (θ, batch)? */
static int ir_mlp_cached(const ir_mlp *n, const double *theta,
                         const size_t *idx, size_t nb, int small) {
  if (!n->valid || n->small_state != small)
    return 0;
  if ((idx == NULL) != n->full_c)
    return 0;
  if (idx && (nb != n->nb_c || memcmp(idx, n->idx_c, nb * sizeof(size_t))))
    return 0;
  return memcmp(theta, n->theta_c, n->base.nparams * sizeof(double)) == 0;
}

static int ir_mlp_remember(ir_mlp *n, const double *theta, const size_t *idx,
                           size_t nb) {
  if (idx && nb > n->idx_cap) {
    size_t *p = realloc(n->idx_c, nb * sizeof(size_t));
    if (!p)
      return ir_error(IR_ENOMEM, "out of memory (mini-batch of %zu)", nb);
    n->idx_c = p;
    n->idx_cap = nb;
  }
  if (idx)
    memcpy(n->idx_c, idx, nb * sizeof(size_t));
  n->full_c = idx == NULL;
  n->nb_c = idx ? nb : 0;
  memcpy(n->theta_c, theta, n->base.nparams * sizeof(double));
  n->valid = 1;
  return IR_OK;
}

/* Is idx[0..nb) one run of consecutive rows idx[0], idx[0] + 1, …? */
static int ir_mlp_contiguous(const size_t *idx, size_t nb) {
  for (size_t i = 1; i < nb; i++)
    if (idx[i] != idx[0] + i)
      return 0;
  return 1;
}

/* Points A0/Y0 at the batch: the data themselves for the whole set and for
 * a run of consecutive rows (a strided view, no copy), otherwise rows
 * gathered into Xb, Yb. */
static int ir_mlp_batch(ir_mlp *n, const size_t *idx, size_t nb, int small) {
  const size_t d = n->a.width[0], K = n->K;
  size_t m = idx ? nb : n->X->size1;
  int s = small ? ir_mlps_reserve(&n->sm, &n->a, m) : ir_mlp_reserve(n, m);
  if (s != IR_OK)
    return s;
  n->m = m;
  n->lda0 = n->X->tda;
  n->ldy0 = n->Y->tda;
  if (idx == NULL || ir_mlp_contiguous(idx, nb)) {
    const size_t first = idx ? idx[0] : 0;
    n->A0 = n->X->data + first * n->X->tda;
    n->Y0 = n->Y->data + first * n->Y->tda;
    return IR_OK;
  }
  if (nb > n->xbcap) {
    free(n->Xb);
    free(n->Yb);
    n->Xb = malloc(nb * d * sizeof(double));
    n->Yb = malloc(nb * K * sizeof(double));
    n->xbcap = n->Xb && n->Yb ? nb : 0;
    if (!n->xbcap)
      return ir_error(IR_ENOMEM, "out of memory (mini-batch of %zu rows)",
                      nb);
  }
  for (size_t i = 0; i < nb; i++) {
    memcpy(n->Xb + i * d, n->X->data + idx[i] * n->X->tda, d * sizeof(double));
    memcpy(n->Yb + i * K, n->Y->data + idx[i] * n->Y->tda, K * sizeof(double));
  }
  n->A0 = n->Xb;
  n->lda0 = d;
  n->Y0 = n->Yb;
  n->ldy0 = K;
  return IR_OK;
}

/* The input of layer l and its leading dimension. */
static const double *ir_mlp_input(const ir_mlp *n, size_t l, size_t *ld) {
  if (l == 0) {
    *ld = n->lda0;
    return n->A0;
  }
  *ld = n->a.width[l];
  return n->A[l - 1];
}

/* out (m×o) = in (m×i, leading dim ld) · Wᵀ + beta·out, plus the bias row
 * b when b != NULL (added after the product: one pass, no row copies). */
static void ir_affine(size_t m, size_t i, size_t o, const double *in, size_t ld,
                      const double *W, const double *b, double beta,
                      double *out) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)o, (int)i,
              1.0, in, (int)ld, W, (int)i, beta, out, (int)o);
  if (b != NULL)
    for (size_t r = 0; r < m; r++) {
      double *row = out + r * o;
      for (size_t j = 0; j < o; j++)
        row[j] += b[j];
    }
}

/* Forward pass at θ on the current batch: Z, A, S1 (when want_s1) and the
 * loss; for want_s1 also G_{L−1} = ∂L/∂F (and P for cross-entropy). */
static double ir_mlp_forward(ir_mlp *n, const double *theta, int want_s1) {
  const size_t m = n->m, L = n->L, K = n->K;
  for (size_t l = 0; l < L; l++) {
    size_t in = n->a.width[l], out = n->a.width[l + 1], ld;
    const double *X = ir_mlp_input(n, l, &ld);
    const double *W = theta + ir_mlp_weight_offset(&n->a, l);
    if (l + 1 < L && n->a.act == IR_ACT_RELU) {
      /* Bias, ReLU and its derivative in one pass over Z (the same
       * arithmetic as ir_affine's bias loop and ir_act_forward). */
      ir_affine(m, in, out, X, ld, W, NULL, 0.0, n->Z[l]);
      const double *b = W + in * out;
      double *Z = n->Z[l], *A = n->A[l], *S1 = want_s1 ? n->S1[l] : NULL;
      for (size_t r = 0; r < m; r++) {
        double *z = Z + r * out, *a = A + r * out;
        for (size_t j = 0; j < out; j++) {
          z[j] += b[j];
          a[j] = z[j] > 0 ? z[j] : 0.0;
        }
        if (S1)
          for (size_t j = 0; j < out; j++)
            S1[r * out + j] = z[j] > 0 ? 1.0 : 0.0;
      }
      continue;
    }
    ir_affine(m, in, out, X, ld, W, W + in * out, 0.0, n->Z[l]);
    if (l + 1 < L)
      ir_act_forward(n->a.act, n->Z[l], n->A[l], want_s1 ? n->S1[l] : NULL,
                     m * out);
  }
  const double *F = n->Z[L - 1];
  double *GL = n->G[L - 1];
  double loss = 0;
  if (n->a.loss == IR_LOSS_CE) {
    for (size_t i = 0; i < m; i++) {
      const double *f = F + i * K, *y = n->Y0 + i * n->ldy0;
      double *p = n->P + i * K;
      double mx = f[0];
      for (size_t k = 1; k < K; k++)
        mx = f[k] > mx ? f[k] : mx;
      double se = 0, sy = 0, yf = 0;
      for (size_t k = 0; k < K; k++) {
        p[k] = exp(f[k] - mx);
        se += p[k];
        sy += y[k];
        yf += y[k] * f[k];
      }
      double lse = mx + log(se);
      for (size_t k = 0; k < K; k++)
        p[k] /= se;
      loss += sy * lse - yf;
      if (want_s1)
        for (size_t k = 0; k < K; k++)
          GL[i * K + k] = (sy * p[k] - y[k]) / (double)m;
    }
    return loss / (double)m;
  }
  const double scale = n->a.loss == IR_LOSS_MSE ? 1.0 / ((double)m * (double)K)
                                                : 0.5 / (double)m;
  for (size_t i = 0; i < m; i++) {
    const double *y = n->Y0 + i * n->ldy0;
    for (size_t k = 0; k < K; k++) {
      double r = F[i * K + k] - y[k];
      loss += r * r;
      if (want_s1)
        GL[i * K + k] = 2.0 * scale * r;
    }
  }
  return loss * scale;
}

/* Backward pass from G_{L−1}: every G_l and D_l, and (grad != NULL) the
 * gradient.  The first layer's input gradient is never formed. */
static void ir_mlp_backward(ir_mlp *n, const double *theta, double *grad) {
  const size_t m = n->m, L = n->L;
  for (size_t l = L; l-- > 0;) {
    size_t in = n->a.width[l], out = n->a.width[l + 1], ld;
    const double *X = ir_mlp_input(n, l, &ld);
    const double *G = n->G[l];
    if (grad != NULL) {
      double *gW = grad + ir_mlp_weight_offset(&n->a, l), *gb = gW + in * out;
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in,
                  (int)m, 1.0, G, (int)out, X, (int)ld, 0.0, gW, (int)in);
      memset(gb, 0, out * sizeof(double));
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < out; j++)
          gb[j] += G[i * out + j];
    }
    if (l == 0)
      break;
    const double *W = theta + ir_mlp_weight_offset(&n->a, l);
    double *D = n->D[l - 1], *Gp = n->G[l - 1];
    const double *S1 = n->S1[l - 1];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)in,
                (int)out, 1.0, G, (int)out, W, (int)in, 0.0, D, (int)in);
    for (size_t i = 0; i < m * in; i++)
      Gp[i] = D[i] * S1[i];
  }
}

/* Does a call on nb samples (idx != NULL) or the whole set go through the
 * fused kernels of mlp_small.c? */
static int ir_mlp_small(ir_mlp *n, const size_t *idx, size_t nb) {
  int small;
  if (n->kernels == IR_MLP_KERNELS_AUTO) {
    const size_t m = idx ? nb : n->X->size1;
    small = m >= IR_MLP_SMALL_MIN_ROWS &&
            ir_mlps_flops(&n->a, m) <= IR_MLP_SMALL_FLOPS;
  }
  else
    small = n->kernels == IR_MLP_KERNELS_SMALL;
  n->last = small ? IR_MLP_KERNELS_SMALL : IR_MLP_KERNELS_BLAS;
  return small;
}

/* Forward pass (the loss; with want_grad the state a backward pass reads)
 * on the batch, through either path. */
static int ir_mlp_run_forward(ir_mlp *n, const double *theta,
                              const size_t *idx, size_t nb, int small,
                              int want_grad, double *loss) {
  int s = ir_mlp_batch(n, idx, nb, small);
  if (s != IR_OK)
    return s;
  if (small) {
    ir_mlps_load(&n->sm, n->m, n->A0, n->lda0, n->Y0, n->ldy0,
                 n->A0 != n->Xb);
    *loss = ir_mlps_forward(&n->sm, theta, want_grad);
  } else {
    *loss = ir_mlp_forward(n, theta, want_grad);
  }
  return IR_OK;
}

/* Forward and backward at (θ, batch) unless already cached. */
static int ir_mlp_prepare(ir_mlp *n, const double *theta, const size_t *idx,
                          size_t nb, double *grad, int small) {
  if (grad == NULL && ir_mlp_cached(n, theta, idx, nb, small))
    return IR_OK;
  n->valid = 0;
  int s = ir_mlp_run_forward(n, theta, idx, nb, small, 1, &n->loss_c);
  if (s != IR_OK)
    return s;
  if (small)
    ir_mlps_backward(&n->sm, theta, grad);
  else
    ir_mlp_backward(n, theta, grad);
  n->small_state = small;
  n->s2_valid = 0;
  if (grad != NULL && !n->hvp_seen)
    return IR_OK; /* state left invalid: nothing will ask for it */
  return ir_mlp_remember(n, theta, idx, nb);
}

/* ir_mlp_prepare plus σ''(Z) for the smooth activations: the state every
 * second-order pass (HVP, quadratic form) reads. */
static int ir_mlp_prepare_second(ir_mlp *n, const double *theta,
                                 const size_t *idx, size_t nb, int small) {
  n->hvp_seen = 1;
  int s = ir_mlp_prepare(n, theta, idx, nb, NULL, small);
  if (s != IR_OK)
    return s;
  if (small) {
    if (!n->s2_valid)
      ir_mlps_second(&n->sm, theta);
    n->s2_valid = 1;
  } else if (ir_act_smooth(n->a.act) && !n->s2_valid) {
    for (size_t l = 0; l + 1 < n->L; l++)
      ir_act_second(n->a.act, n->Z[l], n->A[l], n->S1[l], n->S2[l],
                    n->m * n->a.width[l + 1]);
    n->s2_valid = 1;
  }
  return IR_OK;
}

static int ir_mlp_loss_grad(ir_model *m, const double *theta, const size_t *idx,
                            size_t nb, double *loss, double *grad) {
  ir_mlp *n = (ir_mlp *)m;
  const int small = ir_mlp_small(n, idx, nb);
  if (grad == NULL) {
    /* Loss only: a forward pass, leaving any cached state invalid. */
    n->valid = 0;
    return ir_mlp_run_forward(n, theta, idx, nb, small, 0, loss);
  }
  int s = ir_mlp_prepare(n, theta, idx, nb, grad, small);
  if (s != IR_OK)
    return s;
  *loss = n->loss_c;
  return IR_OK;
}

/* R{G_{L−1}} = ∇²_F ℓ · R{F}, the loss Hessian in output space. */
static void ir_mlp_loss_rop(ir_mlp *n) {
  const size_t m = n->m, K = n->K, L = n->L;
  const double *RF = n->RZ[L - 1];
  double *RG = n->RG[L - 1];
  if (n->a.loss == IR_LOSS_CE) {
    /* s_i (diag(p) − ppᵀ) r / m for each row, s_i = Σ_k y_ik. */
    for (size_t i = 0; i < m; i++) {
      const double *p = n->P + i * K, *r = RF + i * K, *y = n->Y0 + i * n->ldy0;
      double pr = 0, sy = 0;
      for (size_t k = 0; k < K; k++) {
        pr += p[k] * r[k];
        sy += y[k];
      }
      for (size_t k = 0; k < K; k++)
        RG[i * K + k] = sy * p[k] * (r[k] - pr) / (double)m;
    }
    return;
  }
  double c = n->a.loss == IR_LOSS_MSE ? 2.0 / ((double)m * (double)K)
                                      : 1.0 / (double)m;
  for (size_t i = 0; i < m * K; i++)
    RG[i] = c * RF[i];
}

static int ir_mlp_hvp(ir_model *mod, const double *theta, const size_t *idx,
                      size_t nb, const double *v, double *hv) {
  ir_mlp *n = (ir_mlp *)mod;
  const int small = ir_mlp_small(n, idx, nb);
  int s = ir_mlp_prepare_second(n, theta, idx, nb, small);
  if (s != IR_OK)
    return s;
  if (small) {
    ir_mlps_hvp(&n->sm, theta, v, hv);
    return IR_OK;
  }
  const size_t m = n->m, L = n->L;
  const int smooth = ir_act_smooth(n->a.act);
  /* R-forward: R{Z_l} = R{A_{l−1}}W_lᵀ + A_{l−1}VW_lᵀ + 1Vb_lᵀ. */
  for (size_t l = 0; l < L; l++) {
    size_t in = n->a.width[l], out = n->a.width[l + 1], ld;
    const double *X = ir_mlp_input(n, l, &ld);
    size_t wo = ir_mlp_weight_offset(&n->a, l);
    const double *VW = v + wo, *W = theta + wo;
    ir_affine(m, in, out, X, ld, VW, VW + in * out, 0.0, n->RZ[l]);
    if (l > 0)
      ir_affine(m, in, out, n->RA[l - 1], in, W, NULL, 1.0, n->RZ[l]);
    if (l + 1 < L) {
      const double *S1 = n->S1[l], *RZ = n->RZ[l];
      double *RA = n->RA[l];
      for (size_t i = 0; i < m * out; i++)
        RA[i] = S1[i] * RZ[i];
    }
  }
  ir_mlp_loss_rop(n);
  /* R-backward. */
  for (size_t l = L; l-- > 0;) {
    size_t in = n->a.width[l], out = n->a.width[l + 1], ld;
    const double *X = ir_mlp_input(n, l, &ld);
    size_t wo = ir_mlp_weight_offset(&n->a, l);
    double *hW = hv + wo, *hb = hW + in * out;
    const double *RG = n->RG[l], *G = n->G[l];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in,
                (int)m, 1.0, RG, (int)out, X, (int)ld, 0.0, hW, (int)in);
    if (l > 0)
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in,
                  (int)m, 1.0, G, (int)out, n->RA[l - 1], (int)in, 1.0, hW,
                  (int)in);
    memset(hb, 0, out * sizeof(double));
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < out; j++)
        hb[j] += RG[i * out + j];
    if (l == 0)
      break;
    /* R{D} = R{G_l}W_l + G_l VW_l;
     * R{G_{l−1}} = R{D} ⊙ σ'(Z) + D ⊙ σ''(Z) ⊙ R{Z}. */
    const double *W = theta + wo, *VW = v + wo;
    double *RD = n->RD;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)in,
                (int)out, 1.0, RG, (int)out, W, (int)in, 0.0, RD, (int)in);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)in,
                (int)out, 1.0, G, (int)out, VW, (int)in, 1.0, RD, (int)in);
    const double *S1 = n->S1[l - 1];
    double *RGp = n->RG[l - 1];
    if (smooth) {
      const double *S2 = n->S2[l - 1], *D = n->D[l - 1], *RZ = n->RZ[l - 1];
      for (size_t i = 0; i < m * in; i++)
        RGp[i] = RD[i] * S1[i] + D[i] * S2[i] * RZ[i];
    } else {
      for (size_t i = 0; i < m * in; i++)
        RGp[i] = RD[i] * S1[i];
    }
  }
  return IR_OK;
}

/* ---- many HVPs at once ------------------------------------------------------
 *
 * The R-operator is linear in V, so r directions go through the same passes
 * together: each product with the inputs or with G becomes one dgemm whose
 * other dimension is r times wider (BLAS level 3 with a wide N instead of r
 * narrow calls), and the products with W_l treat the block as one
 * (m·r)×width matrix.  Same flops as r single HVPs, better dgemm rates. */

static size_t ir_mlp_maxw(const ir_mlp *n) {
  size_t maxw = 0;
  for (size_t l = 0; l <= n->L; l++)
    maxw = n->a.width[l] > maxw ? n->a.width[l] : maxw;
  return maxw;
}

/* Buffers for rows·vectors = mr and gather space for rb vectors. */
static int ir_mlp_reserve_block(ir_mlp *n, size_t mr, size_t rb) {
  size_t maxf = 0;
  for (size_t l = 0; l < n->L; l++) {
    size_t f = n->a.width[l] * n->a.width[l + 1];
    maxf = f > maxf ? f : maxf;
  }
  if (mr <= n->bcap && rb * maxf <= n->bwcap)
    return IR_OK;
  ir_mlp_free_block(n);
  const size_t maxw = ir_mlp_maxw(n);
  int ok = 1;
  for (size_t l = 0; l < n->L; l++) {
    size_t w = n->a.width[l + 1];
    ok = ok && (n->BZ[l] = malloc(mr * w * sizeof(double))) != NULL;
    ok = ok && (n->BG[l] = malloc(mr * w * sizeof(double))) != NULL;
    if (l + 1 < n->L)
      ok = ok && (n->BA[l] = malloc(mr * w * sizeof(double))) != NULL;
  }
  ok = ok && (n->BD = malloc(mr * maxw * sizeof(double))) != NULL;
  ok = ok && (n->BW = malloc(rb * maxf * sizeof(double))) != NULL;
  ok = ok && (n->BH = malloc(rb * maxf * sizeof(double))) != NULL;
  if (!ok) {
    ir_mlp_free_block(n);
    return ir_error(IR_ENOMEM, "out of memory (block of %zu HVPs)", rb);
  }
  n->bcap = mr;
  n->bwcap = rb * maxf;
  return IR_OK;
}

/* Vectors per block: the per-vector state is about m·(3·Σwidths + maxw)
 * doubles; keep a block under 2^23 doubles (64 MB) and at most 32 wide
 * (wider blocks do not raise the dgemm rate further). */
static size_t ir_mlp_block_size(const ir_mlp *n, size_t r) {
  size_t per = 0;
  for (size_t l = 1; l <= n->L; l++)
    per += 3 * n->a.width[l];
  per = n->m * (per + ir_mlp_maxw(n));
  size_t rb = per > 0 ? ((size_t)1 << 23) / per : 32;
  rb = rb < 1 ? 1 : rb > 32 ? 32 : rb;
  return rb > r ? r : rb;
}

/* rb directions V (rows of length p) through the R-passes: HV rows. */
static void ir_mlp_hvp_block(ir_mlp *n, const double *theta, const double *V,
                             double *HV, size_t rb) {
  const size_t m = n->m, L = n->L, p = n->base.nparams, K = n->K;
  const int smooth = ir_act_smooth(n->a.act);
  /* R-forward. */
  for (size_t l = 0; l < L; l++) {
    const size_t in = n->a.width[l], out = n->a.width[l + 1], rw = rb * out;
    size_t ld;
    const double *X = ir_mlp_input(n, l, &ld);
    const size_t wo = ir_mlp_weight_offset(&n->a, l);
    /* BW = [VW^(1); …; VW^(rb)], (rb·out)×in: A·BWᵀ is m×(rb·out), i.e.
     * the [row][vector][unit] layout. */
    for (size_t v = 0; v < rb; v++)
      memcpy(n->BW + v * out * in, V + v * p + wo, out * in * sizeof(double));
    double *RZ = n->BZ[l];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)rw,
                (int)in, 1.0, X, (int)ld, n->BW, (int)in, 0.0, RZ, (int)rw);
    for (size_t i = 0; i < m; i++)
      for (size_t v = 0; v < rb; v++) {
        const double *vb = V + v * p + wo + in * out;
        double *row = RZ + (i * rb + v) * out;
        for (size_t j = 0; j < out; j++)
          row[j] += vb[j];
      }
    if (l > 0)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m * rb),
                  (int)out, (int)in, 1.0, n->BA[l - 1], (int)in, theta + wo,
                  (int)in, 1.0, RZ, (int)out);
    if (l + 1 < L) {
      const double *S1 = n->S1[l];
      double *RA = n->BA[l];
      for (size_t i = 0; i < m; i++)
        for (size_t v = 0; v < rb; v++)
          for (size_t j = 0; j < out; j++)
            RA[(i * rb + v) * out + j] =
                S1[i * out + j] * RZ[(i * rb + v) * out + j];
    }
  }
  /* Loss Hessian in output space, row by row and vector by vector. */
  {
    const double *RF = n->BZ[L - 1];
    double *RG = n->BG[L - 1];
    if (n->a.loss == IR_LOSS_CE) {
      for (size_t i = 0; i < m; i++) {
        const double *pr = n->P + i * K, *y = n->Y0 + i * n->ldy0;
        double sy = 0;
        for (size_t k = 0; k < K; k++)
          sy += y[k];
        for (size_t v = 0; v < rb; v++) {
          const double *r = RF + (i * rb + v) * K;
          double pdot = 0;
          for (size_t k = 0; k < K; k++)
            pdot += pr[k] * r[k];
          for (size_t k = 0; k < K; k++)
            RG[(i * rb + v) * K + k] = sy * pr[k] * (r[k] - pdot) / (double)m;
        }
      }
    } else {
      double c = n->a.loss == IR_LOSS_MSE ? 2.0 / ((double)m * (double)K)
                                          : 1.0 / (double)m;
      for (size_t i = 0; i < m * rb * K; i++)
        RG[i] = c * RF[i];
    }
  }
  /* R-backward. */
  for (size_t l = L; l-- > 0;) {
    const size_t in = n->a.width[l], out = n->a.width[l + 1], rw = rb * out;
    size_t ld;
    const double *X = ir_mlp_input(n, l, &ld);
    const size_t wo = ir_mlp_weight_offset(&n->a, l);
    const double *RG = n->BG[l], *G = n->G[l];
    /* BH = [R{G}^(1) … R{G}^(rb)]ᵀ A: (rb·out)×in, block v = hW^(v). */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)rw, (int)in,
                (int)m, 1.0, RG, (int)rw, X, (int)ld, 0.0, n->BH, (int)in);
    if (l > 0) {
      /* + G_lᵀ R{A}^(v): Gᵀ (out×m) times the m×(rb·in) block; entry
       * (j, v·in + k) belongs to hW^(v)[j][k]. */
      double *T = n->BD; /* out×(rb·in) scratch: fits, out·rb·in <= mr·maxw
                            when out <= m; else fall back per vector */
      if (out <= m) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out,
                    (int)(rb * in), (int)m, 1.0, G, (int)out, n->BA[l - 1],
                    (int)(rb * in), 0.0, T, (int)(rb * in));
        for (size_t v = 0; v < rb; v++)
          for (size_t j = 0; j < out; j++)
            for (size_t k = 0; k < in; k++)
              n->BH[(v * out + j) * in + k] += T[j * rb * in + v * in + k];
      } else {
        for (size_t v = 0; v < rb; v++)
          cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out,
                      (int)in, (int)m, 1.0, G, (int)out, n->BA[l - 1] + v * in,
                      (int)(rb * in), 1.0, n->BH + v * out * in, (int)in);
      }
    }
    for (size_t v = 0; v < rb; v++) {
      double *hW = HV + v * p + wo, *hb = hW + in * out;
      memcpy(hW, n->BH + v * out * in, out * in * sizeof(double));
      memset(hb, 0, out * sizeof(double));
      for (size_t i = 0; i < m; i++) {
        const double *row = RG + (i * rb + v) * out;
        for (size_t j = 0; j < out; j++)
          hb[j] += row[j];
      }
    }
    if (l == 0)
      break;
    /* R{D} = R{G}W_l (one (m·rb)×out by out×in product) + G_l VW^(v)
     * (G_l times [VW^(1) | … | VW^(rb)], out×(rb·in), gathered in BW). */
    double *RD = n->BD;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m * rb),
                (int)in, (int)out, 1.0, RG, (int)out, theta + wo, (int)in, 0.0,
                RD, (int)in);
    for (size_t j = 0; j < out; j++)
      for (size_t v = 0; v < rb; v++)
        memcpy(n->BW + j * rb * in + v * in, V + v * p + wo + j * in,
               in * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m,
                (int)(rb * in), (int)out, 1.0, G, (int)out, n->BW,
                (int)(rb * in), 1.0, RD, (int)(rb * in));
    const double *S1 = n->S1[l - 1];
    double *RGp = n->BG[l - 1];
    const double *S2 = smooth ? n->S2[l - 1] : NULL, *D = n->D[l - 1],
                 *RZ = n->BZ[l - 1];
    for (size_t i = 0; i < m; i++)
      for (size_t v = 0; v < rb; v++) {
        const size_t b = (i * rb + v) * in;
        for (size_t k = 0; k < in; k++) {
          double g = RD[b + k] * S1[i * in + k];
          if (S2)
            g += D[i * in + k] * S2[i * in + k] * RZ[b + k];
          RGp[b + k] = g;
        }
      }
  }
}

/* ---- quadratic forms vᵀHv by forward mode
 * ------------------------------------
 *
 * vᵀ∇²L v is the second derivative of t ↦ L(θ + tv) at 0, which forward
 * mode gives without any backward pass: with Ż, Z̈ the first and second
 * derivatives of the pre-activations along v (W(t) = W + tV is linear, so
 * Z̈ has no V·V term),
 *   Ż_l = Ȧ_{l−1}W_lᵀ + A_{l−1}V_lᵀ + 1vb_lᵀ,   Z̈_l = Ä_{l−1}W_lᵀ +
 * 2Ȧ_{l−1}V_lᵀ, Ȧ_l = σ'⊙Ż_l,   Ä_l = σ''⊙Ż_l⊙Ż_l + σ'⊙Z̈_l   (Ȧ_{−1} = Ä_{−1} =
 * 0), and per sample vᵀHv = Σ_i Ḟ_iᵀ ∇²ℓ_i Ḟ_i + ∇ℓ_iᵀ F̈_i.  For the first
 * layer only A₀V₀ᵀ is needed: one input-sized dgemm per vector instead of
 * the two of an HVP, so Hutchinson's estimator costs half. */

static void ir_mlp_quad_block(ir_mlp *n, const double *theta, const double *V,
                              double *q, size_t rb) {
  const size_t m = n->m, L = n->L, p = n->base.nparams, K = n->K;
  const int smooth = ir_act_smooth(n->a.act);
  for (size_t l = 0; l < L; l++) {
    const size_t in = n->a.width[l], out = n->a.width[l + 1], rw = rb * out;
    size_t ld;
    const double *X = ir_mlp_input(n, l, &ld);
    const size_t wo = ir_mlp_weight_offset(&n->a, l);
    for (size_t v = 0; v < rb; v++)
      memcpy(n->BW + v * out * in, V + v * p + wo, out * in * sizeof(double));
    double *Zd = n->BZ[l], *Zdd = n->BG[l];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)rw,
                (int)in, 1.0, X, (int)ld, n->BW, (int)in, 0.0, Zd, (int)rw);
    for (size_t i = 0; i < m; i++)
      for (size_t v = 0; v < rb; v++) {
        const double *vb = V + v * p + wo + in * out;
        double *row = Zd + (i * rb + v) * out;
        for (size_t j = 0; j < out; j++)
          row[j] += vb[j];
      }
    if (l == 0) {
      memset(Zdd, 0, m * rw * sizeof(double));
    } else {
      const double *Ad = n->BA[l - 1], *Add = n->BG[l - 1];
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m * rb),
                  (int)out, (int)in, 1.0, Ad, (int)in, theta + wo, (int)in, 1.0,
                  Zd, (int)out);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m * rb),
                  (int)out, (int)in, 1.0, Add, (int)in, theta + wo, (int)in,
                  0.0, Zdd, (int)out);
      for (size_t v = 0; v < rb; v++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)out,
                    (int)in, 2.0, Ad + v * in, (int)(rb * in), V + v * p + wo,
                    (int)in, 1.0, Zdd + v * out, (int)rw);
    }
    if (l + 1 < L) {
      const double *S1 = n->S1[l], *S2 = smooth ? n->S2[l] : NULL;
      double *Ad = n->BA[l];
      for (size_t i = 0; i < m; i++)
        for (size_t v = 0; v < rb; v++)
          for (size_t j = 0; j < out; j++) {
            const size_t b = (i * rb + v) * out + j;
            const double zd = Zd[b];
            Ad[b] = S1[i * out + j] * zd;
            /* Ä in place of Z̈ (BG[l]) */
            Zdd[b] = S1[i * out + j] * Zdd[b] +
                     (S2 ? S2[i * out + j] * zd * zd : 0.0);
          }
    }
  }
  const double *Fd = n->BZ[L - 1], *Fdd = n->BG[L - 1], *G = n->G[L - 1];
  for (size_t v = 0; v < rb; v++)
    q[v] = 0;
  for (size_t i = 0; i < m; i++) {
    const double *y = n->Y0 + i * n->ldy0, *pr = n->P + i * K;
    double sy = 0;
    if (n->a.loss == IR_LOSS_CE)
      for (size_t k = 0; k < K; k++)
        sy += y[k];
    for (size_t v = 0; v < rb; v++) {
      const double *fd = Fd + (i * rb + v) * K, *fdd = Fdd + (i * rb + v) * K;
      double gn = 0, ff = 0, pf = 0, pff = 0;
      for (size_t k = 0; k < K; k++) {
        gn += G[i * K + k] * fdd[k];
        ff += fd[k] * fd[k];
        if (n->a.loss == IR_LOSS_CE) {
          pf += pr[k] * fd[k];
          pff += pr[k] * fd[k] * fd[k];
        }
      }
      double hf;
      if (n->a.loss == IR_LOSS_CE)
        hf = sy * (pff - pf * pf) / (double)m;
      else if (n->a.loss == IR_LOSS_MSE)
        hf = 2.0 * ff / ((double)m * (double)K);
      else
        hf = ff / (double)m;
      q[v] += hf + gn;
    }
  }
}

/* r directions through hvp_block (out: r×p products) or quad_block (out:
 * r forms), in blocks of ir_mlp_block_size. */
static int ir_mlp_many(ir_model *mod, const double *theta, const size_t *idx,
                       size_t nb, const double *V, double *out, size_t r,
                       int quad) {
  ir_mlp *n = (ir_mlp *)mod;
  /* Quadratic forms always take the BLAS path (its forward-mode kernel has
   * no fused twin); HVPs of small networks go one by one through the fused
   * kernels. */
  int small = 0;
  if (quad) {
    n->last = IR_MLP_KERNELS_BLAS;
  } else {
    small = ir_mlp_small(n, idx, nb);
  }
  int s = ir_mlp_prepare_second(n, theta, idx, nb, small);
  if (s != IR_OK)
    return s;
  const size_t p = n->base.nparams;
  if (small) {
    for (size_t j = 0; j < r; j++)
      ir_mlps_hvp(&n->sm, theta, V + j * p, out + j * p);
    return IR_OK;
  }
  const size_t rb = ir_mlp_block_size(n, r);
  if ((s = ir_mlp_reserve_block(n, n->m * rb, rb)) != IR_OK)
    return s;
  for (size_t j = 0; j < r; j += rb) {
    size_t w = r - j < rb ? r - j : rb;
    if (quad)
      ir_mlp_quad_block(n, theta, V + j * p, out + j, w);
    else
      ir_mlp_hvp_block(n, theta, V + j * p, out + j * p, w);
  }
  return IR_OK;
}

static int ir_mlp_hvp_many(ir_model *mod, const double *theta,
                           const size_t *idx, size_t nb, const double *V,
                           double *HV, size_t r) {
  return ir_mlp_many(mod, theta, idx, nb, V, HV, r, 0);
}

static int ir_mlp_quad_many(ir_model *mod, const double *theta,
                            const size_t *idx, size_t nb, const double *V,
                            double *q, size_t r) {
  return ir_mlp_many(mod, theta, idx, nb, V, q, r, 1);
}

/* Forward pass on arbitrary inputs with two ping-pong buffers. */
static int ir_mlp_predict(ir_model *mod, const double *theta,
                          const gsl_matrix *X, gsl_matrix *out) {
  ir_mlp *n = (ir_mlp *)mod;
  const size_t rows = X->size1, L = n->L;
  size_t maxw = 0;
  for (size_t l = 1; l <= L; l++)
    if (n->a.width[l] > maxw)
      maxw = n->a.width[l];
  double *buf[2] = {malloc(rows * maxw * sizeof(double) + 1),
                    malloc(rows * maxw * sizeof(double) + 1)};
  if (!buf[0] || !buf[1]) {
    free(buf[0]);
    free(buf[1]);
    return ir_error(IR_ENOMEM, "out of memory (prediction on %zu rows)", rows);
  }
  const double *in = X->data;
  size_t ld = X->tda;
  for (size_t l = 0; l < L; l++) {
    size_t i = n->a.width[l], o = n->a.width[l + 1];
    const double *W = theta + ir_mlp_weight_offset(&n->a, l);
    double *z = buf[l % 2];
    ir_affine(rows, i, o, in, ld, W, W + i * o, 0.0, z);
    if (l + 1 < L)
      ir_act_forward(n->a.act, z, z, NULL, rows * o);
    in = z;
    ld = o;
  }
  for (size_t r = 0; r < rows; r++)
    memcpy(out->data + r * out->tda, in + r * n->K, n->K * sizeof(double));
  free(buf[0]);
  free(buf[1]);
  return IR_OK;
}

static const ir_model_ops ir_mlp_ops = {
    "mlp",          ir_mlp_loss_grad, ir_mlp_hvp,      ir_mlp_predict,
    ir_mlp_destroy, ir_mlp_hvp_many,  ir_mlp_quad_many};

static int ir_mlp_check_data(const ir_mlp_arch *a, const gsl_matrix *X,
                             const gsl_matrix *Y) {
  const size_t d = a->width[0], K = a->width[a->nlayers];
  if (a->nlayers < 1 || a->nlayers > IR_MLP_MAX_LAYERS)
    return ir_error(IR_EINVAL, "network needs 1 to %d linear layers, got %zu",
                    IR_MLP_MAX_LAYERS, a->nlayers);
  if ((unsigned)a->act > IR_ACT_IDENTITY || (unsigned)a->loss > IR_LOSS_CE)
    return ir_error(IR_EINVAL, "unknown activation or loss code");
  if (X->size2 != d)
    return ir_error(IR_ESHAPE, "inputs have %zu columns, the network takes %zu",
                    X->size2, d);
  if (Y->size1 != X->size1)
    return ir_error(IR_ESHAPE, "%zu input rows but %zu target rows", X->size1,
                    Y->size1);
  if (Y->size2 != K)
    return ir_error(IR_ESHAPE,
                    "targets have %zu columns, the network has %zu outputs%s",
                    Y->size2, K,
                    a->loss == IR_LOSS_CE ? " (cross-entropy takes one-hot "
                                            "rows)"
                                          : "");
  if (a->loss == IR_LOSS_CE && K < 2)
    return ir_error(IR_EINVAL,
                    "cross-entropy needs at least 2 outputs (got %zu)", K);
  for (size_t i = 0; i < X->size1; i++) {
    for (size_t j = 0; j < d; j++)
      if (!isfinite(X->data[i * X->tda + j]))
        return ir_error(IR_EBADDATA, "input row %zu, column %zu is not finite",
                        i, j);
    for (size_t k = 0; k < K; k++) {
      double y = Y->data[i * Y->tda + k];
      if (!isfinite(y))
        return ir_error(IR_EBADDATA, "target row %zu, column %zu is not finite",
                        i, k);
      if (a->loss == IR_LOSS_CE && y < 0)
        return ir_error(IR_EBADDATA,
                        "cross-entropy target row %zu, column %zu is negative "
                        "(%g); targets are one-hot or probabilities",
                        i, k, y);
    }
  }
  return IR_OK;
}

ir_model *ir_model_mlp_alloc(const ir_mlp_arch *arch, const gsl_matrix *X,
                             const gsl_matrix *Y) {
  if (ir_mlp_check_data(arch, X, Y) != IR_OK)
    return NULL;
  if (X->size1 == 0) {
    ir_error(IR_EINVAL, "no training samples");
    return NULL;
  }
  ir_mlp *n = calloc(1, sizeof *n);
  if (n == NULL) {
    ir_error(IR_ENOMEM, "out of memory (network)");
    return NULL;
  }
  n->a = *arch;
  n->L = arch->nlayers;
  n->K = arch->width[arch->nlayers];
  n->X = X;
  n->Y = Y;
  n->base.ops = &ir_mlp_ops;
  n->base.nparams = ir_mlp_nparams(arch);
  n->base.nsamples = X->size1;
  n->base.nin = arch->width[0];
  n->base.nout = n->K;
  n->base.loss_name = ir_loss_formula(arch->loss);
  n->theta_c = malloc(n->base.nparams * sizeof(double));
  if (n->theta_c == NULL) {
    free(n);
    ir_error(IR_ENOMEM, "out of memory (network with %zu parameters)",
             ir_mlp_nparams(arch));
    return NULL;
  }
  return &n->base;
}

ir_model *ir_model_logistic_alloc(const gsl_matrix *X, const gsl_matrix *Y) {
  ir_mlp_arch a = {0};
  a.nlayers = 1;
  a.width[0] = X->size2;
  a.width[1] = Y->size2;
  a.act = IR_ACT_IDENTITY;
  a.loss = IR_LOSS_CE;
  return ir_model_mlp_alloc(&a, X, Y);
}

int ir_model_mlp_set_kernels(ir_model *m, ir_mlp_kernels k) {
  if (m == NULL || m->ops != &ir_mlp_ops)
    return ir_error(IR_EINVAL, "ir_model_mlp_set_kernels: not a network model");
  if ((unsigned)k > IR_MLP_KERNELS_SMALL)
    return ir_error(IR_EINVAL, "ir_model_mlp_set_kernels: unknown choice %d",
                    (int)k);
  ir_mlp *n = (ir_mlp *)m;
  n->kernels = k;
  n->valid = 0;
  return IR_OK;
}

ir_mlp_kernels ir_model_mlp_last_kernels(const ir_model *m) {
  if (m == NULL || m->ops != &ir_mlp_ops)
    return IR_MLP_KERNELS_AUTO;
  return ((const ir_mlp *)m)->last;
}

const ir_mlp_arch *ir_model_mlp_arch(const ir_model *m) {
  if (m == NULL || m->ops != &ir_mlp_ops)
    return NULL;
  return &((const ir_mlp *)m)->a;
}

int ir_mlp_accuracy(ir_model *m, const gsl_vector *theta, const gsl_matrix *X,
                    const gsl_matrix *Y, double *acc) {
  if (Y->size1 != X->size1 || Y->size2 != m->nout)
    return ir_error(IR_ESHAPE,
                    "accuracy: %zu rows of %zu targets for %zu "
                    "inputs and %zu outputs",
                    Y->size1, Y->size2, X->size1, m->nout);
  if (X->size1 == 0)
    return ir_error(IR_EINVAL, "accuracy on no samples");
  gsl_matrix *out = gsl_matrix_alloc(X->size1, m->nout);
  if (out == NULL)
    return ir_error(IR_ENOMEM, "out of memory (accuracy)");
  int s = ir_model_predict(m, theta, X, out);
  if (s != IR_OK) {
    gsl_matrix_free(out);
    return s;
  }
  size_t hit = 0;
  for (size_t i = 0; i < X->size1; i++) {
    size_t a = 0, b = 0;
    for (size_t k = 1; k < m->nout; k++) {
      if (gsl_matrix_get(out, i, k) > gsl_matrix_get(out, i, a))
        a = k;
      if (gsl_matrix_get(Y, i, k) > gsl_matrix_get(Y, i, b))
        b = k;
    }
    hit += a == b;
  }
  gsl_matrix_free(out);
  *acc = (double)hit / (double)X->size1;
  return IR_OK;
}
