/* data.c — data sets and the matrix-file dispatch, plus the helpers the
 * data modules share (data_internal.h).  The formats and generators live in
 * data_csv.c, data_npy.c, data_idx.c (IDX and Fashion-MNIST), data_synth.c
 * and data_transform.c.  See implreg/data.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "implreg/data.h"

#include "data_internal.h"
#include "implreg/linalg.h"
#include "implreg/status.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* Allocates a rows×cols matrix (zeroed when zero != 0).  GSL cannot represent
 * empty matrices, so both sizes must be at least 1. */
int ir_data_mat_new(size_t rows, size_t cols, int zero, gsl_matrix **out) {
  *out = NULL;
  if (rows == 0 || cols == 0)
    return ir_error(IR_EINVAL,
                    "cannot allocate a %zux%zu matrix: both sizes must be at "
                    "least 1",
                    rows, cols);
  if (cols > SIZE_MAX / sizeof(double) / rows)
    return ir_error(IR_ENOMEM,
                    "a %zux%zu matrix of doubles does not fit in "
                    "the address space",
                    rows, cols);
  /* Large ones on huge pages: one first-touch fault per 2 MiB, not per
   * 4 KiB (implreg/linalg.h). */
  gsl_matrix *m = ir_matrix_alloc_big(rows, cols);
  if (m == NULL)
    return ir_error(IR_ENOMEM,
                    "out of memory allocating a %zux%zu matrix "
                    "(%.3g MB)",
                    rows, cols, (double)rows * (double)cols * 8.0 / 1e6);
  if (zero)
    gsl_matrix_set_zero(m);
  *out = m;
  return IR_OK;
}

/* gsl_rng_uniform_int(r, n) needs n <= max − min + 1 (2^32 for MT19937). */
int ir_data_check_range(const gsl_rng *r, size_t n, const char *what) {
  unsigned long span = gsl_rng_max(r) - gsl_rng_min(r);
  if (n == 0 || (n - 1) > span)
    return ir_error(IR_EINVAL,
                    "%s: cannot draw uniformly among %zu items with generator "
                    "%s (range %lu); use a 32-bit or wider generator",
                    what, n, gsl_rng_name(r), span);
  return IR_OK;
}

/* Fills perm[0..N) with 0..N−1, then moves a uniformly random ordered sample
 * of m distinct indices into perm[0..m): the first m steps of the
 * Fisher–Yates shuffle, where step k swaps perm[k] with perm[j], j uniform
 * in [k, N).  Every ordered m-subset is equally likely.  Draws exactly m
 * numbers from r.  Cost O(N + m). */
void ir_data_partial_shuffle(gsl_rng *r, size_t *perm, size_t N, size_t m) {
  for (size_t i = 0; i < N; i++)
    perm[i] = i;
  for (size_t k = 0; k < m; k++) {
    size_t j = k + ir_uniform_index(r, N - k);
    size_t t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
}

/* Reads a whole file into a NUL-terminated buffer owned by the caller
 * (*len excludes the NUL).  Regular files are read with one allocation of
 * the right size; pipes and other streams grow the buffer geometrically. */
int ir_data_open_regular(const char *path, FILE **fpo, uintmax_t *size) {
  *fpo = NULL;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer before fstat
   * can refuse it. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    return ir_error(IR_EIO, "cannot open %s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return ir_error(IR_EIO, "cannot read %s: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return ir_error(IR_EIO,
                    "cannot read %s: it is %s; expected a regular file "
                    "(copy the data into a file first)",
                    path, what);
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  FILE *fp = fdopen(fd, "rb");
  if (fp == NULL) {
    int e = errno;
    close(fd);
    return ir_error(IR_EIO, "cannot open %s: %s", path, strerror(e));
  }
  *fpo = fp;
  *size = (uintmax_t)st.st_size;
  return IR_OK;
}

int ir_data_read_all(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *fp;
  uintmax_t size;
  int s = ir_data_open_regular(path, &fp, &size);
  if (s != IR_OK)
    return s;
  if (size >= (uintmax_t)SIZE_MAX - 1) {
    fclose(fp);
    return ir_error(IR_ENOMEM, "%s is too large to read into memory", path);
  }
  /* A file that grows while it is read still reads whole. */
  size_t cap = size > 0 ? (size_t)size + 1 : 65536;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fclose(fp);
    return ir_error(IR_ENOMEM, "out of memory reading %s (%zu bytes)", path,
                    cap);
  }
  size_t n = 0;
  for (;;) {
    size_t want = cap - 1 - n;
    size_t got = fread(buf + n, 1, want, fp);
    n += got;
    if (got < want)
      break;
    /* The buffer is full: probe for one more byte before growing it, so that
     * a regular file of known size needs no reallocation. */
    int c = fgetc(fp);
    if (c == EOF)
      break;
    if (cap > SIZE_MAX / 2) {
      free(buf);
      fclose(fp);
      return ir_error(IR_ENOMEM, "%s is too large to read into memory", path);
    }
    char *nb = realloc(buf, cap * 2);
    if (nb == NULL) {
      free(buf);
      fclose(fp);
      return ir_error(IR_ENOMEM, "out of memory reading %s (%zu bytes)", path,
                      cap * 2);
    }
    buf = nb;
    cap *= 2;
    buf[n++] = (char)c;
  }
  if (ferror(fp)) {
    int e = errno;
    free(buf);
    fclose(fp);
    return ir_error(IR_EIO, "read error on %s: %s", path, strerror(e));
  }
  fclose(fp);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return IR_OK;
}

/* True when path ends in ".npy" (any letter case). */
static int ir_is_npy_name(const char *path) {
  size_t n = strlen(path);
  if (n < 4 || path[n - 4] != '.')
    return 0;
  const char *e = path + n - 3;
  return (e[0] == 'n' || e[0] == 'N') && (e[1] == 'p' || e[1] == 'P') &&
         (e[2] == 'y' || e[2] == 'Y');
}

/* ======================================================================== */
/* Data sets                                                                 */
/* ======================================================================== */

ir_dataset *ir_dataset_alloc(size_t n, size_t d, size_t K, size_t nclasses) {
  if (n == 0 || d == 0 || K == 0) {
    ir_error(IR_EINVAL,
             "cannot allocate a data set with n = %zu, d = %zu, K = %zu: "
             "every size must be at least 1",
             n, d, K);
    return NULL;
  }
  ir_dataset *ds = calloc(1, sizeof *ds);
  if (ds == NULL) {
    ir_error(IR_ENOMEM, "out of memory allocating a data set");
    return NULL;
  }
  ds->n = n;
  ds->d = d;
  ds->K = K;
  ds->nclasses = nclasses;
  if (ir_data_mat_new(n, d, 1, &ds->X) != IR_OK ||
      ir_data_mat_new(n, K, 1, &ds->Y) != IR_OK) {
    ir_dataset_free(ds);
    return NULL;
  }
  if (nclasses > 0) {
    ds->labels = calloc(n, sizeof *ds->labels);
    if (ds->labels == NULL) {
      ir_dataset_free(ds);
      ir_error(IR_ENOMEM, "out of memory allocating %zu labels", n);
      return NULL;
    }
  }
  return ds;
}

void ir_dataset_free(ir_dataset *ds) {
  if (ds == NULL)
    return;
  if (ds->X != NULL)
    gsl_matrix_free(ds->X);
  if (ds->Y != NULL)
    gsl_matrix_free(ds->Y);
  free(ds->labels);
  free(ds);
}

int ir_data_read_matrix(const char *path, gsl_matrix **out) {
  if (path != NULL && ir_is_npy_name(path))
    return ir_data_read_npy(path, out);
  return ir_data_read_csv(path, out);
}

int ir_data_write_matrix(const char *path, const gsl_matrix *m,
                         const char *header) {
  if (path != NULL && ir_is_npy_name(path)) {
    if (header != NULL)
      return ir_error(IR_EINVAL,
                      "cannot write %s: a .npy file has no "
                      "header line; pass NULL",
                      path);
    return ir_data_write_npy(path, m);
  }
  return ir_data_write_csv(path, m, header);
}
