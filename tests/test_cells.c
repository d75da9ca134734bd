/* test_cells.c — sweep cells: the same bits in-process and over 2 or 3
 * workers, errors and dead workers reported with the cell, progress. */
#include "implreg/cells.h"

#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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


/* ---- the store: resume, shards, merge, stop ------------------------------ */

/* Deterministic cells with the values a store must carry exactly: a random
 * Gram matrix's entries, NaN, ±Infinity, a subnormal, -0.0. */
static int calls; /* in-process calls (workers cannot count here) */
static volatile sig_atomic_t stop_flag;
static size_t stop_at = (size_t)-1;
static int det_cell(void *ctx, size_t cell, double *out) {
  (void)ctx;
  calls++;
  double tmp[NOUT];
  gram_cell(NULL, cell, tmp);
  out[0] = tmp[1] / 3.0;
  out[1] = tmp[2] * 1e-300;
  out[2] = cell % 4 == 0 ? NAN : cell % 4 == 1 ? INFINITY
           : cell % 4 == 2 ? -INFINITY : -0.0;
  out[3] = 4.9406564584124654e-324 * (double)(cell + 1); /* subnormal */
  out[4] = tmp[3];
  if (cell == stop_at) {
    if (getpid() == (pid_t)(intptr_t)ctx)
      stop_flag = 1;
    else
      kill(getppid(), SIGUSR1); /* in a worker: tell the parent */
  }
  return IR_OK;
}

static void on_usr1(int sig) {
  (void)sig;
  stop_flag = 1;
}

static char *store_dir(void) {
  char *d = strdup("/tmp/test_cells.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(d));
  return d;
}

static void rm_rf(const char *d) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  ck_assert_int_eq(system(cmd), 0);
}

static size_t files_in(const char *d) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^grid-.*\\.json$'", d);
  FILE *fp = popen(cmd, "r");
  size_t n = 0;
  ck_assert(fscanf(fp, "%zu", &n) == 1);
  pclose(fp);
  return n;
}

static int store_run(size_t nc, int workers, const char *dir, int resume,
                     size_t shard, size_t nshards, double *out,
                     ir_cells_stats *st) {
  ir_cells_params p;
  ir_cells_params_default(&p);
  p.ncells = nc;
  p.nout = NOUT;
  p.workers = workers;
  p.store = dir;
  p.sweep = "grid";
  p.hash = ir_cells_hash("width=10,seeds=3");
  p.resume = resume;
  p.shard = shard;
  p.nshards = nshards;
  p.stop = &stop_flag;
  p.stats = st;
  return ir_cells_run(&p, det_cell, (void *)(intptr_t)getpid(), out);
}

START_TEST(test_store_resume) {
  const size_t nc = 11;
  double ref[11 * NOUT], a[11 * NOUT], b[11 * NOUT];
  ir_cells_stats st;
  char *d = store_dir();
  IR_ASSERT_OK(store_run(nc, 2, d, 0, 0, 0, ref, &st));
  ck_assert_uint_eq(st.computed, nc);
  ck_assert_uint_eq(files_in(d), nc);
  /* Everything stored: a resumed run computes nothing, same bits. */
  calls = 0;
  IR_ASSERT_OK(store_run(nc, 1, d, 1, 0, 0, a, &st));
  ck_assert_int_eq(calls, 0);
  ck_assert_uint_eq(st.loaded, nc);
  ck_assert(memcmp(a, ref, sizeof a) == 0);
  /* Two cells lost: exactly those are computed again. */
  char path[256];
  snprintf(path, sizeof path, "%s/grid-000003.json", d);
  ck_assert_int_eq(unlink(path), 0);
  snprintf(path, sizeof path, "%s/grid-000010.json", d);
  ck_assert_int_eq(unlink(path), 0);
  calls = 0;
  IR_ASSERT_OK(store_run(nc, 1, d, 1, 0, 0, b, &st));
  ck_assert_int_eq(calls, 2);
  ck_assert_uint_eq(st.computed, 2);
  ck_assert(memcmp(b, ref, sizeof b) == 0);
  /* Another configuration's cell is refused, naming the file. */
  ir_cells_params p;
  ir_cells_params_default(&p);
  p.ncells = nc;
  p.nout = NOUT;
  p.store = d;
  p.sweep = "grid";
  p.hash = ir_cells_hash("width=20,seeds=3");
  p.resume = 1;
  ck_assert_int_eq(ir_cells_run(&p, det_cell, NULL, a), IR_EFORMAT);
  ck_assert(strstr(ir_error_message(), "grid-000000.json") != NULL);
  /* A malformed file too. */
  FILE *fp = fopen(path, "w");
  fputs("{\"sweep\": \"grid\", \"cell\": 10, \"nout\": 5, \"hash\": \"", fp);
  fclose(fp);
  ck_assert_int_eq(store_run(nc, 1, d, 1, 0, 0, a, &st), IR_EFORMAT);
  ck_assert(strstr(ir_error_message(), "malformed") != NULL);
  rm_rf(d);
  free(d);
}
END_TEST

START_TEST(test_shards_merge) {
  const size_t nc = 13, k = 3;
  double ref[13 * NOUT], part[13 * NOUT], merged[13 * NOUT];
  unsigned char have[13] = {0};
  ir_cells_stats st;
  int s;
  double *full = run(nc, 1, det_cell, &s);
  IR_ASSERT_OK(s);
  memcpy(ref, full, sizeof ref);
  free(full);
  char *dirs[3];
  size_t total = 0;
  for (size_t i = 0; i < k; i++) {
    dirs[i] = store_dir();
    IR_ASSERT_OK(store_run(nc, i == 1 ? 2 : 1, dirs[i], 0, i, k, part, &st));
    ck_assert_uint_eq(st.computed + st.skipped, nc);
    ck_assert(isnan(part[((i + 1) % k) * NOUT + 4])); /* another shard's */
    size_t nf;
    IR_ASSERT_OK(ir_cells_load(dirs[i], "grid",
                               ir_cells_hash("width=10,seeds=3"), nc, NOUT,
                               merged, have, &nf));
    ck_assert_uint_eq(nf, st.computed);
    total += nf;
  }
  ck_assert_uint_eq(total, nc);
  for (size_t i = 0; i < nc; i++)
    ck_assert(have[i]);
  ck_assert(memcmp(merged, ref, sizeof ref) == 0); /* one run's bits */
  /* A shard that disagrees with another on a cell is refused. */
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "sed -i 's/\"out\": \\[/\"out\": [1, /; s/, [^,]*\\]}/]}/' "
           "'%s/grid-000000.json' && cp '%s/grid-000000.json' '%s/'",
           dirs[0], dirs[0], dirs[1]);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_int_eq(ir_cells_load(dirs[1], "grid",
                                 ir_cells_hash("width=10,seeds=3"), nc, NOUT,
                                 merged, have, NULL),
                   IR_EFORMAT);
  ck_assert(strstr(ir_error_message(), "differs") != NULL);
  ck_assert_int_eq(ir_cells_load("/nonexistent/store", "grid", 0, nc, NOUT,
                                 merged, have, NULL),
                   IR_EIO);
  ir_cells_params p;
  ir_cells_params_default(&p);
  p.ncells = nc;
  p.shard = 3;
  p.nshards = 3;
  ck_assert_int_eq(ir_cells_run(&p, det_cell, NULL, merged), IR_EINVAL);
  p.shard = 0;
  p.store = dirs[0];
  p.sweep = "bad/name";
  ck_assert_int_eq(ir_cells_run(&p, det_cell, NULL, merged), IR_EINVAL);
  for (size_t i = 0; i < k; i++) {
    rm_rf(dirs[i]);
    free(dirs[i]);
  }
}
END_TEST

START_TEST(test_stop_keeps_finished_cells) {
  const size_t nc = 12;
  double ref[12 * NOUT], a[12 * NOUT];
  ir_cells_stats st;
  int s;
  double *full = run(nc, 1, det_cell, &s);
  memcpy(ref, full, sizeof ref);
  free(full);
  signal(SIGUSR1, on_usr1);
  for (int workers = 1; workers <= 2; workers++) {
    char *d = store_dir();
    stop_flag = 0;
    stop_at = 4;
    ck_assert_int_eq(store_run(nc, workers, d, 0, 0, 0, a, &st), IR_EINTR);
    ck_assert(strstr(ir_error_message(), "stored") != NULL);
    ck_assert_uint_lt(st.computed, nc);
    ck_assert_uint_ge(st.computed, 5); /* cells 0..4 at least */
    ck_assert_uint_eq(files_in(d), st.computed);
    /* Resumed: the rest, the same bits as one uninterrupted run. */
    stop_flag = 0;
    stop_at = (size_t)-1;
    IR_ASSERT_OK(store_run(nc, workers, d, 1, 0, 0, a, &st));
    ck_assert_uint_eq(st.computed + st.loaded, nc);
    ck_assert(memcmp(a, ref, sizeof ref) == 0);
    rm_rf(d);
    free(d);
  }
  signal(SIGUSR1, SIG_DFL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cells");
  TCase *tc = tcase_create("cells");
  tcase_add_test(tc, test_same_bits);
  tcase_add_test(tc, test_errors_named);
  tcase_add_test(tc, test_dead_worker);
  tcase_add_test(tc, test_progress_and_args);
  tcase_add_test(tc, test_store_resume);
  tcase_add_test(tc, test_shards_merge);
  tcase_add_test(tc, test_stop_keeps_finished_cells);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
