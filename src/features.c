/* features.c — feature maps with nested columns: identity, random Fourier
 * features (phase and [cos, sin] pair variants), random ReLU features (plain
 * and centered), circulant FFT-structured random Fourier features, and the
 * 1-D Legendre and Fourier bases.  See features.h for the maths. */
#include "implreg/features.h"

#include "implreg/linalg.h"
#include "implreg/rng.h"
#include "implreg/status.h"

#include <fftw3.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2π: the phases b_j of random Fourier features are uniform on [0, 2π). */
#define IR_TWO_PI 6.283185307179586476925286766559
/* π, spelled out: M_PI is not part of strict C17. */
#define IR_PI 3.14159265358979323846264338327950288
/* √2, the norm factor of the Fourier basis under dx/2 on [−1, 1]. */
#define IR_SQRT2 1.41421356237309504880168872420969808
/* 1/√(2π): E[max(0, z)] = s/√(2π) for z ~ N(0, s²). */
#define IR_INV_SQRT_2PI 0.398942280401432677939946059934381868

struct ir_features {
  int kind;
  size_t d, Nmax;
  double sigma;
  gsl_matrix *W; /* rff, relu, relu-centered: Nmax×d; rff-pair: ⌈Nmax/2⌉×d */
  double *b;     /* rff, relu: Nmax phases (zero for relu); fft: nblocks·dp
                    phases; legendre: the factors √(2k+1), k < Nmax */
  /* IR_FEAT_FFT only. */
  size_t dp;          /* padded length d' of the circulant blocks */
  size_t nblocks;     /* ⌈Nmax/d'⌉ */
  fftw_complex *ghat; /* nblocks × (d'/2+1): FFT(g_t)/(σ d') */
  double *sgn;        /* nblocks × d: the signs s_t */
  double *rbuf;       /* d' real scratch (also plan input/output) */
  fftw_complex *cbuf; /* d'/2+1 complex scratch */
  fftw_plan fwd, inv; /* r2c rbuf -> cbuf and c2r cbuf -> rbuf */
};

static int is_random(int kind) {
  return kind == IR_FEAT_RFF || kind == IR_FEAT_RELU ||
         kind == IR_FEAT_RFF_PAIR || kind == IR_FEAT_RELU_CENTERED ||
         kind == IR_FEAT_FFT || kind == IR_FEAT_RELU_SPHERE;
}

static int is_basis_1d(int kind) {
  return kind == IR_FEAT_LEGENDRE || kind == IR_FEAT_FOURIER ||
         kind == IR_FEAT_FOURIER_WEIGHTED;
}

static int is_known(int kind) {
  return is_random(kind) || kind == IR_FEAT_IDENTITY || is_basis_1d(kind);
}

/* The smallest n >= d whose only prime factors are 2, 3, 5 and 7: FFTW has
 * hard-coded kernels for those factors, so such lengths are the fastest. */
static size_t fft_length(size_t d) {
  for (size_t n = d;; n++) {
    size_t q = n;
    static const size_t primes[] = {2, 3, 5, 7};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
      while (q % primes[i] == 0)
        q /= primes[i];
    if (q == 1)
      return n;
  }
}

/* a·b, or 0 when the product of nonzero a and b would overflow a count of
 * doubles (the callers treat 0 as "too large"). */
static size_t count_mul(size_t a, size_t b) {
  if (a != 0 && b > SIZE_MAX / sizeof(double) / a)
    return 0;
  return a * b;
}

void ir_features_free(ir_features *f) {
  if (f == NULL)
    return;
  if (f->W)
    gsl_matrix_free(f->W);
  free(f->b);
  if (f->fwd)
    fftw_destroy_plan(f->fwd);
  if (f->inv)
    fftw_destroy_plan(f->inv);
  fftw_free(f->ghat);
  fftw_free(f->rbuf);
  fftw_free(f->cbuf);
  free(f->sgn);
  free(f);
}

/* Where the random parameters come from: one shared generator (draw order
 * of ir_features_alloc) or, per feature (per pair, per block), its own
 * stream (seed, ir_rng_stream(IR_STREAM_FEATURES, stream, j)) — the
 * ir_features_alloc_streams order, under which feature j is the same
 * whatever Nmax is. */
typedef struct {
  gsl_rng *shared;
  unsigned long seed;
  uint64_t stream;
  gsl_rng *own; /* the current per-feature generator */
} draw_src;

/* The generator for feature (pair, block) j; NULL when out of memory. */
static gsl_rng *draw_rng(draw_src *src, size_t j) {
  if (src->shared != NULL)
    return src->shared;
  ir_rng_free(src->own);
  src->own = ir_rng_alloc(
      src->seed, ir_rng_stream(IR_STREAM_FEATURES, src->stream, (uint64_t)j));
  return src->own;
}

/* Per-feature draws of rff/relu (w_j, then b_j, from stream j) for
 * features j0..j1−1: one worker of draw_dense_streams. */
typedef struct {
  ir_features *f;
  unsigned long seed;
  uint64_t stream;
  size_t j0, j1;
  double sd;
  int status;
} draw_job;

static void *draw_dense_range(void *arg) {
  draw_job *jb = arg;
  ir_features *f = jb->f;
  draw_src src = {NULL, jb->seed, jb->stream, NULL};
  jb->status = IR_OK;
  for (size_t j = jb->j0; j < jb->j1; j++) {
    gsl_rng *rj = draw_rng(&src, j);
    if (rj == NULL) {
      jb->status = IR_ENOMEM;
      break;
    }
    double *w = f->W->data + j * f->W->tda;
    for (size_t i = 0; i < f->d; i++)
      w[i] = gsl_ran_gaussian(rj, jb->sd);
    f->b[j] = f->kind == IR_FEAT_RFF ? IR_TWO_PI * gsl_rng_uniform(rj) : 0.0;
  }
  ir_rng_free(src.own);
  return NULL;
}

/* Features are drawn by up to this many threads (each feature from its own
 * stream, so the numbers do not depend on the split). */
#define IR_DRAW_THREADS 2

static int draw_dense_streams(ir_features *f, const draw_src *src,
                              double sd) {
  const size_t Nmax = f->Nmax;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t nt = cpus > 1 && Nmax >= 256 ? IR_DRAW_THREADS : 1;
  draw_job jobs[IR_DRAW_THREADS];
  pthread_t tid[IR_DRAW_THREADS];
  int started[IR_DRAW_THREADS] = {0};
  for (size_t t = 0; t < nt; t++) {
    jobs[t] = (draw_job){f,           src->seed, src->stream,
                         Nmax * t / nt, Nmax * (t + 1) / nt, sd, IR_OK};
    if (t > 0)
      started[t] = pthread_create(&tid[t], NULL, draw_dense_range,
                                  &jobs[t]) == 0;
  }
  draw_dense_range(&jobs[0]);
  int status = jobs[0].status;
  for (size_t t = 1; t < nt; t++) {
    if (started[t])
      pthread_join(tid[t], NULL);
    else
      draw_dense_range(&jobs[t]); /* no thread: this one does it */
    if (jobs[t].status != IR_OK)
      status = jobs[t].status;
  }
  return status == IR_OK ? IR_OK
                         : ir_error(status, "out of memory (feature draws)");
}

/* Allocates the circulant blocks of IR_FEAT_FFT and draws them from src in
 * the order documented in features.h. */
static int alloc_fft(ir_features *f, draw_src *src) {
  const size_t d = f->d, dp = fft_length(d), nc = dp / 2 + 1;
  f->dp = dp;
  f->nblocks = (f->Nmax + dp - 1) / dp;
  if (dp > INT_MAX || count_mul(f->nblocks, dp) == 0 ||
      count_mul(f->nblocks, 2 * nc) == 0)
    return ir_error(IR_EINVAL, "fft features too large (d' = %zu, %zu blocks)",
                    dp, f->nblocks);
  f->ghat = fftw_alloc_complex(f->nblocks * nc);
  f->sgn = malloc(f->nblocks * d * sizeof(double));
  f->b = malloc(f->nblocks * dp * sizeof(double));
  f->rbuf = fftw_alloc_real(dp);
  f->cbuf = fftw_alloc_complex(nc);
  if (!f->ghat || !f->sgn || !f->b || !f->rbuf || !f->cbuf)
    return ir_error(IR_ENOMEM, "out of memory (%zu fft blocks of length %zu)",
                    f->nblocks, dp);
  /* FFTW_ESTIMATE: the plan, hence every bit of the result, does not depend
   * on timings (docs/stack.md trap 8), and planning does not touch the arrays.
   */
  f->fwd = fftw_plan_dft_r2c_1d((int)dp, f->rbuf, f->cbuf, FFTW_ESTIMATE);
  f->inv = fftw_plan_dft_c2r_1d((int)dp, f->cbuf, f->rbuf, FFTW_ESTIMATE);
  if (!f->fwd || !f->inv)
    return ir_error(IR_ENOMEM, "FFTW could not plan a transform of length %zu",
                    dp);
  /* FFTW's c2r transform is unnormalized (it returns d'·u for the r2c
   * transform of u), so 1/d' is folded into ĝ together with 1/σ. */
  const double scale = 1.0 / (f->sigma * (double)dp);
  for (size_t t = 0; t < f->nblocks; t++) {
    gsl_rng *r = draw_rng(src, t);
    if (r == NULL)
      return IR_ENOMEM;
    for (size_t k = 0; k < dp; k++)
      f->rbuf[k] = gsl_ran_gaussian(r, 1.0);
    fftw_execute(f->fwd);
    fftw_complex *gh = f->ghat + t * nc;
    for (size_t q = 0; q < nc; q++) {
      gh[q][0] = scale * f->cbuf[q][0];
      gh[q][1] = scale * f->cbuf[q][1];
    }
    for (size_t k = 0; k < d; k++)
      f->sgn[t * d + k] = gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
    for (size_t q = 0; q < dp; q++)
      f->b[t * dp + q] = IR_TWO_PI * gsl_rng_uniform(r);
  }
  return IR_OK;
}

static ir_features *features_alloc(int kind, size_t d, size_t Nmax,
                                   double sigma, draw_src *src) {
  gsl_rng *r = src->shared;
  if (!is_known(kind)) {
    ir_error(IR_EINVAL, "unknown feature kind %d", kind);
    return NULL;
  }
  const int random = is_random(kind);
  if (d == 0 || Nmax == 0 || (random && (!(sigma > 0) || !isfinite(sigma)))) {
    ir_error(IR_EINVAL,
             "features need d >= 1, N >= 1 and a scale > 0 (got d = "
             "%zu, N = %zu, sigma = %g)",
             d, Nmax, sigma);
    return NULL;
  }
  if (random && r == NULL && src->seed == 0) {
    ir_error(IR_EINVAL, "%s features need a random generator (r is NULL)",
             ir_features_name(kind));
    return NULL;
  }
  if (kind == IR_FEAT_IDENTITY && Nmax > d) {
    ir_error(IR_EINVAL, "identity features need N <= d (got N = %zu, d = %zu)",
             Nmax, d);
    return NULL;
  }
  if (is_basis_1d(kind) && d != 1) {
    ir_error(IR_EINVAL, "%s features are a 1-D basis: d must be 1 (got %zu)",
             ir_features_name(kind), d);
    return NULL;
  }
  const size_t rows = kind == IR_FEAT_RFF_PAIR ? (Nmax + 1) / 2 : Nmax;
  if (count_mul(rows, d) == 0) {
    ir_error(IR_EINVAL, "%zu features of dimension %zu are too many", Nmax, d);
    return NULL;
  }
  ir_features *f = calloc(1, sizeof *f);
  if (f == NULL) {
    ir_error(IR_ENOMEM, "out of memory (features)");
    return NULL;
  }
  f->kind = kind;
  f->d = d;
  f->Nmax = Nmax;
  f->sigma = sigma;
  int status = IR_OK;
  switch (kind) {
  case IR_FEAT_RFF:
  case IR_FEAT_RELU:
    /* Kept exactly as first written: committed results use this draw. */
    f->W = ir_matrix_alloc_big(Nmax, d);
    f->b = malloc(Nmax * sizeof(double));
    if (!f->W || !f->b) {
      status = ir_error(
          IR_ENOMEM, "out of memory (%zu features of dimension %zu)", Nmax, d);
      break;
    }
    {
      const double sd =
          kind == IR_FEAT_RFF ? 1.0 / sigma : sigma / sqrt((double)d);
      if (r != NULL) {
        for (size_t j = 0; j < Nmax; j++)
          for (size_t i = 0; i < d; i++)
            gsl_matrix_set(f->W, j, i, gsl_ran_gaussian(r, sd));
        for (size_t j = 0; j < Nmax; j++)
          f->b[j] = kind == IR_FEAT_RFF ? IR_TWO_PI * gsl_rng_uniform(r) : 0.0;
        break;
      }
      /* Per-feature streams: w_j, then b_j, from stream j — in parallel
       * (draw_dense_streams), the same numbers whatever the threads. */
      status = draw_dense_streams(f, src, sd);
    }
    break;
  case IR_FEAT_RFF_PAIR:
  case IR_FEAT_RELU_CENTERED:
    f->W = ir_matrix_alloc_big(rows, d);
    if (!f->W) {
      status = ir_error(
          IR_ENOMEM, "out of memory (%zu features of dimension %zu)", Nmax, d);
      break;
    }
    {
      /* Same standard deviations, and for relu-centered the same draw, as
       * rff and relu. */
      const double sd =
          kind == IR_FEAT_RFF_PAIR ? 1.0 / sigma : sigma / sqrt((double)d);
      for (size_t j = 0; j < rows; j++) {
        gsl_rng *rj = draw_rng(src, j);
        if (rj == NULL) {
          status = IR_ENOMEM;
          break;
        }
        for (size_t i = 0; i < d; i++)
          gsl_matrix_set(f->W, j, i, gsl_ran_gaussian(rj, sd));
      }
    }
    break;
  case IR_FEAT_RELU_SPHERE:
    /* w_j uniform on the sphere of radius σ: a Gaussian row normalized
     * (Muller 1959), so that ⟨w_j, x⟩ = σ⟨θ_j, x⟩/√d with θ_j uniform on
     * the sphere of radius √d, as in Mei & Montanari. */
    f->W = ir_matrix_alloc_big(Nmax, d);
    if (!f->W) {
      status = ir_error(
          IR_ENOMEM, "out of memory (%zu features of dimension %zu)", Nmax, d);
      break;
    }
    for (size_t j = 0; j < Nmax; j++) {
      gsl_rng *rj = draw_rng(src, j);
      if (rj == NULL) {
        status = IR_ENOMEM;
        break;
      }
      double ss = 0;
      for (size_t i = 0; i < d; i++) {
        const double g = gsl_ran_gaussian(rj, 1.0);
        gsl_matrix_set(f->W, j, i, g);
        ss += g * g;
      }
      gsl_vector_view row = gsl_matrix_row(f->W, j);
      gsl_vector_scale(&row.vector, ss > 0 ? sigma / sqrt(ss) : 0.0);
    }
    break;
  case IR_FEAT_FFT: status = alloc_fft(f, src); break;
  case IR_FEAT_LEGENDRE:
    f->b = malloc(Nmax * sizeof(double));
    if (!f->b) {
      status =
          ir_error(IR_ENOMEM, "out of memory (%zu Legendre factors)", Nmax);
      break;
    }
    for (size_t k = 0; k < Nmax; k++)
      f->b[k] = sqrt(2.0 * (double)k + 1.0);
    break;
  default: /* identity and fourier need no parameters. */ break;
  }
  if (status != IR_OK) {
    ir_features_free(f);
    return NULL;
  }
  return f;
}

ir_features *ir_features_alloc(int kind, size_t d, size_t Nmax, double sigma,
                               gsl_rng *r) {
  draw_src src = {r, 0, 0, NULL};
  return features_alloc(kind, d, Nmax, sigma, &src);
}

ir_features *ir_features_alloc_streams(int kind, size_t d, size_t Nmax,
                                       double sigma, unsigned long seed,
                                       uint64_t stream) {
  if (seed == 0) {
    ir_error(IR_EINVAL, "features: seed must be >= 1");
    return NULL;
  }
  draw_src src = {NULL, seed, stream, NULL};
  ir_features *f = features_alloc(kind, d, Nmax, sigma, &src);
  ir_rng_free(src.own);
  return f;
}

int ir_features_params(const ir_features *f, gsl_matrix *W, gsl_vector *b) {
  if (f->kind != IR_FEAT_RFF && f->kind != IR_FEAT_RELU &&
      f->kind != IR_FEAT_RELU_CENTERED && f->kind != IR_FEAT_RELU_SPHERE)
    return ir_error(IR_EINVAL,
                    "features: %s has no per-feature (w_j, b_j) to export",
                    ir_features_name(f->kind));
  if (W->size1 != f->Nmax || W->size2 != f->d ||
      (b != NULL && b->size != f->Nmax))
    return ir_error(IR_ESHAPE,
                    "features: parameters are %zux%zu (and %zu phases)",
                    f->Nmax, f->d, f->Nmax);
  gsl_matrix_memcpy(W, f->W);
  if (b != NULL)
    for (size_t j = 0; j < f->Nmax; j++)
      gsl_vector_set(b, j, f->b != NULL ? f->b[j] : 0.0);
  return IR_OK;
}

double ir_features_norm(const ir_features *f, size_t N) {
  if (N == 0)
    return NAN;
  switch (f->kind) {
  case IR_FEAT_RFF:
  case IR_FEAT_RFF_PAIR:
  case IR_FEAT_FFT: return sqrt(2.0 / (double)N);
  case IR_FEAT_RELU:
  case IR_FEAT_RELU_SPHERE:
  case IR_FEAT_RELU_CENTERED: return sqrt(1.0 / (double)N);
  default: return 1.0;
  }
}

/* ---- cos without libm, vectorizable (ir_features_cos) ---------------------
 *
 * cos x = ±cos r or ±sin r with x = kπ/2 + r, |r| <= π/4 (plus a hair):
 * k = nearest integer to x·2/π (the 1.5·2⁵² trick, exact for |x·2/π| <
 * 2⁵¹), r = x − kπ/2 by Cody and Waite's three-part π/2: the first two
 * parts have 33 significant bits, so k·P1 and k·P2 are exact for |k| < 2²⁰
 * and r carries the error of P3's rounding only (~2⁻¹²³·k).  sin r and cos r
 * from their Taylor series through r¹⁵ and r¹⁶ (truncation below
 * r¹⁷/17! <= 4.6e-17 on |r| <= π/4), by Horner in r².  No branch in the loop:
 * both polynomials are evaluated and the quadrant selects.  An array with
 * an argument |x| > IR_COS_MAX (or not finite) goes to libm's cos.  Accuracy measured
 * against libm (tests/test_features.c) over |x| <= IR_COS_MAX: within 2
 * ulp of 1 (absolute 4.5e-16). */
#define IR_COS_MAX 1.0e5
static const double cos_p1 = 0x1.921fb54400000p+0;  /* π/2, first 33 bits */
static const double cos_p2 = 0x1.0b4611a600000p-34; /* next 33 bits */
static const double cos_p3 = 0x1.3198a2e037073p-69; /* the rest, rounded */
static const double cos_2opi = 0x1.45f306dc9c883p-1; /* 2/π */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&         \
    !defined(__SANITIZE_ADDRESS__)
#define IR_COS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define IR_COS_CLONES
#endif

/* Branch-free and without double→integer conversions (both keep GCC from
 * vectorizing under the default trapping-math rules): the quadrant comes
 * from the bits of the rounded value, the selections are bit masks.
 * Arguments must satisfy |x| <= IR_COS_MAX (ir_features_cos checks).  x
 * and y may be the same array (no restrict: the compiler checks overlap at
 * run time; element i is read before it is written). */
IR_COS_CLONES
static void cos_kernel(const double *x, double *y, size_t n) {
  const double magic = 0x1.8p52; /* (v + magic) − magic rounds v, |v| < 2⁵¹ */
  for (size_t i = 0; i < n; i++) {
    const double t = x[i];
    const double qd = t * cos_2opi + magic;
    const double k = qd - magic;
    /* The low bits of qd's significand are k mod 2⁵¹ (two's complement). */
    uint64_t q, us, uc;
    memcpy(&q, &qd, sizeof q);
    const double r = ((t - k * cos_p1) - k * cos_p2) - k * cos_p3;
    const double z = r * r;
    const double sp =
        r + r * z *
                (-1.0 / 6 +
                 z * (1.0 / 120 +
                      z * (-1.0 / 5040 +
                           z * (1.0 / 362880 +
                                z * (-1.0 / 39916800 +
                                     z * (1.0 / 6227020800.0 +
                                          z * (-1.0 / 1307674368000.0)))))));
    const double cp =
        1.0 - 0.5 * z +
        z * z *
            (1.0 / 24 +
             z * (-1.0 / 720 +
                  z * (1.0 / 40320 +
                       z * (-1.0 / 3628800 +
                            z * (1.0 / 479001600 +
                                 z * (-1.0 / 87178291200.0 +
                                      z * (1.0 / 20922789888000.0)))))));
    /* k mod 4 = 0: cos r; 1: −sin r; 2: −cos r; 3: sin r. */
    memcpy(&us, &sp, sizeof us);
    memcpy(&uc, &cp, sizeof uc);
    const uint64_t odd = 0 - (q & 1u);
    const uint64_t u = ((us & odd) | (uc & ~odd)) ^ (((q + 1u) & 2u) << 62);
    memcpy(&y[i], &u, sizeof u);
  }
}

void ir_features_cos(const double *x, double *y, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad |= !(fabs(x[i]) <= IR_COS_MAX);
  if (!bad) {
    cos_kernel(x, y, n);
    return;
  }
  for (size_t i = 0; i < n; i++) /* rare: a huge or non-finite argument */
    y[i] = cos(x[i]);
}

/* Euclidean norm of the n doubles at x. */
static double norm2(const double *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * x[i];
  return sqrt(s);
}

/* Projections of the rows of X on the first `rows` rows of W, into the first
 * `rows` columns of Phi: one dgemm. */
static void project(const ir_features *f, const gsl_matrix *X, size_t rows,
                    gsl_matrix *Phi) {
  gsl_matrix_const_view W = gsl_matrix_const_submatrix(f->W, 0, 0, rows, f->d);
  gsl_matrix_view P = gsl_matrix_submatrix(Phi, 0, 0, Phi->size1, rows);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, X, &W.matrix, 0.0, &P.matrix);
}

/* rff, relu (unchanged from the first version, bit for bit) and
 * relu-centered: columns j0..j1−1 of the map at normalization Nn into the
 * j1 − j0 columns of Phi (the whole map at N: j0 = 0, j1 = Nn = N). */
static void apply_dense(const ir_features *f, const gsl_matrix *X, size_t j0,
                        size_t j1, size_t Nn, gsl_matrix *Phi) {
  const size_t N = j1 - j0;
  gsl_matrix_const_view W =
      gsl_matrix_const_submatrix(f->W, j0, 0, N, f->d);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, X, &W.matrix, 0.0, Phi);
  const double scale =
      f->kind == IR_FEAT_RFF ? sqrt(2.0 / (double)Nn) : sqrt(1.0 / (double)Nn);
  /* σ/√(2πd) times ‖x‖ is the mean of max(0, wᵀx) over w ~ N(0, σ²I/d). */
  const double mean_factor = f->sigma * IR_INV_SQRT_2PI / sqrt((double)f->d);
  const double *b = f->b != NULL ? f->b + j0 : NULL;
  for (size_t i = 0; i < Phi->size1; i++) {
    double *row = Phi->data + i * Phi->tda;
    if (f->kind == IR_FEAT_RFF) {
      for (size_t j = 0; j < N; j++)
        row[j] += b[j];
      ir_features_cos(row, row, N);
      for (size_t j = 0; j < N; j++)
        row[j] *= scale;
    } else if (f->kind == IR_FEAT_RELU || f->kind == IR_FEAT_RELU_SPHERE) {
      for (size_t j = 0; j < N; j++)
        row[j] = row[j] > 0 ? scale * row[j] : 0.0;
    } else {
      const double mu = mean_factor * norm2(X->data + i * X->tda, f->d);
      for (size_t j = 0; j < N; j++)
        row[j] = scale * ((row[j] > 0 ? row[j] : 0.0) - mu);
    }
  }
}

int ir_features_apply_cols(const ir_features *f, const gsl_matrix *X,
                           size_t j0, size_t j1, size_t Nn, gsl_matrix *Phi) {
  if (f->kind != IR_FEAT_RFF && f->kind != IR_FEAT_RELU &&
      f->kind != IR_FEAT_RELU_SPHERE && f->kind != IR_FEAT_RELU_CENTERED)
    return ir_error(IR_EINVAL, "features: %s has no column-block apply",
                    ir_features_name(f->kind));
  if (X->size2 != f->d)
    return ir_error(IR_ESHAPE, "inputs have %zu columns, features expect %zu",
                    X->size2, f->d);
  if (!(j0 < j1 && j1 <= f->Nmax && Nn >= 1))
    return ir_error(IR_EINVAL, "feature columns %zu..%zu outside 0..%zu",
                    j0, j1, f->Nmax);
  if (Phi->size1 != X->size1 || Phi->size2 != j1 - j0)
    return ir_error(IR_ESHAPE, "feature block is %zux%zu, expected %zux%zu",
                    Phi->size1, Phi->size2, X->size1, j1 - j0);
  apply_dense(f, X, j0, j1, Nn, Phi);
  return IR_OK;
}

/* rff-pair: the ⌈N/2⌉ projections go into the first columns of each row and
 * are expanded in place from the right: step k reads column k and writes
 * columns 2k and 2k+1 >= k, and later steps only read columns < k, so no
 * projection is overwritten before it is used. */
static void apply_pair(const ir_features *f, const gsl_matrix *X, size_t N,
                       gsl_matrix *Phi) {
  const size_t pairs = (N + 1) / 2;
  project(f, X, pairs, Phi);
  const double c = sqrt(2.0 / (double)N);
  for (size_t i = 0; i < Phi->size1; i++) {
    double *row = Phi->data + i * Phi->tda;
    for (size_t k = pairs; k-- > 0;) {
      const double a = row[k];
      if (2 * k + 1 < N)
        row[2 * k + 1] = c * sin(a);
      row[2 * k] = c * cos(a);
    }
  }
}

/* fft: per row and block t, v = C(g_t) D_t x̃ / σ = IFFT(ĝ_t ⊙ FFT(s_t ⊙ x̃)),
 * with 1/(σ d') already in ĝ_t; the cyclic convolution theorem turns the
 * d'×d' circulant product into two FFTs. */
static void apply_fft(const ir_features *f, const gsl_matrix *X, size_t N,
                      gsl_matrix *Phi) {
  const size_t d = f->d, dp = f->dp, nc = dp / 2 + 1;
  const size_t blocks = (N + dp - 1) / dp;
  const double scale = sqrt(2.0 / (double)N);
  double *u = f->rbuf;
  fftw_complex *uh = f->cbuf;
  for (size_t i = 0; i < X->size1; i++) {
    const double *x = X->data + i * X->tda;
    double *row = Phi->data + i * Phi->tda;
    for (size_t t = 0; t < blocks; t++) {
      const double *s = f->sgn + t * d;
      for (size_t k = 0; k < d; k++)
        u[k] = s[k] * x[k];
      for (size_t k = d; k < dp; k++)
        u[k] = 0.0;
      fftw_execute(f->fwd);
      fftw_complex *gh = f->ghat + t * nc;
      for (size_t q = 0; q < nc; q++) {
        const double re = uh[q][0] * gh[q][0] - uh[q][1] * gh[q][1];
        const double im = uh[q][0] * gh[q][1] + uh[q][1] * gh[q][0];
        uh[q][0] = re;
        uh[q][1] = im;
      }
      fftw_execute(f->inv);
      const size_t first = t * dp, count = N - first < dp ? N - first : dp;
      const double *b = f->b + first;
      for (size_t q = 0; q < count; q++)
        row[first + q] = scale * cos(u[q] + b[q]);
    }
  }
}

static void apply_legendre(const ir_features *f, const gsl_matrix *X, size_t N,
                           gsl_matrix *Phi) {
  for (size_t i = 0; i < X->size1; i++) {
    const double x = X->data[i * X->tda];
    double *row = Phi->data + i * Phi->tda;
    double pm = 1.0, p = x; /* P_{k−1}, P_k */
    row[0] = 1.0;
    if (N > 1)
      row[1] = f->b[1] * x;
    for (size_t k = 1; k + 1 < N; k++) {
      const double kk = (double)k;
      const double pn = ((2 * kk + 1) * x * p - kk * pm) / (kk + 1);
      pm = p;
      p = pn;
      row[k + 1] = f->b[k + 1] * p;
    }
  }
}

/* Direct cos and sin rather than the angle-addition recurrence, whose
 * rounding errors grow with the frequency. */
static void apply_fourier(const gsl_matrix *X, size_t N, int weighted,
                          gsl_matrix *Phi) {
  for (size_t i = 0; i < X->size1; i++) {
    const double x = X->data[i * X->tda];
    double *row = Phi->data + i * Phi->tda;
    row[0] = 1.0;
    for (size_t j = 1; j < N; j++) {
      const double k = (double)((j + 1) / 2);
      const double a = IR_PI * k * x;
      const double c = weighted ? IR_SQRT2 / k : IR_SQRT2;
      row[j] = c * (j % 2 == 1 ? cos(a) : sin(a));
    }
  }
}

int ir_features_apply(const ir_features *f, const gsl_matrix *X, size_t N,
                      gsl_matrix *Phi) {
  if (X->size2 != f->d)
    return ir_error(IR_ESHAPE, "inputs have %zu columns, features expect %zu",
                    X->size2, f->d);
  if (N == 0 || N > f->Nmax)
    return ir_error(IR_EINVAL, "model size N = %zu outside 1..%zu", N, f->Nmax);
  if (Phi->size1 != X->size1 || Phi->size2 != N)
    return ir_error(IR_ESHAPE, "feature matrix is %zux%zu, expected %zux%zu",
                    Phi->size1, Phi->size2, X->size1, N);
  if (is_basis_1d(f->kind))
    for (size_t i = 0; i < X->size1; i++) {
      const double x = X->data[i * X->tda];
      if (!(fabs(x) <= 1.0))
        return ir_error(IR_EDOM, "%s basis: input %zu is %g, outside [-1, 1]",
                        ir_features_name(f->kind), i, x);
    }
  switch (f->kind) {
  case IR_FEAT_IDENTITY: {
    gsl_matrix_const_view Xn = gsl_matrix_const_submatrix(X, 0, 0, X->size1, N);
    gsl_matrix_memcpy(Phi, &Xn.matrix);
    break;
  }
  case IR_FEAT_RFF_PAIR: apply_pair(f, X, N, Phi); break;
  case IR_FEAT_FFT: apply_fft(f, X, N, Phi); break;
  case IR_FEAT_LEGENDRE: apply_legendre(f, X, N, Phi); break;
  case IR_FEAT_FOURIER: apply_fourier(X, N, 0, Phi); break;
  case IR_FEAT_FOURIER_WEIGHTED: apply_fourier(X, N, 1, Phi); break;
  default: apply_dense(f, X, 0, N, N, Phi); break;
  }
  return IR_OK;
}

/* ‖x_i − x_j‖ for rows i and j of X. */
static double row_distance(const gsl_matrix *X, size_t i, size_t j) {
  const double *a = X->data + i * X->tda, *b = X->data + j * X->tda;
  double s = 0;
  for (size_t k = 0; k < X->size2; k++)
    s += (a[k] - b[k]) * (a[k] - b[k]);
  return sqrt(s);
}

int ir_features_median_heuristic(const gsl_matrix *X, size_t max_pairs,
                                 gsl_rng *r, double *sigma) {
  const size_t n = X->size1;
  if (n < 2)
    return ir_error(IR_EINVAL,
                    "median heuristic needs at least 2 points (got %zu)", n);
  if (max_pairs == 0)
    return ir_error(IR_EINVAL, "median heuristic needs max_pairs >= 1");
  /* Checked up front, so that the message names the bad entry. */
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < X->size2; k++) {
      const double v = X->data[i * X->tda + k];
      if (!isfinite(v))
        return ir_error(IR_EBADDATA,
                        "median heuristic: X[%zu][%zu] = %g is not finite", i,
                        k, v);
    }
  /* n(n−1)/2 without overflow: halve the even factor first. */
  const size_t a = n % 2 == 0 ? n / 2 : n, b = n % 2 == 0 ? n - 1 : (n - 1) / 2;
  const int all = b <= max_pairs / a && a * b <= max_pairs;
  const size_t K = all ? a * b : max_pairs;
  if (!all && r == NULL)
    return ir_error(IR_EINVAL,
                    "median heuristic: %zu points have more than %zu pairs, "
                    "and sampling them needs a random generator",
                    n, max_pairs);
  if (K > SIZE_MAX / sizeof(double))
    return ir_error(IR_ENOMEM, "median heuristic: %zu pairs are too many", K);
  double *dist = malloc(K * sizeof(double));
  if (dist == NULL)
    return ir_error(IR_ENOMEM, "out of memory (%zu pairwise distances)", K);
  size_t c = 0;
  if (all) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++)
        dist[c++] = row_distance(X, i, j);
  } else {
    /* A uniform ordered pair of distinct indices: j uniform over the n − 1
     * indices other than i.  Its unordered version is uniform too. */
    for (; c < K; c++) {
      const size_t i = (size_t)gsl_rng_uniform_int(r, n);
      size_t j = (size_t)gsl_rng_uniform_int(r, n - 1);
      if (j >= i)
        j++;
      dist[c] = row_distance(X, i, j);
    }
  }
  for (size_t k = 0; k < K; k++)
    if (!isfinite(dist[k])) {
      const double bad = dist[k];
      free(dist);
      return ir_error(IR_EBADDATA,
                      "median heuristic: a pairwise distance is %g (the data "
                      "are too large)",
                      bad);
    }
  /* gsl_stats_median selects in place (quickselect), in O(K) expected time. */
  const double med = gsl_stats_median(dist, 1, K);
  free(dist);
  if (!(med > 0))
    return ir_error(IR_EDOM,
                    "median heuristic: the median distance is 0 (more than "
                    "half of the %zu pairs coincide)",
                    K);
  *sigma = med;
  return IR_OK;
}

/* Names and kinds, in the order the error message lists them. */
static const struct {
  const char *name;
  int kind;
} feature_names[] = {{"identity", IR_FEAT_IDENTITY},
                     {"rff", IR_FEAT_RFF},
                     {"rff-pair", IR_FEAT_RFF_PAIR},
                     {"relu", IR_FEAT_RELU},
                     {"relu-centered", IR_FEAT_RELU_CENTERED},
                     {"fft", IR_FEAT_FFT},
                     {"legendre", IR_FEAT_LEGENDRE},
                     {"fourier", IR_FEAT_FOURIER},
                     {"relu-sphere", IR_FEAT_RELU_SPHERE},
                     {"fourier-weighted", IR_FEAT_FOURIER_WEIGHTED}};

#define IR_N_FEATURE_NAMES (sizeof feature_names / sizeof feature_names[0])

int ir_features_parse(const char *name, int *kind) {
  for (size_t i = 0; i < IR_N_FEATURE_NAMES; i++)
    if (strcmp(name, feature_names[i].name) == 0) {
      *kind = feature_names[i].kind;
      return IR_OK;
    }
  return ir_error(IR_EINVAL,
                  "unknown feature map '%s' (expected identity, rff, rff-pair, "
                  "relu, relu-centered, relu-sphere, fft, legendre, fourier or "
                  "fourier-weighted)",
                  name);
}

const char *ir_features_name(int kind) {
  for (size_t i = 0; i < IR_N_FEATURE_NAMES; i++)
    if (feature_names[i].kind == kind)
      return feature_names[i].name;
  return "unknown";
}
