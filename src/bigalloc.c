/* bigalloc.c — large matrices backed by transparent huge pages where the
 * system offers them (see ir_matrix_alloc_big in linalg.h). */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE (Linux) */
#include "implreg/linalg.h"
#include "implreg/status.h"

#include <stdint.h>
#include <sys/mman.h>

/* Below this many bytes the first touch is cheap enough either way. */
#define IR_BIG_BYTES ((size_t)8 << 20)
#define IR_HUGE_PAGE ((uintptr_t)2 << 20)

gsl_matrix *ir_matrix_alloc_big(size_t rows, size_t cols) {
  gsl_matrix *m = gsl_matrix_alloc(rows, cols);
  if (m == NULL) {
    ir_error(IR_ENOMEM, "out of memory (%zu x %zu matrix)", rows, cols);
    return NULL;
  }
#ifdef MADV_HUGEPAGE
  const size_t bytes = rows * cols * sizeof(double);
  if (bytes >= IR_BIG_BYTES) {
    /* The 2 MiB-aligned interior of the (untouched, mmap-backed) block:
     * a hint only, so its failure changes nothing but speed. */
    const uintptr_t a = ((uintptr_t)m->data + IR_HUGE_PAGE - 1) &
                        ~(IR_HUGE_PAGE - 1);
    const uintptr_t e = ((uintptr_t)m->data + bytes) & ~(IR_HUGE_PAGE - 1);
    if (e > a)
      (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
  }
#endif
  return m;
}
