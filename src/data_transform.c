/* data_transform.c — transforms of data sets: intercept column, subsets,
 * standardization, label noise, the finiteness check.  See implreg/data.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "data_internal.h"
#include "implreg/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* Transforms                                                                */
/* ======================================================================== */

int ir_matrix_append_ones(gsl_matrix **m) {
  if (m == NULL || *m == NULL)
    return ir_error(IR_EINVAL, "ir_matrix_append_ones: matrix must not be "
                               "NULL");
  const gsl_matrix *A = *m;
  gsl_matrix *B;
  int s = ir_data_mat_new(A->size1, A->size2 + 1, 0, &B);
  if (s != IR_OK)
    return s;
  for (size_t i = 0; i < A->size1; i++) {
    double *y = ir_row(B, i);
    memcpy(y, ir_crow(A, i), A->size2 * sizeof *y);
    y[A->size2] = 1.0;
  }
  gsl_matrix_free(*m);
  *m = B;
  return IR_OK;
}

int ir_data_append_ones(ir_dataset *ds) {
  if (ds == NULL || ds->X == NULL)
    return ir_error(IR_EINVAL, "ir_data_append_ones: data set must not be "
                               "NULL");
  int s = ir_matrix_append_ones(&ds->X);
  if (s == IR_OK)
    ds->d = ds->X->size2;
  return s;
}

int ir_data_subset(const ir_dataset *ds, const size_t *idx, size_t m,
                   ir_dataset **out) {
  if (out != NULL)
    *out = NULL;
  if (ds == NULL || idx == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_data_subset: arguments must not be NULL");
  if (m == 0)
    return ir_error(IR_EINVAL, "ir_data_subset: empty subset (m = 0)");
  for (size_t k = 0; k < m; k++)
    if (idx[k] >= ds->n)
      return ir_error(IR_EINVAL,
                      "ir_data_subset: idx[%zu] = %zu is out of range; the "
                      "data set has n = %zu rows (indices from 0)",
                      k, idx[k], ds->n);
  ir_dataset *o = ir_dataset_alloc(m, ds->X->size2, ds->Y->size2,
                                   ds->labels != NULL ? ds->nclasses : 0);
  if (o == NULL)
    return IR_ENOMEM;
  for (size_t k = 0; k < m; k++) {
    memcpy(ir_row(o->X, k), ir_crow(ds->X, idx[k]),
           o->X->size2 * sizeof(double));
    memcpy(ir_row(o->Y, k), ir_crow(ds->Y, idx[k]),
           o->Y->size2 * sizeof(double));
    if (o->labels != NULL)
      o->labels[k] = ds->labels[idx[k]];
  }
  *out = o;
  return IR_OK;
}

/* Column means μ and population standard deviations s (divisor n) by the
 * corrected two-pass algorithm (Chan, Golub, LeVeque 1983), accumulated row
 * by row for cache efficiency.  A column whose entries are all equal is only
 * centered (s := 1): testing equality rather than s == 0 keeps rounding in
 * the mean from being blown up into O(1) values. */
int ir_data_standardize(ir_dataset *train, ir_dataset *test) {
  if (train == NULL || train->X == NULL)
    return ir_error(IR_EINVAL, "ir_data_standardize: train must not be NULL");
  const gsl_matrix *X = train->X;
  size_t n = X->size1, d = X->size2;
  if (test != NULL && (test->X == NULL || test->X->size2 != d))
    return ir_error(IR_ESHAPE,
                    "ir_data_standardize: test X has %zu columns, train X "
                    "has %zu",
                    test->X != NULL ? test->X->size2 : 0, d);
  int s = ir_matrix_check_finite(X, "train X");
  if (s != IR_OK)
    return s;
  double *mu = calloc(d, sizeof *mu);
  double *ss = calloc(d, sizeof *ss);
  double *dev = calloc(d, sizeof *dev);
  unsigned char *constant = malloc(d);
  if (mu == NULL || ss == NULL || dev == NULL || constant == NULL) {
    s = ir_error(IR_ENOMEM, "ir_data_standardize: out of memory (d = %zu)", d);
    goto done;
  }
  memset(constant, 1, d);
  const double *x0 = ir_crow(X, 0);
  for (size_t i = 0; i < n; i++) {
    const double *x = ir_crow(X, i);
    for (size_t j = 0; j < d; j++) {
      mu[j] += x[j];
      if (x[j] != x0[j])
        constant[j] = 0;
    }
  }
  /* An all-equal column gets its common value as mean, so it centers to
   * exact zeros (the computed mean of n copies of x may differ from x). */
  for (size_t j = 0; j < d; j++)
    mu[j] = constant[j] ? x0[j] : mu[j] / (double)n;
  for (size_t i = 0; i < n; i++) {
    const double *x = ir_crow(X, i);
    for (size_t j = 0; j < d; j++) {
      double t = x[j] - mu[j];
      dev[j] += t;
      ss[j] += t * t;
    }
  }
  for (size_t j = 0; j < d; j++) {
    double var = (ss[j] - dev[j] * dev[j] / (double)n) / (double)n;
    double sd = var > 0 ? sqrt(var) : 0.0;
    ss[j] = constant[j] || sd == 0.0 ? 1.0 : 1.0 / sd; /* now the scale */
  }
  ir_dataset *sets[2] = {train, test};
  for (int k = 0; k < 2; k++) {
    if (sets[k] == NULL)
      continue;
    gsl_matrix *A = sets[k]->X;
    for (size_t i = 0; i < A->size1; i++) {
      double *x = ir_row(A, i);
      for (size_t j = 0; j < d; j++)
        x[j] = (x[j] - mu[j]) * ss[j];
    }
  }
done:
  free(mu);
  free(ss);
  free(dev);
  free(constant);
  return s;
}

/* Chooses m = round(frac·n) distinct rows with a partial Fisher–Yates
 * shuffle (m draws), then for each draws c uniform in [0, nclasses − 1) and
 * uses c when c < old, c + 1 otherwise: uniform over the other classes. */
int ir_data_label_noise(ir_dataset *ds, double frac, gsl_rng *r) {
  if (ds == NULL || r == NULL)
    return ir_error(IR_EINVAL, "ir_data_label_noise: data set and generator "
                               "must not be NULL");
  if (ds->labels == NULL || ds->nclasses < 2)
    return ir_error(IR_EINVAL,
                    "ir_data_label_noise: needs class labels and at least 2 "
                    "classes (nclasses = %zu)",
                    ds->nclasses);
  if (!(frac >= 0.0 && frac <= 1.0))
    return ir_error(IR_EINVAL,
                    "ir_data_label_noise: frac = %g; expected a "
                    "fraction in [0, 1]",
                    frac);
  size_t n = ds->X->size1, C = ds->nclasses;
  if (ds->Y == NULL || ds->Y->size2 != C || ds->Y->size1 != n)
    return ir_error(IR_ESHAPE,
                    "ir_data_label_noise: Y must be one-hot n x nclasses "
                    "(%zu x %zu)",
                    n, C);
  for (size_t i = 0; i < n; i++)
    if (ds->labels[i] >= C)
      return ir_error(IR_EBADDATA,
                      "ir_data_label_noise: label %zu of row %zu is not in "
                      "0..%zu",
                      ds->labels[i], i + 1, C - 1);
  size_t m = (size_t)round(frac * (double)n);
  if (m > n)
    m = n;
  if (m == 0)
    return IR_OK;
  int s = ir_data_check_range(r, n, "ir_data_label_noise");
  if (s != IR_OK)
    return s;
  size_t *perm = malloc(n * sizeof *perm);
  if (perm == NULL)
    return ir_error(IR_ENOMEM, "ir_data_label_noise: out of memory (n = %zu)",
                    n);
  ir_data_partial_shuffle(r, perm, n, m);
  for (size_t k = 0; k < m; k++) {
    size_t i = perm[k], old = ds->labels[i];
    size_t c = ir_uniform_index(r, C - 1);
    if (c >= old)
      c++;
    ds->labels[i] = c;
    double *y = ir_row(ds->Y, i);
    for (size_t j = 0; j < C; j++)
      y[j] = 0.0;
    y[c] = 1.0;
  }
  free(perm);
  return IR_OK;
}

int ir_matrix_check_finite(const gsl_matrix *m, const char *what) {
  if (what == NULL)
    what = "matrix";
  if (m == NULL)
    return ir_error(IR_EINVAL, "%s: matrix is NULL", what);
  for (size_t i = 0; i < m->size1; i++) {
    const double *x = ir_crow(m, i);
    for (size_t j = 0; j < m->size2; j++)
      if (!isfinite(x[j]))
        return ir_error(IR_EBADDATA,
                        "%s: entry (%zu, %zu) is %s; the data must be finite",
                        what, i + 1, j + 1, ir_nonfinite_name(x[j]));
  }
  return IR_OK;
}
