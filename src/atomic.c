/* atomic.c — whole-or-nothing file writes (temporary file + rename). */
#define _POSIX_C_SOURCE 200809L
#include "atomic.h"

#include "implreg/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ir_atomic_open(ir_atomic_file *f, const char *path) {
  f->fp = NULL;
  f->tmp = NULL;
  f->path = NULL;
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return ir_error(IR_EIO, "cannot write %s: it is a directory", path);
  size_t len = strlen(path);
  f->path = malloc(len + 1);
  f->tmp = malloc(len + 16);
  if (f->path == NULL || f->tmp == NULL) {
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    return ir_error(IR_ENOMEM, "out of memory opening %s", path);
  }
  memcpy(f->path, path, len + 1);
  snprintf(f->tmp, len + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(f->tmp);
  if (fd < 0) {
    int e = errno;
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  /* mkstemp creates mode 0600; results are meant to be shared. */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  f->fp = fdopen(fd, "w");
  if (f->fp == NULL) {
    int e = errno;
    close(fd);
    unlink(f->tmp);
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    return ir_error(IR_EIO, "cannot write %s: %s", path, strerror(e));
  }
  return IR_OK;
}

static void ir_atomic_release(ir_atomic_file *f) {
  free(f->tmp);
  free(f->path);
  f->tmp = f->path = NULL;
  f->fp = NULL;
}

int ir_atomic_commit(ir_atomic_file *f) {
  int bad = ferror(f->fp);
  if (fclose(f->fp) != 0)
    bad = 1;
  if (bad) {
    unlink(f->tmp);
    int s = ir_error(IR_EIO, "write error on %s", f->path);
    ir_atomic_release(f);
    return s;
  }
  if (rename(f->tmp, f->path) != 0) {
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
  if (f->fp != NULL)
    fclose(f->fp);
  if (f->tmp != NULL)
    unlink(f->tmp);
  ir_atomic_release(f);
}

int ir_mkdir_p(const char *path) {
  size_t len = strlen(path);
  if (len == 0)
    return ir_error(IR_EINVAL, "empty directory name");
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
