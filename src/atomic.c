/* atomic.c — whole-or-nothing file writes (temporary file + rename). */
#define _XOPEN_SOURCE 700
#include "atomic.h"

#include "implreg/status.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *ir_atomic_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

int ir_atomic_classify(const char *path, ir_atomic_kind *kind,
                       char **resolved) {
  if (resolved != NULL)
    *resolved = NULL;
  *kind = IR_ATOMIC_NEW;
  struct stat lst, st;
  if (lstat(path, &lst) != 0) {
    /* Missing (or unreachable: creating the temporary file reports why). */
    if (resolved != NULL && (*resolved = ir_atomic_strdup(path)) == NULL)
      return ir_error(IR_ENOMEM, "out of memory opening %s", path);
    return IR_OK;
  }
  int link = S_ISLNK(lst.st_mode);
  st = lst;
  if (link && stat(path, &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      return ir_error(IR_EIO,
                      "cannot write %s: it is a symbolic link to a missing "
                      "file; remove the link or give another name",
                      path);
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  const char *what = NULL;
  if (S_ISDIR(st.st_mode))
    what = "a directory";
  else if (S_ISBLK(st.st_mode))
    what = "a block device";
  else if (S_ISSOCK(st.st_mode))
    what = "a socket";
  else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) &&
           !S_ISFIFO(st.st_mode))
    what = "not a regular file";
  if (what != NULL)
    return ir_error(IR_EIO,
                    "cannot write %s: it is %s%s; give a regular file's name",
                    path, link ? "a symbolic link to " : "", what);
  if (S_ISREG(st.st_mode)) {
    *kind = IR_ATOMIC_REPLACE;
    if (resolved != NULL) {
      /* The link's final target is replaced, in its own folder, so the
       * link stays a link. */
      *resolved = link ? realpath(path, NULL) : ir_atomic_strdup(path);
      if (*resolved == NULL)
        return ir_error(link ? IR_EIO : IR_ENOMEM, "cannot write %s: %s", path,
                        link ? strerror(errno) : "out of memory");
    }
    return IR_OK;
  }
  *kind = IR_ATOMIC_THROUGH;
  if (resolved != NULL && (*resolved = ir_atomic_strdup(path)) == NULL)
    return ir_error(IR_ENOMEM, "out of memory opening %s", path);
  return IR_OK;
}

/* Temporary files in progress, for ir_atomic_unlink_pending: a slot's
 * path is complete before its flag is set, and the flag is cleared before
 * the file is renamed or removed, so a handler sees whole names only. */
static char ir_pending_path[IR_ATOMIC_PENDING][4096];
static volatile sig_atomic_t ir_pending_used[IR_ATOMIC_PENDING];

static int ir_pending_add(const char *tmp) {
  if (strlen(tmp) >= sizeof ir_pending_path[0])
    return -1;
  for (int i = 0; i < IR_ATOMIC_PENDING; i++)
    if (!ir_pending_used[i]) {
      strcpy(ir_pending_path[i], tmp);
      ir_pending_used[i] = 1;
      return i;
    }
  return -1;
}

static void ir_pending_drop(ir_atomic_file *f) {
  if (f->pending >= 0 && f->pending < IR_ATOMIC_PENDING)
    ir_pending_used[f->pending] = 0;
  f->pending = -1;
}

void ir_atomic_unlink_pending(void) {
  for (int i = 0; i < IR_ATOMIC_PENDING; i++)
    if (ir_pending_used[i])
      unlink(ir_pending_path[i]);
}

static void ir_atomic_release(ir_atomic_file *f) {
  ir_pending_drop(f);
  free(f->tmp);
  free(f->path);
  free(f->target);
  f->tmp = f->path = f->target = NULL;
  f->fp = NULL;
}

/* A character device or FIFO: opened and written in place. */
static int ir_atomic_open_through(ir_atomic_file *f, const char *path) {
  struct stat st;
  int fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
  /* O_NONBLOCK: a FIFO nobody reads is refused at once, not waited on. */
  int fd =
      open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
  if (fd < 0) {
    int e = errno;
    if (fifo && e == ENXIO)
      return ir_error(IR_EIO,
                      "cannot write %s: it is a FIFO with no reader; start "
                      "the reader first or give a regular file's name",
                      path);
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  if (fifo) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  f->fp = fdopen(fd, "w");
  if (f->fp == NULL) {
    int e = errno;
    close(fd);
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  return IR_OK;
}

int ir_atomic_open(ir_atomic_file *f, const char *path) {
  f->fp = NULL;
  f->tmp = NULL;
  f->path = NULL;
  f->target = NULL;
  f->pending = -1;
  ir_atomic_kind kind;
  char *target;
  int s = ir_atomic_classify(path, &kind, &target);
  if (s != IR_OK)
    return s;
  f->target = target;
  f->path = ir_atomic_strdup(path);
  if (f->path == NULL) {
    ir_atomic_release(f);
    return ir_error(IR_ENOMEM, "out of memory opening %s", path);
  }
  if (kind == IR_ATOMIC_THROUGH) {
    s = ir_atomic_open_through(f, path);
    if (s != IR_OK)
      ir_atomic_release(f);
    return s;
  }
  size_t len = strlen(target);
  f->tmp = malloc(len + 16);
  if (f->tmp == NULL) {
    ir_atomic_release(f);
    return ir_error(IR_ENOMEM, "out of memory opening %s", path);
  }
  snprintf(f->tmp, len + 16, "%s.tmp.XXXXXX", target);
  int fd = mkstemp(f->tmp);
  if (fd < 0) {
    int e = errno;
    ir_atomic_release(f);
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  f->pending = ir_pending_add(f->tmp);
  /* mkstemp creates mode 0600; results are meant to be shared. */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  f->fp = fdopen(fd, "w");
  if (f->fp == NULL) {
    int e = errno;
    close(fd);
    unlink(f->tmp);
    ir_atomic_release(f);
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  return IR_OK;
}

int ir_atomic_commit(ir_atomic_file *f) {
  int bad = ferror(f->fp);
  if (fclose(f->fp) != 0)
    bad = 1;
  ir_pending_drop(f);
  if (bad) {
    if (f->tmp != NULL)
      unlink(f->tmp);
    int s = ir_error(IR_EIO, "write error on %s", f->path);
    ir_atomic_release(f);
    return s;
  }
  if (f->tmp == NULL) { /* written through: nothing to rename or record */
    ir_atomic_release(f);
    return IR_OK;
  }
  if (rename(f->tmp, f->target) != 0) {
    int e = errno;
    unlink(f->tmp);
    int s = ir_error(IR_EIO, "cannot rename onto %s: %s", f->path, strerror(e));
    ir_atomic_release(f);
    return s;
  }
  ir_atomic_note(f->path);
  ir_atomic_release(f);
  return IR_OK;
}

/* The process's record of the files it wrote, for the output folder's
 * manifest (report_outdir.c).  No memory for a record only loses the
 * record: the file itself was written. */
static char **ir_written;
static size_t ir_nwritten, ir_cwritten;

void ir_atomic_note(const char *path) {
  if (ir_nwritten == ir_cwritten) {
    size_t nc = ir_cwritten ? 2 * ir_cwritten : 64;
    char **q = realloc(ir_written, nc * sizeof *q);
    if (q == NULL)
      return;
    ir_written = q;
    ir_cwritten = nc;
  }
  size_t n = strlen(path) + 1;
  char *c = malloc(n);
  if (c == NULL)
    return;
  memcpy(c, path, n);
  ir_written[ir_nwritten++] = c;
}

size_t ir_atomic_written_count(void) {
  return ir_nwritten;
}

const char *ir_atomic_written(size_t i) {
  return i < ir_nwritten ? ir_written[i] : NULL;
}

void ir_atomic_abort(ir_atomic_file *f) {
  ir_pending_drop(f);
  if (f->fp != NULL)
    fclose(f->fp);
  if (f->tmp != NULL)
    unlink(f->tmp);
  ir_atomic_release(f);
}

int ir_mkdir_p(const char *path) {
  size_t len = strlen(path);
  if (len == 0)
    return ir_error(IR_EIO, "empty directory name");
  char *buf = malloc(len + 1);
  if (buf == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char c = buf[i];
    buf[i] = '\0';
    struct stat st;
    if (stat(buf, &st) != 0) {
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        int s = ir_error(IR_EIO, "cannot create directory %s: %s", buf,
                         strerror(e));
        free(buf);
        return s;
      }
    } else if (!S_ISDIR(st.st_mode)) {
      int s = ir_error(IR_EIO, "%s exists and is not a directory", buf);
      free(buf);
      return s;
    }
    buf[i] = c;
  }
  free(buf);
  return IR_OK;
}

/* nftw's callback: each entry after its contents (FTW_DEPTH), links as
 * links (FTW_PHYS). */
static char ir_tree_fail[4096];
static int ir_tree_errno;
static int ir_tree_rm(const char *p, const struct stat *st, int flag,
                      struct FTW *ftw) {
  (void)st;
  (void)ftw;
  int r = flag == FTW_DP ? rmdir(p) : unlink(p);
  if (r != 0 && errno != ENOENT) {
    ir_tree_errno = errno;
    snprintf(ir_tree_fail, sizeof ir_tree_fail, "%s", p);
    return 1;
  }
  return 0;
}

int ir_remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? IR_OK
                           : ir_error(IR_EIO, "cannot remove %s: %s", path,
                                      strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return unlink(path) == 0 ? IR_OK
                             : ir_error(IR_EIO, "cannot remove %s: %s", path,
                                        strerror(errno));
  ir_tree_fail[0] = '\0';
  ir_tree_errno = 0;
  if (nftw(path, ir_tree_rm, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    if (ir_tree_fail[0] == '\0') {
      ir_tree_errno = errno;
      snprintf(ir_tree_fail, sizeof ir_tree_fail, "%s", path);
    }
    return ir_error(IR_EIO, "cannot remove %s: %s", ir_tree_fail,
                    strerror(ir_tree_errno));
  }
  return IR_OK;
}
