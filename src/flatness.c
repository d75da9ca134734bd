/* flatness.c — the flatness measures of an end point and the rescaling
 * study (flatness.h). */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>

#include "implreg/curvature.h"
#include "implreg/flatness.h"
#include "implreg/landscape.h"
#include "implreg/rng.h"
#include "implreg/sharpness.h"
#include "implreg/status.h"

void ir_flatness_params_default(ir_flatness_params *p) {
  memset(p, 0, sizeof *p);
  p->lanczos_tol = 1e-8;
  p->trace_probes = 30;
  p->exact_max_p = 600;
  p->sharp_eps = 1e-3;
  p->sharp_rank = 100;
  p->sharp_iter = 20;
  p->balanced = 1;
  p->seed = 1;
  p->stream = ir_rng_stream(IR_STREAM_PROBE, 100, 0);
}

static int check_params(const ir_flatness_params *p) {
  if (p == NULL)
    return ir_error(IR_EINVAL, "flatness: NULL parameters");
  if (!(p->lanczos_tol > 0 && p->lanczos_tol < 1))
    return ir_error(IR_EINVAL, "flatness: lanczos_tol = %g outside (0, 1)",
                    p->lanczos_tol);
  if (p->trace_probes < 2)
    return ir_error(IR_EINVAL, "flatness: trace_probes = %zu < 2 (no "
                               "standard error)", p->trace_probes);
  if (!(p->sharp_eps > 0) || !isfinite(p->sharp_eps))
    return ir_error(IR_EINVAL, "flatness: sharp_eps = %g must be > 0",
                    p->sharp_eps);
  if (p->sharp_iter < 1)
    return ir_error(IR_EINVAL, "flatness: sharp_iter = 0");
  if (p->seed < 1)
    return ir_error(IR_EINVAL, "flatness: seed 0 (seeds start at 1)");
  return IR_OK;
}

/* λ_max of op by Lanczos from a random start.  One value is wanted, not
 * its multiplicity, so the deflated certification runs are skipped. */
static int top_eig(ir_linop *op, const ir_flatness_params *p, uint64_t stream,
                   double *value, double *res, int *conv, size_t *hvps,
                   double *vec) {
  ir_lanczos_params lp;
  ir_lanczos_params_default(&lp);
  lp.tol = p->lanczos_tol;
  lp.seed = p->seed;
  lp.stream = stream;
  lp.certify = 0;
  ir_eig_result *e = NULL;
  int s = ir_lanczos_eigs(op, &lp, &e);
  if (s == IR_OK) {
    *value = e->values[0];
    *res = e->residuals[0];
    if (conv)
      *conv = e->converged[0];
    if (hvps)
      *hvps = e->nmatvec;
    if (vec)
      for (size_t i = 0; i < op->n; i++)
        vec[i] = gsl_matrix_get(e->vectors, i, 0);
  }
  ir_eig_result_free(e);
  return s;
}

static int positively_homogeneous(const ir_mlp_arch *arch) {
  return arch && arch->nlayers >= 2 &&
         (arch->act == IR_ACT_RELU || arch->act == IR_ACT_IDENTITY);
}

int ir_flatness_measure(ir_model *m, const ir_mlp_arch *arch,
                        const gsl_vector *theta, const ir_flatness_params *p,
                        ir_flatness_measures *out, double *vtop) {
  int s = check_params(p);
  if (s != IR_OK)
    return s;
  if (m == NULL || theta == NULL || out == NULL)
    return ir_error(IR_EINVAL, "flatness: NULL argument");
  if (theta->size != m->nparams)
    return ir_error(IR_ESHAPE, "flatness: theta has %zu entries, the model "
                               "%zu parameters", theta->size, m->nparams);
  const size_t np = m->nparams;
  memset(out, 0, sizeof *out);
  out->trace_exact = out->lambda_dense = out->lambda_min_dense = NAN;
  out->sharp_sub = out->lambda_bal = out->lambda_bal_res = NAN;
  gsl_vector *g = gsl_vector_alloc(np), *tb = NULL;
  if (g == NULL)
    return ir_error(IR_ENOMEM, "out of memory (flatness)");
  s = ir_model_loss_grad(m, theta, NULL, 0, &out->loss, g);
  if (s == IR_OK) {
    out->grad_norm2 = gsl_blas_dnrm2(g);
    out->grad_norm2 *= out->grad_norm2;
    out->theta_norm = gsl_blas_dnrm2(theta);
  }
  ir_hessian_op h = {m, theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  if (s == IR_OK)
    s = top_eig(&op, p, p->stream, &out->lambda_max, &out->lambda_res,
                &out->lambda_conv, &out->lambda_hvps, vtop);
  if (s == IR_OK) {
    ir_trace_result tr;
    s = ir_trace_hutchinson(&op, p->trace_probes, p->seed, p->stream + 1,
                            &tr);
    out->trace = tr.trace;
    out->trace_se = tr.se;
    out->trace_hvps = tr.nmatvec + tr.nquad;
  }
  if (s == IR_OK && p->exact_max_p > 0 && np <= p->exact_max_p) {
    /* The whole spectrum from p products on unit vectors (one dense
     * Hessian, its symmetry checked); the exact trace is its sum. */
    double *ev = malloc(np * sizeof(double));
    s = ev ? ir_dense_spectrum(&op, 1e-6, ev, NULL, NULL)
           : ir_error(IR_ENOMEM, "out of memory (dense Hessian, p = %zu)", np);
    if (s == IR_OK) {
      double t = 0;
      for (size_t i = 0; i < np; i++)
        t += ev[i];
      out->trace_exact = t;
      out->lambda_dense = ev[np - 1];
      out->lambda_min_dense = ev[0];
      out->exact = 1;
    }
    free(ev);
  }
  ir_sharpness_params sp;
  ir_sharpness_params_default(&sp);
  sp.eps = p->sharp_eps;
  sp.max_iter = p->sharp_iter;
  sp.seed = p->seed;
  ir_sharpness_result sr;
  if (s == IR_OK) {
    sp.rank = 0;
    sp.stream = p->stream + 2;
    s = ir_sharpness_eps(m, theta, NULL, 0, &sp, &sr);
    out->sharp_full = sr.phi;
    out->sharp_full_evals = sr.nevals;
  }
  if (s == IR_OK && p->sharp_rank > 0 && p->sharp_rank < np) {
    sp.rank = p->sharp_rank;
    sp.stream = p->stream + 3;
    s = ir_sharpness_eps(m, theta, NULL, 0, &sp, &sr);
    out->sharp_sub = sr.phi;
    out->sharp_sub_evals = sr.nevals;
  }
  if (s == IR_OK && p->balanced && positively_homogeneous(arch)) {
    tb = gsl_vector_alloc(np);
    if (tb == NULL)
      s = ir_error(IR_ENOMEM, "out of memory (flatness)");
    if (s == IR_OK)
      s = ir_mlp_balance(arch, theta, tb);
    if (s == IR_OK) {
      ir_hessian_op hb = {m, tb, NULL, 0};
      ir_linop opb = ir_linop_hessian(&hb);
      s = top_eig(&opb, p, p->stream + 4, &out->lambda_bal,
                  &out->lambda_bal_res, NULL, NULL, NULL);
    }
  }
  gsl_vector_free(g);
  if (tb)
    gsl_vector_free(tb);
  return s;
}

/* ---- The rescaling study ------------------------------------------------ */

/* v ↦ D⁻¹ H(θ) D⁻¹ v, D the rescaling of layer l by α: D⁻¹ is the same
 * rescaling by 1/α applied to the vector. */
typedef struct {
  const ir_mlp_arch *arch;
  size_t layer;
  double alpha;
  ir_linop *hess;
  gsl_vector *tmp, *tmp2;
} conj_op;

static int conj_apply(void *ctx, const double *x, double *y) {
  conj_op *c = ctx;
  const size_t n = c->tmp->size;
  memcpy(c->tmp->data, x, n * sizeof(double));
  int s = ir_mlp_rescale(c->arch, c->tmp, c->layer, 1.0 / c->alpha, c->tmp);
  if (s == IR_OK)
    s = ir_linop_apply(c->hess, c->tmp->data, c->tmp2->data);
  if (s == IR_OK)
    s = ir_mlp_rescale(c->arch, c->tmp2, c->layer, 1.0 / c->alpha, c->tmp2);
  if (s == IR_OK)
    memcpy(y, c->tmp2->data, n * sizeof(double));
  return s;
}

int ir_flatness_rescale(ir_model *m, const ir_mlp_arch *arch,
                        const gsl_matrix *X, const gsl_vector *theta,
                        size_t layer, double alpha,
                        const ir_flatness_params *p, ir_rescale_row *out) {
  int s = check_params(p);
  if (s != IR_OK)
    return s;
  if (m == NULL || arch == NULL || X == NULL || theta == NULL || out == NULL)
    return ir_error(IR_EINVAL, "rescale: NULL argument");
  if (!positively_homogeneous(arch))
    return ir_error(IR_EINVAL, "rescale: the activation %s is not positively "
                               "homogeneous (use relu or identity), so "
                               "rescaling would change the function",
                    ir_act_name(arch->act));
  if (layer + 1 >= arch->nlayers)
    return ir_error(IR_EINVAL, "rescale: layer %zu has no next layer (the "
                               "network has %zu)", layer, arch->nlayers);
  if (!(alpha > 0) || !isfinite(alpha))
    return ir_error(IR_EINVAL, "rescale: alpha = %g must be > 0", alpha);
  const size_t np = m->nparams;
  memset(out, 0, sizeof *out);
  out->alpha = alpha;
  gsl_vector *ta = gsl_vector_alloc(np), *tb = gsl_vector_alloc(np),
             *t1 = gsl_vector_alloc(np), *t2 = gsl_vector_alloc(np);
  gsl_matrix *F0 = gsl_matrix_alloc(X->size1, m->nout),
             *F1 = gsl_matrix_alloc(X->size1, m->nout);
  if (!ta || !tb || !t1 || !t2 || !F0 || !F1)
    s = ir_error(IR_ENOMEM, "out of memory (rescale)");
  if (s == IR_OK)
    s = ir_mlp_rescale(arch, theta, layer, alpha, ta);
  if (s == IR_OK)
    s = ir_model_loss_grad(m, ta, NULL, 0, &out->loss, NULL);
  if (s == IR_OK)
    s = ir_model_predict(m, theta, X, F0);
  if (s == IR_OK)
    s = ir_model_predict(m, ta, X, F1);
  if (s == IR_OK) {
    double d = 0;
    for (size_t i = 0; i < F0->size1 * F0->size2; i++)
      d = fmax(d, fabs(F0->data[i] - F1->data[i]));
    out->pred_maxdiff = d;
  }
  /* Products at Dθ. */
  ir_hessian_op ha = {m, ta, NULL, 0};
  ir_linop opa = ir_linop_hessian(&ha);
  if (s == IR_OK)
    s = top_eig(&opa, p, p->stream, &out->lambda_max, &out->lambda_res, NULL,
                NULL, NULL);
  /* The prediction: products at θ, conjugated by D⁻¹. */
  ir_hessian_op h0 = {m, theta, NULL, 0};
  ir_linop op0 = ir_linop_hessian(&h0);
  conj_op c = {arch, layer, alpha, &op0, t1, t2};
  ir_linop opc = {np, conj_apply, &c, 0, NULL, NULL, 0};
  if (s == IR_OK)
    s = top_eig(&opc, p, p->stream + 5, &out->lambda_pred,
                &out->lambda_pred_res, NULL, NULL, NULL);
  if (s == IR_OK) {
    ir_trace_result tr;
    s = ir_trace_hutchinson(&opa, p->trace_probes, p->seed, p->stream + 1,
                            &tr);
    out->trace = tr.trace;
    out->trace_se = tr.se;
  }
  if (s == IR_OK) {
    ir_sharpness_params sp;
    ir_sharpness_params_default(&sp);
    sp.eps = p->sharp_eps;
    sp.max_iter = p->sharp_iter;
    sp.seed = p->seed;
    sp.stream = p->stream + 2;
    ir_sharpness_result sr;
    s = ir_sharpness_eps(m, ta, NULL, 0, &sp, &sr);
    out->sharp = sr.phi;
  }
  if (s == IR_OK)
    s = ir_mlp_balance(arch, ta, tb);
  if (s == IR_OK) {
    ir_hessian_op hb = {m, tb, NULL, 0};
    ir_linop opb = ir_linop_hessian(&hb);
    s = top_eig(&opb, p, p->stream + 4, &out->lambda_bal, &out->lambda_bal_res,
                NULL, NULL, NULL);
  }
  if (ta)
    gsl_vector_free(ta);
  if (tb)
    gsl_vector_free(tb);
  if (t1)
    gsl_vector_free(t1);
  if (t2)
    gsl_vector_free(t2);
  if (F0)
    gsl_matrix_free(F0);
  if (F1)
    gsl_matrix_free(F1);
  return s;
}
