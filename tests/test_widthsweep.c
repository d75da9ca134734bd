/* test_widthsweep.c — the double-descent numerics of widthsweep.h against
 * independent computations.
 *
 * References used here, none of them the code under test:
 * - pooling written out for a 4×4 image of known pixels;
 * - label noise recounted from the labels array and from the one-hot rows
 *   separately (and the clean copy left untouched);
 * - a forward pass of d → H → K written with plain loops from θ's
 *   documented layout (W1, b1, W2, b2; mlp.h), for training and test
 *   errors, ‖θ‖, and the function of a grown network;
 * - EMC on fit functions whose answer is known by construction;
 * - cells (cells.h) with 1 and 2 workers and in reversed order.
 */
#include "implreg/widthsweep.h"

#include "implreg/cells.h"
#include "implreg/optim.h"
#include "implreg/rng.h"

#include "testutil.h"

#include <float.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

/* K Gaussian clusters in d dimensions (means 2·e_k), n rows, one-hot Y. */
static ir_dataset *clusters(size_t n, size_t d, size_t K, unsigned long seed) {
  ir_dataset *ds = ir_dataset_alloc(n, d, K, K);
  ck_assert_ptr_nonnull(ds);
  gsl_rng *r = ir_rng_alloc(seed, 99);
  for (size_t i = 0; i < n; i++) {
    size_t c = i % K;
    ds->labels[i] = c;
    for (size_t j = 0; j < d; j++)
      gsl_matrix_set(ds->X, i, j,
                     gsl_ran_gaussian(r, 1.0) + (j == c % d ? 2.0 : 0.0));
    gsl_matrix_set(ds->Y, i, c, 1.0);
  }
  ir_rng_free(r);
  return ds;
}

/* ReLU network d → H → K by loops from θ's layout; out is K doubles. */
static void forward(const double *th, size_t d, size_t H, size_t K,
                    const double *x, double *out) {
  const double *W1 = th, *b1 = th + H * d, *W2 = b1 + H, *b2 = W2 + K * H;
  for (size_t k = 0; k < K; k++)
    out[k] = b2[k];
  for (size_t h = 0; h < H; h++) {
    double z = b1[h];
    for (size_t j = 0; j < d; j++)
      z += W1[h * d + j] * x[j];
    if (z > 0)
      for (size_t k = 0; k < K; k++)
        out[k] += W2[k * H + h] * z;
  }
}

static double error_by_loops(const gsl_vector *th, size_t H,
                             const gsl_matrix *X, const size_t *labels,
                             size_t K) {
  double out[64];
  size_t wrong = 0;
  for (size_t i = 0; i < X->size1; i++) {
    forward(th->data, X->size2, H, K, X->data + i * X->tda, out);
    size_t am = 0;
    for (size_t k = 1; k < K; k++)
      if (out[k] > out[am])
        am = k;
    wrong += am != labels[i];
  }
  return (double)wrong / (double)X->size1;
}

/* ---- data ------------------------------------------------------------------
 */

START_TEST(test_pool) {
  gsl_matrix *X = gsl_matrix_alloc(2, 16), *P = NULL;
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 16; j++)
      gsl_matrix_set(X, i, j, (double)(j + 100 * i));
  IR_ASSERT_OK(ir_widthsweep_pool(X, 4, 2, &P));
  ck_assert_uint_eq(P->size2, 4);
  /* Block (0,0) of row 0: pixels 0, 1, 4, 5. */
  const double want[4] = {(0 + 1 + 4 + 5) / 4.0, (2 + 3 + 6 + 7) / 4.0,
                          (8 + 9 + 12 + 13) / 4.0, (10 + 11 + 14 + 15) / 4.0};
  for (size_t j = 0; j < 4; j++) {
    ck_assert(gsl_matrix_get(P, 0, j) == want[j]);
    ck_assert(gsl_matrix_get(P, 1, j) == want[j] + 100);
  }
  gsl_matrix_free(P);
  ck_assert_int_eq(ir_widthsweep_pool(X, 4, 3, &P), IR_EINVAL);
  ck_assert_ptr_null(P);
  ck_assert_int_eq(ir_widthsweep_pool(X, 5, 1, &P), IR_ESHAPE);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_label_noise_exact) {
  const size_t n = 203, K = 7;
  ir_dataset *ds = clusters(n, 3, K, 5);
  const double fr[4] = {0, 0.1, 0.25, 0.9};
  for (int q = 0; q < 4; q++)
    for (unsigned long seed = 1; seed <= 3; seed++) {
      ir_dataset *a = NULL, *b = NULL;
      IR_ASSERT_OK(ir_widthsweep_noisy_copy(ds, fr[q], seed, &a));
      IR_ASSERT_OK(ir_widthsweep_noisy_copy(ds, fr[q], seed, &b));
      const size_t want = (size_t)llround(fr[q] * (double)n);
      size_t ch_lab = 0, ch_y = 0, bad = 0;
      for (size_t i = 0; i < n; i++) {
        ch_lab += a->labels[i] != ds->labels[i];
        /* the one-hot row says the same as the label */
        ck_assert(gsl_matrix_get(a->Y, i, a->labels[i]) == 1.0);
        ck_assert(a->labels[i] == b->labels[i]); /* same draw */
        ck_assert(ds->labels[i] == i % K);       /* the clean copy kept */
      }
      IR_ASSERT_OK(ir_widthsweep_count_changed(a->Y, ds->labels, &ch_y, &bad));
      ck_assert_uint_eq(ch_lab, want);
      ck_assert_uint_eq(ch_y, want);
      ck_assert_uint_eq(bad, 0);
      ir_dataset_free(a);
      ir_dataset_free(b);
    }
  /* Different seeds draw different rows. */
  ir_dataset *a = NULL, *b = NULL;
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(ds, 0.2, 1, &a));
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(ds, 0.2, 2, &b));
  size_t diff = 0;
  for (size_t i = 0; i < n; i++)
    diff += a->labels[i] != b->labels[i];
  ck_assert_uint_gt(diff, 0);
  ir_dataset_free(a);
  ir_dataset_free(b);
  ir_dataset_free(ds);
}
END_TEST

START_TEST(test_count_changed_bad_rows) {
  gsl_matrix *Y = gsl_matrix_calloc(3, 3);
  size_t clean[3] = {0, 1, 2}, ch, bad;
  gsl_matrix_set(Y, 0, 0, 1);
  gsl_matrix_set(Y, 1, 2, 1);   /* changed */
  gsl_matrix_set(Y, 2, 2, 0.9); /* not one-hot */
  IR_ASSERT_OK(ir_widthsweep_count_changed(Y, clean, &ch, &bad));
  ck_assert_uint_eq(ch, 1);
  ck_assert_uint_eq(bad, 1);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_widths) {
  size_t w[32], m = 0;
  const size_t d = 196, K = 10, n = 500;
  IR_ASSERT_OK(ir_widthsweep_widths(d, K, n, 0.1, 10, 10, w, &m));
  ck_assert_uint_ge(m, 10);
  const double nK = (double)(n * K);
  for (size_t i = 0; i < m; i++) {
    if (i)
      ck_assert_uint_gt(w[i], w[i - 1]);
    ck_assert_uint_eq(ir_widthsweep_nparams(d, w[i], K),
                      w[i] * (d + 1) + K * (w[i] + 1));
  }
  /* the ends, within one width's parameters (d + 1 + K) of 0.1 and 10 nK */
  const double step = (double)(d + 1 + K);
  ck_assert(fabs((double)ir_widthsweep_nparams(d, w[0], K) - 0.1 * nK) <= step);
  ck_assert(fabs((double)ir_widthsweep_nparams(d, w[m - 1], K) - 10 * nK) <=
            step);
  /* a width within half a step of nK */
  int near = 0;
  for (size_t i = 0; i < m; i++)
    near |= fabs((double)ir_widthsweep_nparams(d, w[i], K) - nK) <= step / 2;
  ck_assert(near);
  ck_assert_int_eq(ir_widthsweep_widths(d, K, n, 2, 1, 10, w, &m), IR_EINVAL);
}
END_TEST

/* ---- training
 * ---------------------------------------------------------------- */

START_TEST(test_tiny_sweep) {
  /* End to end on clusters: every width trains, errors and norms agree
   * with the loops, and the widest network interpolates the (noisy)
   * labels while the narrowest cannot. */
  const size_t n = 40, d = 4, K = 3;
  ir_dataset *tr = clusters(n, d, K, 1), *te = clusters(60, d, K, 2), *nz;
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(tr, 0.2, 1, &nz));
  const size_t widths[4] = {1, 3, 10, 60};
  ir_widthsweep_result res[4];
  for (int q = 0; q < 4; q++) {
    ir_widthsweep_params p;
    ir_widthsweep_params_default(&p);
    p.width = widths[q];
    p.loss = IR_LOSS_CE;
    p.lr = 0.1;
    p.momentum = 0.9;
    p.max_steps = 3000;
    p.loss_goal = 0.5 * log(2.0) / (double)n;
    gsl_vector *th = NULL;
    IR_ASSERT_OK(ir_widthsweep_train(tr->X, nz->Y, te->X, te->Y, &p, 1, NULL,
                                     &th, NULL, &res[q]));
    ck_assert_uint_eq(res[q].nparams, ir_widthsweep_nparams(d, widths[q], K));
    ck_assert_uint_eq(th->size, res[q].nparams);
    /* error = 1 − accuracy in the library, wrong/n here: equal up to the
     * rounding of one subtraction from 1. */
    IR_ASSERT_CLOSE(res[q].train_err,
                    error_by_loops(th, widths[q], tr->X, nz->labels, K), 0,
                    2 * DBL_EPSILON);
    IR_ASSERT_CLOSE(res[q].test_err,
                    error_by_loops(th, widths[q], te->X, te->labels, K), 0,
                    2 * DBL_EPSILON);
    double nrm = 0;
    for (size_t j = 0; j < th->size; j++)
      nrm += th->data[j] * th->data[j];
    IR_ASSERT_CLOSE(res[q].theta_norm, sqrt(nrm), 1e-14, 0);
    ck_assert_int_eq(res[q].reached_goal, res[q].reason == IR_OPTIM_GOAL);
    if (res[q].reached_goal) {
      ck_assert(res[q].train_loss <= p.loss_goal);
      ck_assert(res[q].train_err == 0); /* CE < ln 2 / n: every p_y > 1/2 */
    }
    gsl_vector_free(th);
  }
  ck_assert(res[3].reached_goal);
  ck_assert(res[0].train_err > 0);
  ir_dataset_free(tr);
  ir_dataset_free(te);
  ir_dataset_free(nz);
}
END_TEST

START_TEST(test_curve_and_errors) {
  const size_t n = 30, d = 3, K = 3;
  ir_dataset *tr = clusters(n, d, K, 3), *te = clusters(20, d, K, 4);
  ir_widthsweep_params p;
  ir_widthsweep_params_default(&p);
  p.width = 5;
  p.lr = 0.05;
  p.max_steps = 50;
  const size_t steps[4] = {1, 10, 50, 80};
  double terr[4], tl[4];
  ir_widthsweep_curve cv = {steps, 4, terr, tl};
  ir_widthsweep_result r;
  gsl_vector *th = NULL;
  IR_ASSERT_OK(ir_widthsweep_train(tr->X, tr->Y, te->X, te->Y, &p, 2, NULL, &th,
                                   &cv, &r));
  ck_assert_uint_eq(r.steps, 50);
  ck_assert(terr[2] == r.test_err); /* step 50 is the final θ */
  ck_assert(tl[2] == r.train_loss);
  ck_assert(isnan(terr[3]) && isnan(tl[3])); /* not reached */
  ck_assert(terr[0] >= 0 && terr[0] <= 1);
  gsl_vector_free(th);
  /* bad input */
  p.width = 0;
  ck_assert_int_eq(ir_widthsweep_train(tr->X, tr->Y, NULL, NULL, &p, 1, NULL,
                                       NULL, NULL, &r),
                   IR_EINVAL);
  p.width = 5;
  gsl_vector *bad = gsl_vector_calloc(7);
  ck_assert_int_eq(
      ir_widthsweep_train(tr->X, tr->Y, NULL, NULL, &p, 1, bad, NULL, NULL, &r),
      IR_ESHAPE);
  gsl_vector_free(bad);
  ir_dataset_free(tr);
  ir_dataset_free(te);
}
END_TEST

START_TEST(test_grow_same_function) {
  /* With sd = 0 the new units have zero weights: the grown network is the
   * same function as the small one. */
  const size_t d = 4, K = 3, Hs = 3, Hb = 8;
  gsl_vector *ts = gsl_vector_alloc(ir_widthsweep_nparams(d, Hs, K)),
             *tb = NULL;
  gsl_rng *r = ir_rng_alloc(3, 4);
  for (size_t j = 0; j < ts->size; j++)
    ts->data[j] = gsl_ran_gaussian(r, 1.0);
  IR_ASSERT_OK(ir_widthsweep_grow(d, K, Hs, ts, Hb, 0.0, r, &tb));
  ck_assert_uint_eq(tb->size, ir_widthsweep_nparams(d, Hb, K));
  double x[4], a[3], b[3];
  for (int t = 0; t < 20; t++) {
    for (size_t j = 0; j < d; j++)
      x[j] = gsl_ran_gaussian(r, 1.0);
    forward(ts->data, d, Hs, K, x, a);
    forward(tb->data, d, Hb, K, x, b);
    for (size_t k = 0; k < K; k++)
      ck_assert(a[k] == b[k]);
  }
  gsl_vector_free(tb);
  /* sd > 0: new weights drawn, old ones kept */
  IR_ASSERT_OK(ir_widthsweep_grow(d, K, Hs, ts, Hb, 0.1, r, &tb));
  ck_assert(tb->data[0] == ts->data[0]);
  ck_assert(tb->data[Hs * d] != 0.0); /* unit Hs's first incoming weight */
  gsl_vector_free(tb);
  ck_assert_int_eq(ir_widthsweep_grow(d, K, Hb, ts, Hs, 0.1, r, &tb),
                   IR_EINVAL);
  ir_rng_free(r);
  gsl_vector_free(ts);
}
END_TEST

/* ---- EMC
 * ------------------------------------------------------------------------ */

typedef struct {
  size_t limit; /* fitted iff n <= limit */
  size_t calls;
} emc_fake;

static int fake_fit(void *ctx, size_t n, double *err) {
  emc_fake *f = ctx;
  f->calls++;
  *err = n <= f->limit ? 0.05 : 0.4;
  return IR_OK;
}

START_TEST(test_emc_known) {
  emc_fake f = {137, 0};
  size_t emc, ev;
  int cens;
  IR_ASSERT_OK(
      ir_widthsweep_emc(fake_fit, &f, 10, 1000, 1, 0.1, &emc, &cens, &ev));
  ck_assert_uint_eq(emc, 137);
  ck_assert_int_eq(cens, 0);
  ck_assert_uint_eq(ev, f.calls);
  ck_assert_uint_le(ev, 2 + 10); /* 2 ends + ceil(log2(990)) */
  f.calls = 0;
  IR_ASSERT_OK(
      ir_widthsweep_emc(fake_fit, &f, 10, 1000, 10, 0.1, &emc, &cens, &ev));
  ck_assert_uint_eq(emc, 130); /* the grid 10, 20, ..., 1000 */
  f.limit = 5000;
  IR_ASSERT_OK(
      ir_widthsweep_emc(fake_fit, &f, 10, 1000, 10, 0.1, &emc, &cens, &ev));
  ck_assert_uint_eq(emc, 1000);
  ck_assert_int_eq(cens, 1);
  f.limit = 3;
  IR_ASSERT_OK(
      ir_widthsweep_emc(fake_fit, &f, 10, 1000, 10, 0.1, &emc, &cens, &ev));
  ck_assert_uint_eq(emc, 0);
  ck_assert_uint_eq(ev, 1);
  ck_assert_int_eq(
      ir_widthsweep_emc(fake_fit, &f, 0, 1000, 10, 0.1, &emc, &cens, &ev),
      IR_EINVAL);
}
END_TEST

START_TEST(test_emc_network) {
  /* Real networks: a wide network fits more samples than a width-1 one,
   * and the EMC found is fitted while the next grid point is not. */
  const size_t n = 60, d = 4, K = 3;
  ir_dataset *tr = clusters(n, d, K, 7), *nz;
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(tr, 0.3, 1, &nz));
  ir_widthsweep_params p;
  ir_widthsweep_params_default(&p);
  p.loss = IR_LOSS_CE;
  p.lr = 0.1;
  p.momentum = 0.9;
  p.max_steps = 300;
  size_t emc[2];
  const size_t H[2] = {1, 40};
  for (int q = 0; q < 2; q++) {
    p.width = H[q];
    ir_widthsweep_emc_net e = {tr->X, nz->Y, &p, 1};
    int cens;
    size_t ev;
    IR_ASSERT_OK(ir_widthsweep_emc(ir_widthsweep_emc_net_fit, &e, 5, n, 5, 0.0,
                                   &emc[q], &cens, &ev));
    double err;
    if (emc[q] > 0) {
      IR_ASSERT_OK(ir_widthsweep_emc_net_fit(&e, emc[q], &err));
      ck_assert(err <= 0.0);
    }
    if (!cens && emc[q] + 5 <= n) {
      IR_ASSERT_OK(ir_widthsweep_emc_net_fit(&e, emc[q] + 5, &err));
      ck_assert(err > 0.0);
    }
  }
  ck_assert_uint_gt(emc[1], emc[0]);
  ir_dataset_free(tr);
  ir_dataset_free(nz);
}
END_TEST

START_TEST(test_streams) {
  /* The documented streams: label noise from (seed, (DATA, 1000 f, 7)),
   * theta_0 from (seed, (INIT, H, loss)): a cell's draws depend on its
   * coordinates only. */
  const size_t n = 50, d = 3, K = 4, H = 6;
  ir_dataset *tr = clusters(n, d, K, 21), *a = NULL, *b = NULL;
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(tr, 0.3, 5, &a));
  size_t *idx = malloc(n * sizeof *idx);
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  IR_ASSERT_OK(ir_data_subset(tr, idx, n, &b));
  free(idx);
  ck_assert(ir_widthsweep_noise_stream(0.3) ==
            ir_rng_stream(IR_STREAM_DATA, 300, 7));
  gsl_rng *r = ir_rng_alloc(5, ir_rng_stream(IR_STREAM_DATA, 300, 7));
  IR_ASSERT_OK(ir_data_label_noise(b, 0.3, r));
  ir_rng_free(r);
  for (size_t i = 0; i < n; i++)
    ck_assert(a->labels[i] == b->labels[i]);
  ir_widthsweep_params p;
  ir_widthsweep_params_default(&p);
  p.width = H;
  p.loss = IR_LOSS_CE;
  p.lr = 0.1;
  p.max_steps = 30;
  ir_mlp_arch arch;
  memset(&arch, 0, sizeof arch);
  arch.nlayers = 2;
  arch.width[0] = d;
  arch.width[1] = H;
  arch.width[2] = K;
  arch.act = IR_ACT_RELU;
  arch.loss = IR_LOSS_CE;
  gsl_vector *t0 = gsl_vector_alloc(ir_mlp_nparams(&arch)), *ta = NULL,
             *tb = NULL;
  r = ir_rng_alloc(9, ir_rng_stream(IR_STREAM_INIT, H, IR_LOSS_CE));
  ir_mlp_init_torch(&arch, r, t0);
  ir_rng_free(r);
  ir_widthsweep_result ra, rb;
  IR_ASSERT_OK(ir_widthsweep_train(tr->X, a->Y, NULL, NULL, &p, 9, NULL, &ta,
                                   NULL, &ra));
  IR_ASSERT_OK(
      ir_widthsweep_train(tr->X, a->Y, NULL, NULL, &p, 9, t0, &tb, NULL, &rb));
  ck_assert(memcmp(ta->data, tb->data, ta->size * sizeof(double)) == 0);
  gsl_vector_free(t0);
  gsl_vector_free(ta);
  gsl_vector_free(tb);
  ir_dataset_free(a);
  ir_dataset_free(b);
  ir_dataset_free(tr);
}
END_TEST

/* ---- peak
 * ----------------------------------------------------------------------- */

START_TEST(test_peak) {
  /* two seeds; mean curve 5, 3, 2, 4, 6, 3, 1 */
  const double err[14] = {5, 3, 2, 4, 6, 3, 1, 5, 3, 2, 4, 6, 3, 1};
  double e2[14];
  memcpy(e2, err, sizeof e2);
  e2[4] = 7; /* seed 0 at the peak: 7; seed 1: 5 (mean 6) */
  e2[11] = 5;
  size_t ip, i0;
  double h[2];
  IR_ASSERT_OK(ir_widthsweep_peak(e2, 2, 7, &ip, &i0, h));
  ck_assert_uint_eq(i0, 2);
  ck_assert_uint_eq(ip, 4);
  ck_assert(h[0] == 6 && h[1] == 4);
  /* monotone: no peak */
  const double mono[4] = {4, 3, 2, 1};
  IR_ASSERT_OK(ir_widthsweep_peak(mono, 1, 4, &ip, &i0, h));
  ck_assert_uint_eq(ip, i0);
  ck_assert_uint_eq(i0, 3);
  const double bad[2] = {1, NAN};
  ck_assert_int_eq(ir_widthsweep_peak(bad, 1, 2, &ip, &i0, h), IR_EBADDATA);
}
END_TEST

/* ---- cells: the same bits with 1 or 2 workers, in any order
 * ----------------------- */

typedef struct {
  ir_dataset *tr, *te;
  ir_dataset *nz[2];
  int reversed;
} cell_ctx;

static const size_t cell_widths[3] = {2, 6, 20};

static int sweep_cell(void *vctx, size_t cell, double *out) {
  cell_ctx *c = vctx;
  if (c->reversed)
    cell = 5 - cell;
  const size_t wi = cell % 3, seed_i = cell / 3;
  ir_widthsweep_params p;
  ir_widthsweep_params_default(&p);
  p.width = cell_widths[wi];
  p.lr = 0.05;
  p.momentum = 0.9;
  p.max_steps = 100;
  ir_widthsweep_result r;
  int s = ir_widthsweep_train(c->tr->X, c->nz[seed_i]->Y, c->te->X, c->te->Y,
                              &p, 1 + seed_i, NULL, NULL, NULL, &r);
  out[0] = r.train_loss;
  out[1] = r.test_err;
  out[2] = r.theta_norm;
  out[3] = r.test_loss;
  return s;
}

START_TEST(test_cells_reproducible) {
  cell_ctx c;
  c.tr = clusters(50, 6, 3, 11);
  c.te = clusters(40, 6, 3, 12);
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(c.tr, 0.1, 1, &c.nz[0]));
  IR_ASSERT_OK(ir_widthsweep_noisy_copy(c.tr, 0.1, 2, &c.nz[1]));
  double a[24], b[24], r[24];
  ir_cells_params cp;
  ir_cells_params_default(&cp);
  cp.ncells = 6;
  cp.nout = 4;
  cp.workers = 1;
  c.reversed = 0;
  IR_ASSERT_OK(ir_cells_run(&cp, sweep_cell, &c, a));
  cp.workers = 2;
  IR_ASSERT_OK(ir_cells_run(&cp, sweep_cell, &c, b));
  c.reversed = 1;
  IR_ASSERT_OK(ir_cells_run(&cp, sweep_cell, &c, r));
  for (size_t i = 0; i < 6; i++)
    for (size_t j = 0; j < 4; j++) {
      ck_assert(memcmp(&a[i * 4 + j], &b[i * 4 + j], sizeof(double)) == 0);
      ck_assert(memcmp(&a[i * 4 + j], &r[(5 - i) * 4 + j], sizeof(double)) ==
                0);
    }
  ir_dataset_free(c.tr);
  ir_dataset_free(c.te);
  ir_dataset_free(c.nz[0]);
  ir_dataset_free(c.nz[1]);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("widthsweep");
  TCase *t = tcase_create("core");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_pool);
  tcase_add_test(t, test_label_noise_exact);
  tcase_add_test(t, test_count_changed_bad_rows);
  tcase_add_test(t, test_widths);
  tcase_add_test(t, test_tiny_sweep);
  tcase_add_test(t, test_curve_and_errors);
  tcase_add_test(t, test_grow_same_function);
  tcase_add_test(t, test_emc_known);
  tcase_add_test(t, test_emc_network);
  tcase_add_test(t, test_streams);
  tcase_add_test(t, test_peak);
  tcase_add_test(t, test_cells_reproducible);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
