/* data_internal.h (private) — helpers shared by the data modules
 * (data.c, data_csv.c, data_npy.c, data_idx.c, data_synth.c,
 * data_transform.c).  Not installed. */
#ifndef IMPLREG_DATA_INTERNAL_H
#define IMPLREG_DATA_INTERNAL_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The first CSV or NPY bytes quoted in a message are cut to this length so
 * that a binary file cannot flood the one-line message. */
#define IR_CELL_QUOTE_MAX 40

/* Allocates a rows×cols matrix (zeroed when zero != 0).  GSL cannot represent
 * empty matrices, so both sizes must be at least 1. */
int ir_data_mat_new(size_t rows, size_t cols, int zero, gsl_matrix **out);

/* Pointer to row i of m (rows are contiguous; consecutive rows are tda
 * doubles apart). */
static inline double *ir_row(gsl_matrix *m, size_t i) {
  return m->data + i * m->tda;
}

static inline const double *ir_crow(const gsl_matrix *m, size_t i) {
  return m->data + i * m->tda;
}

/* A uniform integer in [0, n) from r; n must not exceed the generator's
 * range (checked by ir_data_check_range). */
static inline size_t ir_uniform_index(gsl_rng *r, size_t n) {
  return (size_t)gsl_rng_uniform_int(r, (unsigned long)n);
}

/* gsl_rng_uniform_int(r, n) needs n <= max − min + 1 (2^32 for MT19937). */
int ir_data_check_range(const gsl_rng *r, size_t n, const char *what);

/* Fills perm[0..N) with 0..N−1, then moves a uniformly random ordered sample
 * of m distinct indices into perm[0..m): the first m steps of the
 * Fisher–Yates shuffle, where step k swaps perm[k] with perm[j], j uniform
 * in [k, N).  Every ordered m-subset is equally likely.  Draws exactly m
 * numbers from r.  Cost O(N + m). */
void ir_data_partial_shuffle(gsl_rng *r, size_t *perm, size_t N, size_t m);

/* Opens the IDX file at path as ir_data_read_idx does and reports in
 * *whole whether a gzip file was inflated whole (libdeflate) rather than
 * streamed (zlib, or no compression): for tests of both paths. */
int ir_idx_probe(const char *path, int *whole);

/* Describes a non-finite value for messages. */
static inline const char *ir_nonfinite_name(double x) {
  if (isnan(x))
    return "NaN";
  return x > 0 ? "+Inf" : "-Inf";
}

/* Opens path for reading when it is a regular file (*size its size in
 * bytes); IR_EIO "cannot read PATH: it is a FIFO ..." for anything else (a
 * FIFO would block, a device such as /dev/zero never ends). */
int ir_data_open_regular(const char *path, FILE **fp, uintmax_t *size);

/* Reads a whole regular file (ir_data_open_regular) into a NUL-terminated
 * buffer owned by the caller (*len excludes the NUL), with one allocation
 * of the file's size. */
int ir_data_read_all(const char *path, char **out, size_t *len);

#endif
