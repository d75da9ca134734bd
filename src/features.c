/* features.c — random Fourier and random ReLU features, nested columns. */
#include "implreg/features.h"

#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2π: the phases b_j of random Fourier features are uniform on [0, 2π). */
#define IR_TWO_PI 6.283185307179586476925286766559

struct ir_features {
  int kind;
  size_t d, Nmax;
  double sigma;
  gsl_matrix *W; /* Nmax×d */
  double *b;     /* Nmax phases (RFF only) */
};

void ir_features_free(ir_features *f) {
  if (f == NULL)
    return;
  if (f->W)
    gsl_matrix_free(f->W);
  free(f->b);
  free(f);
}

ir_features *ir_features_alloc(int kind, size_t d, size_t Nmax, double sigma,
                               gsl_rng *r) {
  if (kind != IR_FEAT_RFF && kind != IR_FEAT_RELU) {
    ir_error(IR_EINVAL, "unknown feature kind %d", kind);
    return NULL;
  }
  if (d == 0 || Nmax == 0 || !(sigma > 0) || !isfinite(sigma)) {
    ir_error(IR_EINVAL,
             "features need d >= 1, N >= 1 and a scale > 0 (got d = "
             "%zu, N = %zu, sigma = %g)",
             d, Nmax, sigma);
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
  f->W = gsl_matrix_alloc(Nmax, d);
  f->b = malloc(Nmax * sizeof(double));
  if (!f->W || !f->b) {
    ir_error(IR_ENOMEM, "out of memory (%zu features of dimension %zu)", Nmax,
             d);
    ir_features_free(f);
    return NULL;
  }
  const double sd = kind == IR_FEAT_RFF ? 1.0 / sigma : sigma / sqrt((double)d);
  for (size_t j = 0; j < Nmax; j++)
    for (size_t i = 0; i < d; i++)
      gsl_matrix_set(f->W, j, i, gsl_ran_gaussian(r, sd));
  for (size_t j = 0; j < Nmax; j++)
    f->b[j] = kind == IR_FEAT_RFF ? IR_TWO_PI * gsl_rng_uniform(r) : 0.0;
  return f;
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
  gsl_matrix_const_view W = gsl_matrix_const_submatrix(f->W, 0, 0, N, f->d);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, X, &W.matrix, 0.0, Phi);
  const double scale =
      f->kind == IR_FEAT_RFF ? sqrt(2.0 / (double)N) : sqrt(1.0 / (double)N);
  for (size_t i = 0; i < Phi->size1; i++) {
    double *row = Phi->data + i * Phi->tda;
    if (f->kind == IR_FEAT_RFF)
      for (size_t j = 0; j < N; j++)
        row[j] = scale * cos(row[j] + f->b[j]);
    else
      for (size_t j = 0; j < N; j++)
        row[j] = row[j] > 0 ? scale * row[j] : 0.0;
  }
  return IR_OK;
}

int ir_features_parse(const char *name, int *kind) {
  if (strcmp(name, "rff") == 0)
    *kind = IR_FEAT_RFF;
  else if (strcmp(name, "relu") == 0)
    *kind = IR_FEAT_RELU;
  else
    return ir_error(IR_EINVAL,
                    "unknown feature map '%s' (expected rff or relu)", name);
  return IR_OK;
}

const char *ir_features_name(int kind) {
  return kind == IR_FEAT_RFF    ? "rff"
         : kind == IR_FEAT_RELU ? "relu"
                                : "unknown";
}
