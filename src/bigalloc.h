/* bigalloc.h — internal: large blocks on transparent huge pages.
 *
 * ir_alloc_big(bytes): like malloc (release with free()), but from
 * IR_BIG_BYTES on the block is 2 MiB-aligned, its length rounded up to a
 * multiple of 2 MiB and marked for transparent huge pages (Linux
 * madvise(MADV_HUGEPAGE); a hint, ignored where unsupported), so that its
 * first touch costs one page fault per 2 MiB instead of one per 4 KiB.
 * Contents uninitialized.  NULL when out of memory (no message recorded).
 * Cost: below the threshold malloc's; above it up to 2 MiB of address space
 * (and, once touched, memory) more than asked for. */
#ifndef IMPLREG_SRC_BIGALLOC_H
#define IMPLREG_SRC_BIGALLOC_H

#include <stddef.h>

/* From this size on a huge page's zeroing (~0.1–0.2 ms on this project's
 * VMs) costs less than the 4 KiB faults it replaces (256 of ~10 µs). */
#define IR_BIG_BYTES ((size_t)1 << 20)

void *ir_alloc_big(size_t bytes);

#endif
