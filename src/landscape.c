/* landscape.c — directions, slices and paths through the loss, and the
 * rescalings of homogeneous networks (see implreg/landscape.h). */
#include "implreg/landscape.h"

#include "implreg/rng.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h> /* brings gsl_cblas.h (docs/stack.md trap 2) */
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ls_check_vec(const gsl_vector *v, size_t p, const char *what) {
  if (v == NULL)
    return ir_error(IR_EINVAL, "landscape: no %s", what);
  if (v->size != p || v->stride != 1)
    return ir_error(IR_ESHAPE,
                    "landscape: %s has %zu entries (stride %zu), need %zu "
                    "contiguous",
                    what, v->size, v->stride, p);
  return IR_OK;
}

int ir_landscape_normalize(const ir_mlp_arch *arch, const gsl_vector *theta,
                           gsl_vector *d) {
  if (theta == NULL)
    return ir_error(IR_EINVAL, "landscape: no θ");
  const size_t p = theta->size;
  int s = ls_check_vec(theta, p, "θ");
  if (s == IR_OK)
    s = ls_check_vec(d, p, "direction");
  if (s != IR_OK)
    return s;
  if (arch == NULL) { /* no layers: the whole vector */
    const double nt = gsl_blas_dnrm2(theta), nd = gsl_blas_dnrm2(d);
    gsl_vector_scale(d, nd > 0 ? nt / nd : 0.0);
    return IR_OK;
  }
  if (ir_mlp_nparams(arch) != p)
    return ir_error(IR_ESHAPE, "landscape: θ has %zu entries, the network %zu",
                    p, ir_mlp_nparams(arch));
  for (size_t l = 0; l < arch->nlayers; l++) {
    const size_t in = arch->width[l], out = arch->width[l + 1];
    const size_t w0 = ir_mlp_weight_offset(arch, l),
                 b0 = ir_mlp_bias_offset(arch, l);
    for (size_t u = 0; u < out; u++) { /* row u: the weights into unit u */
      const double *tr = theta->data + w0 + u * in;
      double *dr = d->data + w0 + u * in;
      const double nt = cblas_dnrm2((int)in, tr, 1),
                   nd = cblas_dnrm2((int)in, dr, 1);
      cblas_dscal((int)in, nd > 0 ? nt / nd : 0.0, dr, 1);
    }
    memset(d->data + b0, 0, out * sizeof(double));
  }
  return IR_OK;
}

int ir_landscape_direction(const ir_mlp_arch *arch, const gsl_vector *theta,
                           unsigned long seed, uint64_t stream, gsl_vector *d) {
  if (d == NULL || theta == NULL)
    return ir_error(IR_EINVAL, "landscape: no θ or direction");
  int s = ls_check_vec(d, theta->size, "direction");
  if (s != IR_OK)
    return s;
  if (seed == 0)
    return ir_error(IR_EINVAL, "landscape: seed 0 (seeds start at 1)");
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (r == NULL)
    return IR_ENOMEM; /* message recorded */
  for (size_t i = 0; i < d->size; i++)
    d->data[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
  ir_rng_free(r);
  return ir_landscape_normalize(arch, theta, d);
}

/* L(θ + a·d1 + b·d2) (d2 may be NULL) into *loss; x is scratch. */
static int ls_loss_at(ir_model *m, const gsl_vector *theta,
                      const gsl_vector *d1, double a, const gsl_vector *d2,
                      double b, const size_t *idx, size_t nb, gsl_vector *x,
                      double *loss) {
  gsl_vector_memcpy(x, theta);
  gsl_blas_daxpy(a, d1, x);
  if (d2 != NULL)
    gsl_blas_daxpy(b, d2, x);
  return ir_model_loss_grad(m, x, idx, nb, loss, NULL);
}

static int ls_check_model(const ir_model *m, const gsl_vector *theta,
                          const gsl_vector *d1, const gsl_vector *d2) {
  if (m == NULL)
    return ir_error(IR_EINVAL, "landscape: no model");
  int s = ls_check_vec(theta, m->nparams, "θ");
  if (s == IR_OK)
    s = ls_check_vec(d1, m->nparams, "direction");
  if (s == IR_OK && d2 != NULL)
    s = ls_check_vec(d2, m->nparams, "second direction");
  return s;
}

int ir_landscape_slice(ir_model *m, const gsl_vector *theta,
                       const gsl_vector *d, const size_t *idx, size_t nb,
                       const double *t, size_t nt, double *loss) {
  int s = ls_check_model(m, theta, d, NULL);
  if (s != IR_OK)
    return s;
  if (t == NULL || loss == NULL || nt == 0)
    return ir_error(IR_EINVAL, "landscape: no points for the slice");
  gsl_vector *x = gsl_vector_alloc(m->nparams);
  if (x == NULL)
    return ir_error(IR_ENOMEM, "landscape: out of memory");
  for (size_t i = 0; i < nt && s == IR_OK; i++)
    s = ls_loss_at(m, theta, d, t[i], NULL, 0, idx, nb, x, &loss[i]);
  gsl_vector_free(x);
  return s;
}

int ir_landscape_slice2(ir_model *m, const gsl_vector *theta,
                        const gsl_vector *d1, const gsl_vector *d2,
                        const size_t *idx, size_t nb, const double *s_,
                        size_t ns, const double *t, size_t nt, double *loss) {
  int s = ls_check_model(m, theta, d1, d2);
  if (s != IR_OK)
    return s;
  if (d2 == NULL || s_ == NULL || t == NULL || loss == NULL || ns == 0 ||
      nt == 0)
    return ir_error(IR_EINVAL, "landscape: no grid for the 2-D slice");
  gsl_vector *x = gsl_vector_alloc(m->nparams);
  if (x == NULL)
    return ir_error(IR_ENOMEM, "landscape: out of memory");
  for (size_t i = 0; i < ns && s == IR_OK; i++)
    for (size_t j = 0; j < nt && s == IR_OK; j++)
      s = ls_loss_at(m, theta, d1, s_[i], d2, t[j], idx, nb, x,
                     &loss[i * nt + j]);
  gsl_vector_free(x);
  return s;
}

int ir_landscape_path(ir_model *m, const gsl_vector *theta_a,
                      const gsl_vector *theta_b, const size_t *idx, size_t nb,
                      size_t npts, double *loss, double *barrier) {
  int s = ls_check_model(m, theta_a, theta_b, NULL);
  if (s != IR_OK)
    return s;
  if (npts < 2 || loss == NULL || barrier == NULL)
    return ir_error(IR_EINVAL, "landscape: a path needs >= 2 points and "
                               "outputs");
  gsl_vector *x = gsl_vector_alloc(m->nparams);
  if (x == NULL)
    return ir_error(IR_ENOMEM, "landscape: out of memory");
  for (size_t i = 0; i < npts && s == IR_OK; i++) {
    /* (1 − t)θ_a + tθ_b, formed so that t = 0 and t = 1 give the ends
     * exactly. */
    const double t = (double)i / (double)(npts - 1);
    for (size_t k = 0; k < m->nparams; k++)
      x->data[k] = i == npts - 1 ? theta_b->data[k]
                                 : (1 - t) * theta_a->data[k] +
                                       t * theta_b->data[k];
    s = ir_model_loss_grad(m, x, idx, nb, &loss[i], NULL);
  }
  gsl_vector_free(x);
  if (s != IR_OK)
    return s;
  double bar = 0;
  for (size_t i = 0; i < npts; i++) {
    const double t = (double)i / (double)(npts - 1);
    bar = fmax(bar, loss[i] - ((1 - t) * loss[0] + t * loss[npts - 1]));
  }
  *barrier = bar;
  return IR_OK;
}

/* The checks both rescalings share. */
static int ls_check_rescale(const ir_mlp_arch *arch, const gsl_vector *theta,
                            const gsl_vector *out) {
  if (arch == NULL)
    return ir_error(IR_EINVAL, "rescale: no architecture");
  if (arch->act != IR_ACT_RELU && arch->act != IR_ACT_IDENTITY)
    return ir_error(IR_EINVAL,
                    "rescale: activation %s is not positively homogeneous "
                    "(only relu and identity keep the function)",
                    ir_act_name(arch->act));
  if (arch->nlayers < 2)
    return ir_error(IR_EINVAL, "rescale: a network with one layer has no "
                               "pair of layers to rescale");
  const size_t p = ir_mlp_nparams(arch);
  int s = ls_check_vec(theta, p, "θ");
  if (s == IR_OK)
    s = ls_check_vec(out, p, "output");
  return s;
}

static void ls_scale(double *x, size_t n, double a) {
  for (size_t i = 0; i < n; i++)
    x[i] *= a;
}

int ir_mlp_rescale(const ir_mlp_arch *arch, const gsl_vector *theta, size_t l,
                   double alpha, gsl_vector *out) {
  int s = ls_check_rescale(arch, theta, out);
  if (s != IR_OK)
    return s;
  if (l + 1 >= arch->nlayers)
    return ir_error(IR_EINVAL, "rescale: layer %zu has no next layer "
                    "(%zu layers)", l, arch->nlayers);
  if (!(alpha > 0) || !isfinite(alpha))
    return ir_error(IR_EINVAL, "rescale: alpha = %g, need a finite alpha > 0",
                    alpha);
  if (out != theta)
    gsl_vector_memcpy(out, theta);
  const size_t in = arch->width[l], mid = arch->width[l + 1],
               o2 = arch->width[l + 2];
  ls_scale(out->data + ir_mlp_weight_offset(arch, l), in * mid, alpha);
  ls_scale(out->data + ir_mlp_bias_offset(arch, l), mid, alpha);
  ls_scale(out->data + ir_mlp_weight_offset(arch, l + 1), mid * o2,
           1.0 / alpha);
  return IR_OK;
}

int ir_mlp_balance(const ir_mlp_arch *arch, const gsl_vector *theta,
                   gsl_vector *out) {
  int s = ls_check_rescale(arch, theta, out);
  if (s != IR_OK)
    return s;
  const size_t L = arch->nlayers;
  double nrm[IR_MLP_MAX_LAYERS], logg = 0;
  for (size_t l = 0; l < L; l++) {
    nrm[l] = cblas_dnrm2((int)(arch->width[l] * arch->width[l + 1]),
                         theta->data + ir_mlp_weight_offset(arch, l), 1);
    if (!(nrm[l] > 0) || !isfinite(nrm[l]))
      return ir_error(IR_EDOM, "balance: layer %zu's weights have norm %g",
                      l, nrm[l]);
    logg += log(nrm[l]) / (double)L; /* geometric mean without overflow */
  }
  if (out != theta)
    gsl_vector_memcpy(out, theta);
  double cum = 1; /* c_0·…·c_l: the bias factor */
  for (size_t l = 0; l < L; l++) {
    const double c = exp(logg) / nrm[l];
    cum *= c;
    ls_scale(out->data + ir_mlp_weight_offset(arch, l),
             arch->width[l] * arch->width[l + 1], c);
    /* The output layer's factor is 1/(c_0…c_{L−2}) up to rounding, so its
     * bias keeps its scale: use exactly 1 there. */
    ls_scale(out->data + ir_mlp_bias_offset(arch, l), arch->width[l + 1],
             l + 1 == L ? 1.0 : cum);
  }
  return IR_OK;
}

/* ---- Batched slices of a network ----------------------------------------- */

int ir_landscape_slice_mlp(const ir_mlp_arch *arch, const gsl_matrix *X,
                           const gsl_matrix *Y, const gsl_vector *theta,
                           const gsl_vector *d1, const gsl_vector *d2,
                           const double *s_, size_t ns, const double *t,
                           size_t nt, double *loss) {
  if (arch == NULL || X == NULL || Y == NULL || theta == NULL)
    return ir_error(IR_EINVAL, "landscape: no network, data or θ");
  const size_t p = ir_mlp_nparams(arch), L = arch->nlayers, n = X->size1,
               d = arch->width[0], H = arch->width[1], K = arch->width[L];
  int s = ls_check_vec(theta, p, "θ");
  if (s == IR_OK)
    s = ls_check_vec(d1, p, "direction");
  if (s == IR_OK && d2 != NULL)
    s = ls_check_vec(d2, p, "second direction");
  if (s != IR_OK)
    return s;
  if (n == 0 || X->size2 != d || Y->size1 != n || Y->size2 != K)
    return ir_error(IR_ESHAPE, "landscape: X is %zu×%zu and Y %zu×%zu, the "
                    "network needs n×%zu and n×%zu with n >= 1",
                    X->size1, X->size2, Y->size1, Y->size2, d, K);
  if (s_ == NULL || loss == NULL || ns == 0 ||
      (d2 != NULL && (t == NULL || nt == 0)) ||
      (d2 == NULL && (t != NULL || nt != 0)))
    return ir_error(IR_EINVAL, "landscape: no points for the slice (a 1-D "
                               "slice has d2 = t = NULL, nt = 0)");
  const size_t nd = d2 != NULL ? 3 : 2, npts = d2 != NULL ? ns * nt : ns;
  size_t wmax = 0;
  for (size_t l = 1; l <= L; l++)
    wmax = arch->width[l] > wmax ? arch->width[l] : wmax;
  double *Wst = malloc(nd * H * d * sizeof(double)),
         *A = malloc(n * nd * H * sizeof(double)),
         *B0 = malloc(n * wmax * sizeof(double)),
         *B1 = malloc(n * wmax * sizeof(double));
  gsl_vector *x = gsl_vector_alloc(p);
  if (!Wst || !A || !B0 || !B1 || !x) {
    s = ir_error(IR_ENOMEM, "landscape: out of memory (batched slice, n = "
                            "%zu, p = %zu)", n, p);
    goto done;
  }
  /* A = X [W₁; D₁; D₂]ᵀ: n × nd·H, block c the pre-activations of
   * matrix c without bias. */
  const size_t wlen = H * d, b1off = ir_mlp_bias_offset(arch, 0);
  memcpy(Wst, theta->data, wlen * sizeof(double));
  memcpy(Wst + wlen, d1->data, wlen * sizeof(double));
  if (d2 != NULL)
    memcpy(Wst + 2 * wlen, d2->data, wlen * sizeof(double));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)(nd * H),
              (int)d, 1.0, X->data, (int)X->tda, Wst, (int)d, 0.0, A,
              (int)(nd * H));
  for (size_t q = 0; q < npts; q++) {
    const double a = d2 != NULL ? s_[q / nt] : s_[q],
                 b = d2 != NULL ? t[q % nt] : 0.0;
    /* θ + a·d1 + b·d2 from the first bias on (the later layers' weights
     * and every bias), formed as ir_landscape_slice2 forms it. */
    const size_t tail = p - b1off;
    memcpy(x->data + b1off, theta->data + b1off, tail * sizeof(double));
    cblas_daxpy((int)tail, a, d1->data + b1off, 1, x->data + b1off, 1);
    if (d2 != NULL)
      cblas_daxpy((int)tail, b, d2->data + b1off, 1, x->data + b1off, 1);
    const double *bias = x->data + b1off;
    for (size_t i = 0; i < n; i++) {
      const double *r = A + i * nd * H;
      double *z = B0 + i * H;
      if (d2 != NULL)
        for (size_t u = 0; u < H; u++)
          z[u] = r[u] + a * r[H + u] + b * r[2 * H + u] + bias[u];
      else
        for (size_t u = 0; u < H; u++)
          z[u] = r[u] + a * r[H + u] + bias[u];
    }
    double *in = B0, *out = B1;
    for (size_t l = 1; l < L; l++) {
      ir_mlp_activate(arch->act, in, in, n * arch->width[l]);
      const size_t wi = arch->width[l], wo = arch->width[l + 1];
      const double *W = x->data + ir_mlp_weight_offset(arch, l),
                   *bl = x->data + ir_mlp_bias_offset(arch, l);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)wo,
                  (int)wi, 1.0, in, (int)wi, W, (int)wi, 0.0, out, (int)wo);
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < wo; j++)
          out[i * wo + j] += bl[j];
      double *tmp = in;
      in = out;
      out = tmp;
    }
    loss[q] = ir_mlp_output_loss(arch->loss, in, n, K, Y->data, Y->tda);
  }
done:
  free(Wst);
  free(A);
  free(B0);
  free(B1);
  if (x)
    gsl_vector_free(x);
  return s;
}
