/* atomic.h (private) — files that appear whole or not at all.
 *
 * ir_atomic_open creates "<path>.tmp.XXXXXX" next to the target (same
 * directory, so rename is atomic); ir_atomic_commit flushes, closes and
 * renames it onto path; ir_atomic_abort closes and removes it.  Exactly one
 * of commit/abort must follow a successful open.
 */
#ifndef IMPLREG_ATOMIC_H
#define IMPLREG_ATOMIC_H

#include <stdio.h>

typedef struct {
  FILE *fp;
  char *tmp;  /* temporary name (owned) */
  char *path; /* final name (owned) */
} ir_atomic_file;

/* IR_EIO with "cannot write PATH: reason" when the directory is missing or
 * not writable. */
int ir_atomic_open(ir_atomic_file *f, const char *path);
/* IR_EIO when a write error happened (checked with ferror) or the rename
 * fails; the temporary file is removed in every case. */
int ir_atomic_commit(ir_atomic_file *f);
void ir_atomic_abort(ir_atomic_file *f);

/* Every file ir_atomic_commit renamed into place is recorded, in order, as
 * the path it was given; files made otherwise (gnuplot's images) are
 * recorded with ir_atomic_note once renamed into place.  The record lives
 * as long as the process (report_outdir.c lists a run's files from it). */
void ir_atomic_note(const char *path);
size_t ir_atomic_written_count(void);
const char *ir_atomic_written(size_t i); /* NULL past the end */

/* Creates directory path and its parents (mode 0777 & umask); IR_EIO when
 * a component exists and is not a directory or cannot be created. */
int ir_mkdir_p(const char *path);

#endif
