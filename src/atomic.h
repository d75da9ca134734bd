/* atomic.h (private) — files that appear whole or not at all.
 *
 * ir_atomic_open creates "<path>.tmp.XXXXXX" next to the target (same
 * directory, so rename is atomic); ir_atomic_commit flushes, closes and
 * renames it onto path; ir_atomic_abort closes and removes it.  Exactly one
 * of commit/abort must follow a successful open.
 *
 * What an existing path is decides how it is written (ir_atomic_classify);
 * nothing but a regular file is ever replaced:
 *   - missing or a regular file: temporary file + rename, as above;
 *   - a character device (/dev/null, a terminal) or a FIFO: written through
 *     (opened for writing and written in place, no rename; a FIFO with no
 *     reader is refused instead of blocking);
 *   - a symbolic link: followed; its final target is written by these same
 *     rules (a regular target atomically, with the temporary file in the
 *     target's folder); a dangling link is refused;
 *   - a directory, block device or socket: refused.
 * Refusals are IR_EIO with "cannot write PATH: it is ...".
 */
#ifndef IMPLREG_ATOMIC_H
#define IMPLREG_ATOMIC_H

#include <stdio.h>

typedef struct {
  FILE *fp;
  char *tmp;    /* temporary name (owned); NULL when written through */
  char *path;   /* final name as given (owned) */
  char *target; /* what rename replaces: path, or a symlink's target */
  int pending;  /* slot in the table of temporary files in progress, or -1 */
} ir_atomic_file;

/* How ir_atomic_open writes path. */
typedef enum {
  IR_ATOMIC_NEW,     /* no such file: created atomically */
  IR_ATOMIC_REPLACE, /* a regular file (possibly via a symlink): atomically */
  IR_ATOMIC_THROUGH  /* a character device or FIFO: written in place */
} ir_atomic_kind;

/* Classifies path without writing anything: *kind as above, and, when
 * resolved != NULL, *resolved the malloc'd path to write (the symlink's
 * target, else a copy of path).  IR_EIO (message "cannot write PATH: it
 * is ...") for a directory, block device, socket or dangling symlink;
 * IR_EIO when the path cannot be examined. */
int ir_atomic_classify(const char *path, ir_atomic_kind *kind, char **resolved);

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

/* Removes the temporary files of writes in progress (opened, neither
 * committed nor aborted).  Async-signal-safe (unlink only): for a signal
 * handler that ends the process, so that an interrupted run leaves no
 * "*.tmp.*" files behind.  At most IR_ATOMIC_PENDING writes in progress
 * are tracked (one at a time is the rule; a write beyond is not). */
enum { IR_ATOMIC_PENDING = 16 };
void ir_atomic_unlink_pending(void);

/* Removes the folder path and everything in it (not following symbolic
 * links: a link is removed, never its target).  For implreg's own folders
 * (a staging folder); IR_EIO naming the first entry that cannot go. */
int ir_remove_tree(const char *path);

/* Creates directory path and its parents (mode 0777 & umask); IR_EIO when
 * a component exists and is not a directory or cannot be created. */
int ir_mkdir_p(const char *path);

#endif
