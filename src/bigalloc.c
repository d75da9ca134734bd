/* bigalloc.c — large blocks backed by transparent huge pages where the
 * system offers them (see ir_matrix_alloc_big in linalg.h, ir_alloc_big in
 * bigalloc.h).
 *
 * Why: the first touch of fresh memory costs a page fault per page.  On
 * this project's VMs a 4 KiB fault costs ~10 µs (2.6 ms per MB touched),
 * a 2 MiB one 0.1–0.2 ms per MB (measured: 100 MB memset, 0.26 s against
 * 0.012–0.025 s).  A double-descent run touches ~120 MB outside its
 * feature matrices, so small pages cost it ~0.3 s of CPU.  The block is
 * 2 MiB-aligned and its length rounded up to a multiple of 2 MiB, so that
 * every page of it can be a huge one; with THP in "madvise" mode (Debian's
 * default) only the madvise'd blocks get them. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE (Linux) */
#include "bigalloc.h"
#include "implreg/linalg.h"
#include "implreg/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define IR_HUGE_PAGE ((size_t)2 << 20)

void *ir_alloc_big(size_t bytes) {
  if (bytes < IR_BIG_BYTES)
    return malloc(bytes > 0 ? bytes : 1);
  if (bytes > SIZE_MAX - IR_HUGE_PAGE)
    return NULL;
  const size_t len = (bytes + IR_HUGE_PAGE - 1) & ~(IR_HUGE_PAGE - 1);
  void *p = NULL;
  /* glibc serves this from its own mmap, so free() releases it. */
  if (posix_memalign(&p, IR_HUGE_PAGE, len) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: failure costs speed only */
#endif
  return p;
}

gsl_matrix *ir_matrix_alloc_big(size_t rows, size_t cols) {
  if (rows == 0 || cols == 0 || cols > SIZE_MAX / sizeof(double) / rows) {
    ir_error(IR_ENOMEM, "cannot allocate a %zu x %zu matrix", rows, cols);
    return NULL;
  }
  const size_t bytes = rows * cols * sizeof(double);
  if (bytes < IR_BIG_BYTES) {
    gsl_matrix *m = gsl_matrix_alloc(rows, cols);
    if (m == NULL)
      ir_error(IR_ENOMEM, "out of memory (%zu x %zu matrix)", rows, cols);
    return m;
  }
  /* A block of our own (gsl_block_free frees its data with free()), owned
   * by the matrix so that gsl_matrix_free releases both. */
  gsl_block *b = malloc(sizeof *b);
  double *data = ir_alloc_big(bytes);
  gsl_matrix *m = NULL;
  if (b != NULL && data != NULL) {
    b->size = rows * cols;
    b->data = data;
    m = gsl_matrix_alloc_from_block(b, 0, rows, cols, cols);
  }
  if (m == NULL) {
    free(b);
    free(data);
    ir_error(IR_ENOMEM, "out of memory (%zu x %zu matrix)", rows, cols);
    return NULL;
  }
  m->owner = 1;
  return m;
}
