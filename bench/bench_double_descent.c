/* bench_double_descent.c — the inputs of `implreg double-descent --data
 * fashion-mnist --sweep model --features rff --sigma S`, exactly as the
 * analysis draws them, for the agreement check of bench/double-descent.
 *
 * Usage:
 *   bench_double_descent --info
 *   bench_double_descent --dump DIR --n N --ntest M --nmax NMAX --sigma S
 *                        [--seed SEED]
 *
 * Writes DIR/X.f64 (n×784), Y.f64 (n×10), Xt.f64, Yt.f64 (ntest rows),
 * W.f64 (Nmax×784) and b.f64 (Nmax): raw little-endian doubles, row-major,
 * shapes in DIR/shapes.txt.  The draws repeat the analysis' (dd_load_fashion
 * and dd_features in analyses/an_double_descent.c: the data subset from
 * stream (seed, IR_STREAM_DATA, 3, n), feature j from its own stream
 * (seed, IR_STREAM_FEATURES, 8, rff) — features.h), so the NumPy reference
 * fed with these files must reproduce implreg's curves to rounding; if the
 * analysis' draws ever change, the check fails loudly rather than passing.
 * Not timed: the timed NumPy reference draws its own data and features.
 */
#include <implreg/implreg.h>

#include <gsl/gsl_matrix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own (its cblas.h clashes with GSL's). */
char *openblas_get_config(void);
char *openblas_get_corename(void);

static int put(const char *dir, const char *name, const double *x, size_t rows,
               size_t cols, size_t tda, FILE *shapes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.f64", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    fprintf(stderr, "bench_double_descent: cannot write %s\n", path);
    return 1;
  }
  for (size_t i = 0; i < rows; i++)
    if (fwrite(x + i * tda, sizeof *x, cols, f) != cols) {
      fclose(f);
      fprintf(stderr, "bench_double_descent: short write to %s\n", path);
      return 1;
    }
  fprintf(shapes, "%s %zu %zu\n", name, rows, cols);
  return fclose(f) != 0;
}

static int putm(const char *dir, const char *name, const gsl_matrix *m,
                FILE *shapes) {
  return put(dir, name, m->data, m->size1, m->size2, m->tda, shapes);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--info") == 0) {
    printf("# openblas_config %s\n", openblas_get_config());
    printf("# openblas_corename %s\n", openblas_get_corename());
    return 0;
  }
  const char *dir = NULL;
  size_t n = 1000, ntest = 2000, nmax = 10000;
  double sigma = 0;
  unsigned long seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dump") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "--n") == 0)
      n = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--ntest") == 0)
      ntest = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--nmax") == 0)
      nmax = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--sigma") == 0)
      sigma = strtod(argv[i + 1], NULL);
    else if (strcmp(argv[i], "--seed") == 0)
      seed = strtoul(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "bench_double_descent: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (dir == NULL || !(sigma > 0) || n == 0 || ntest == 0 || nmax == 0) {
    fprintf(stderr, "usage: bench_double_descent --dump DIR --n N --ntest M "
                    "--nmax NMAX --sigma S [--seed SEED]\n");
    return 2;
  }
  gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_DATA, 3, n));
  ir_dataset *tr = NULL, *te = NULL;
  int s = r ? IR_OK : IR_ENOMEM;
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 0, n, r, &tr);
  if (s == IR_OK)
    s = ir_data_fashion_mnist(NULL, 1, ntest, r, &te);
  ir_features *f = NULL;
  if (s == IR_OK &&
      (f = ir_features_alloc_streams(
           IR_FEAT_RFF, tr->X->size2, nmax, sigma, seed,
           ir_rng_stream(IR_STREAM_FEATURES, 8, (uint64_t)IR_FEAT_RFF))) ==
          NULL)
    s = IR_ENOMEM;
  gsl_matrix *W = NULL;
  gsl_vector *b = NULL;
  if (s == IR_OK) {
    W = gsl_matrix_alloc(nmax, tr->X->size2);
    b = gsl_vector_alloc(nmax);
    s = (W && b) ? ir_features_params(f, W, b) : IR_ENOMEM;
  }
  if (s != IR_OK) {
    fprintf(stderr, "bench_double_descent: %s\n", ir_error_message());
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/shapes.txt", dir);
  FILE *shapes = fopen(path, "w");
  if (shapes == NULL) {
    fprintf(stderr, "bench_double_descent: cannot write %s\n", path);
    return 1;
  }
  int bad = putm(dir, "X", tr->X, shapes) || putm(dir, "Y", tr->Y, shapes) ||
            putm(dir, "Xt", te->X, shapes) || putm(dir, "Yt", te->Y, shapes) ||
            putm(dir, "W", W, shapes) ||
            put(dir, "b", b->data, nmax, 1, b->stride, shapes);
  bad |= fclose(shapes) != 0;
  gsl_matrix_free(W);
  gsl_vector_free(b);
  ir_features_free(f);
  ir_dataset_free(tr);
  ir_dataset_free(te);
  ir_rng_free(r);
  return bad;
}
