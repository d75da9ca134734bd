/* test_cells.c — sweep cells: the same bits in-process and over 2 or 3
 * workers, errors and dead workers reported with the cell, progress. */
#include "implreg/cells.h"

#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* A cell with real work: a random matrix from the stream of its index,
 * its Gram matrix by dgemm (so the BLAS is exercised in the workers) and a
 * few statistics of it. */
#define NOUT 5
static int gram_cell(void *ctx, size_t cell, double *out) {
  (void)ctx;
  const size_t n = 40 + 7 * cell, m = 30;
  gsl_rng *r = ir_rng_alloc(3, ir_rng_stream(IR_STREAM_DATA, cell, 0));
  gsl_matrix *A = gsl_matrix_alloc(n, m), *G = gsl_matrix_alloc(m, m);
  for (size_t i = 0; i < n * m; i++)
    A->data[i] = gsl_ran_gaussian(r, 1.0);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, A, A, 0.0, G);
  out[0] = (double)cell;
  out[1] = gsl_matrix_get(G, 0, 0);
  out[2] = gsl_matrix_get(G, 3, 7);
  double tr = 0;
  for (size_t i = 0; i < m; i++)
    tr += gsl_matrix_get(G, i, i);
  out[3] = tr;
  out[4] = (double)getpid();
  gsl_matrix_free(A);
  gsl_matrix_free(G);
  ir_rng_free(r);
  return IR_OK;
}

static double *run(size_t ncells, int workers, ir_cell_fn fn, int *status) {
  ir_cells_params p;
  ir_cells_params_default(&p);
  p.ncells = ncells;
  p.nout = NOUT;
  p.workers = workers;
  double *out = calloc(ncells * NOUT, sizeof(double));
  *status = ir_cells_run(&p, fn, NULL, out);
  return out;
}

START_TEST(test_same_bits) {
  const size_t nc = 23;
  int s1, s2, s3;
  double *a = run(nc, 1, gram_cell, &s1), *b = run(nc, 2, gram_cell, &s2),
         *c = run(nc, 3, gram_cell, &s3);
  ck_assert_int_eq(s1, IR_OK);
  ck_assert_int_eq(s2, IR_OK);
  ck_assert_int_eq(s3, IR_OK);
  size_t other = 0;
  for (size_t i = 0; i < nc; i++) {
    ck_assert(a[i * NOUT] == (double)i && b[i * NOUT] == (double)i);
    for (size_t k = 1; k < 4; k++) {
      ck_assert_msg(memcmp(&a[i * NOUT + k], &b[i * NOUT + k],
                           sizeof(double)) == 0,
                    "cell %zu value %zu differs with 2 workers", i, k);
      ck_assert(memcmp(&a[i * NOUT + k], &c[i * NOUT + k], sizeof(double)) ==
                0);
    }
    ck_assert(a[i * NOUT + 4] == (double)getpid());
    other += b[i * NOUT + 4] != (double)getpid();
  }
  ck_assert_uint_eq(other, nc); /* the workers really computed them */
  free(a);
  free(b);
  free(c);
}
END_TEST

static int failing_cell(void *ctx, size_t cell, double *out) {
  if (cell == 5)
    return ir_error(IR_EDOM, "no minimum at width %d", 17);
  return gram_cell(ctx, cell, out);
}

START_TEST(test_errors_named) {
  for (int w = 1; w <= 3; w++) {
    int s;
    double *o = run(12, w, failing_cell, &s);
    ck_assert_int_eq(s, IR_EDOM);
    ck_assert_msg(strstr(ir_error_message(), "cell 5") &&
                      strstr(ir_error_message(), "no minimum at width 17"),
                  "message: %s", ir_error_message());
    free(o);
  }
}
END_TEST

static pid_t parent;
static int dying_cell(void *ctx, size_t cell, double *out) {
  if (cell == 3 && getpid() != parent)
    raise(SIGKILL);
  return gram_cell(ctx, cell, out);
}

START_TEST(test_dead_worker) {
  parent = getpid();
  int s;
  double *o = run(8, 2, dying_cell, &s);
  ck_assert_int_eq(s, IR_EINTERNAL);
  ck_assert_msg(strstr(ir_error_message(), "cell 3") &&
                    strstr(ir_error_message(), "died"),
                "message: %s", ir_error_message());
  free(o);
}
END_TEST

static void count(void *ctx, size_t done, size_t total, double elapsed) {
  size_t *c = ctx;
  ck_assert_uint_eq(done, c[0] + 1);
  ck_assert_uint_eq(total, 9);
  ck_assert(elapsed >= 0);
  c[0] = done;
}

START_TEST(test_progress_and_args) {
  for (int w = 1; w <= 2; w++) {
    size_t c[1] = {0};
    ir_cells_params p;
    ir_cells_params_default(&p);
    p.ncells = 9;
    p.nout = NOUT;
    p.workers = w;
    p.progress = count;
    p.progress_ctx = c;
    double out[9 * NOUT];
    IR_ASSERT_OK(ir_cells_run(&p, gram_cell, NULL, out));
    ck_assert_uint_eq(c[0], 9);
  }
  ir_cells_params p;
  ir_cells_params_default(&p);
  double x;
  IR_ASSERT_OK(ir_cells_run(&p, gram_cell, NULL, &x)); /* no cells */
  p.ncells = 2;
  p.nout = 0;
  ck_assert_int_eq(ir_cells_run(&p, gram_cell, NULL, &x), IR_EINVAL);
  p.nout = 1;
  ck_assert_int_eq(ir_cells_run(&p, NULL, NULL, &x), IR_EINVAL);
  ck_assert_int_eq(ir_cells_run(&p, gram_cell, NULL, NULL), IR_EINVAL);
  p.nout = SIZE_MAX / 4;
  ck_assert_int_eq(ir_cells_run(&p, gram_cell, NULL, &x), IR_EINVAL);
  ck_assert_int_ge(ir_cells_ncpu(), 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cells");
  TCase *tc = tcase_create("cells");
  tcase_add_test(tc, test_same_bits);
  tcase_add_test(tc, test_errors_named);
  tcase_add_test(tc, test_dead_worker);
  tcase_add_test(tc, test_progress_and_args);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
