/* cli_paths.c — the up-front checks of an analysis's files and sizes:
 * inputs are regular files, outputs can be written without replacing a
 * device, FIFO or symlink (src/atomic.h's policy), no output names an
 * input or another output, and sizes fit in memory.  Also the escaping of
 * control characters in messages that quote input. */
#define _XOPEN_SOURCE 700
#include "cli.h"

#include "atomic.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenBLAS's build configuration ("... MAX_THREADS=64"), see cli.c. */
char *openblas_get_config(void);

int ir_cli_validating = 0;

/* ---- Escaping
 * ---------------------------------------------------------------- */

size_t ir_cli_escape(const char *in, char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  if (cap == 0)
    return 0;
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    unsigned char c = *p;
    if (c >= 0x20 && c != 0x7f) {
      if (k + 1 >= cap)
        break;
      out[k++] = (char)c;
      continue;
    }
    if (k + 4 >= cap)
      break;
    out[k++] = '\\';
    out[k++] = 'x';
    out[k++] = hex[c >> 4];
    out[k++] = hex[c & 15];
  }
  out[k] = '\0';
  return k;
}

void ir_cli_eprintf(const char *fmt, ...) {
  char raw[8192], esc[4 * sizeof raw];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  ir_cli_escape(raw, esc, sizeof esc);
  fputs(esc, stderr);
  fputc('\n', stderr);
}

/* ---- Files
 * ------------------------------------------------------------------- */

static const char *ir_kind_name(mode_t m) {
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO (named pipe)";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISSOCK(m))
    return "a socket";
  return "not a regular file";
}

int ir_cli_check_input(const char *prog, const char *opt, const char *path) {
  struct stat st;
  if (path[0] == '\0') {
    ir_cli_eprintf("%s: --%s: empty file name", prog, opt);
    return IR_EXIT_USAGE;
  }
  if (stat(path, &st) != 0) {
    int e = errno;
    if (ir_cli_validating && e == ENOENT)
      return 0; /* an earlier analysis of `all` writes it */
    ir_cli_eprintf("%s: --%s %s: %s", prog, opt, path, strerror(e));
    return IR_EXIT_USAGE;
  }
  if (!S_ISREG(st.st_mode)) {
    ir_cli_eprintf("%s: --%s %s: it is %s; only regular files are read "
                   "(copy the data into a file first)",
                   prog, opt, path, ir_kind_name(st.st_mode));
    return IR_EXIT_USAGE;
  }
  return 0;
}

/* The folder of path (malloc'd): "." for a bare name. */
static char *ir_dir_of(const char *path) {
  char *copy = strdup(path);
  if (copy == NULL)
    return NULL;
  char *d = strdup(dirname(copy));
  free(copy);
  return d;
}

int ir_cli_check_output(const char *prog, const char *opt, const char *path) {
  if (path[0] == '\0') {
    ir_cli_eprintf("%s: --%s: empty file name", prog, opt);
    return IR_EXIT_USAGE;
  }
  ir_atomic_kind kind;
  char *target = NULL;
  int s = ir_atomic_classify(path, &kind, &target);
  if (s != IR_OK) {
    ir_cli_eprintf("%s: --%s: %s", prog, opt, ir_error_message());
    return s == IR_ENOMEM ? IR_EXIT_INTERNAL : IR_EXIT_USAGE;
  }
  int rc = 0;
  if (kind != IR_ATOMIC_THROUGH) {
    /* A temporary file is made next to the target: its folder must exist
     * and be writable (checked now, not after the work). */
    char *dir = ir_dir_of(target);
    struct stat st;
    if (dir == NULL) {
      rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
    } else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      ir_cli_eprintf("%s: --%s %s: folder %s does not exist; create it first",
                     prog, opt, path, dir);
      rc = IR_EXIT_USAGE;
    } else if (access(dir, W_OK | X_OK) != 0) {
      ir_cli_eprintf("%s: --%s %s: folder %s is not writable", prog, opt, path,
                     dir);
      rc = IR_EXIT_USAGE;
    }
    free(dir);
  }
  free(target);
  return rc;
}

/* What identifies a file: device and inode when it exists, else the
 * canonical folder and the last component. */
typedef struct {
  int exists;
  dev_t dev;
  ino_t ino;
  char *name; /* when !exists (malloc'd) */
} ir_file_id;

static void ir_file_id_get(const char *path, ir_file_id *id) {
  struct stat st;
  memset(id, 0, sizeof *id);
  if (stat(path, &st) == 0) {
    id->exists = 1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return;
  }
  char *copy = strdup(path), *copy2 = strdup(path);
  if (copy != NULL && copy2 != NULL) {
    char *dir = realpath(dirname(copy), NULL);
    const char *base = basename(copy2);
    const char *d = dir != NULL ? dir : path;
    size_t len = strlen(d) + strlen(base) + 2;
    id->name = malloc(len);
    if (id->name != NULL) {
      if (dir != NULL)
        snprintf(id->name, len, "%s/%s", dir, base);
      else
        snprintf(id->name, len, "%s", path);
    }
    free(dir);
  }
  free(copy);
  free(copy2);
}

static int ir_file_id_same(const ir_file_id *a, const ir_file_id *b) {
  if (a->exists != b->exists)
    return 0;
  if (a->exists)
    return a->dev == b->dev && a->ino == b->ino;
  return a->name != NULL && b->name != NULL && strcmp(a->name, b->name) == 0;
}

int ir_cli_check_distinct(const char *prog, const ir_cli_path *p, size_t n) {
  ir_file_id *id = calloc(n ? n : 1, sizeof *id);
  ir_file_id *parent = calloc(n ? n : 1, sizeof *parent);
  if (id == NULL || parent == NULL) {
    free(id);
    free(parent);
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    if (p[i].path == NULL)
      continue;
    ir_file_id_get(p[i].path, &id[i]);
    if (p[i].role == IR_PATH_IN) {
      char *d = ir_dir_of(p[i].path);
      if (d != NULL)
        ir_file_id_get(d, &parent[i]);
      free(d);
    }
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    for (size_t j = i + 1; j < n && rc == 0; j++) {
      if (p[i].path == NULL || p[j].path == NULL)
        continue;
      int ri = p[i].role, rj = p[j].role;
      if (ri == IR_PATH_IN && rj == IR_PATH_IN)
        continue;
      if (ri == IR_PATH_DIR || rj == IR_PATH_DIR) {
        /* An input directly inside the output folder: the run replaces the
         * folder's files and removes the files of the folder's earlier run,
         * an input among them. */
        size_t in = ri == IR_PATH_IN ? i : rj == IR_PATH_IN ? j : n;
        size_t dir = ri == IR_PATH_DIR ? i : j;
        if (in < n && parent[in].exists &&
            ir_file_id_same(&parent[in], &id[dir])) {
          ir_cli_eprintf("%s: --%s %s is inside the output folder --%s %s, "
                         "whose files a run replaces or removes; move the "
                         "input or choose another output folder",
                         prog, p[in].opt, p[in].path, p[dir].opt, p[dir].path);
          rc = IR_EXIT_USAGE;
        }
        continue;
      }
      if (ir_file_id_same(&id[i], &id[j])) {
        ir_cli_eprintf("%s: --%s %s and --%s %s name the same file; give %s "
                       "a different name",
                       prog, p[i].opt, p[i].path, p[j].opt, p[j].path,
                       ri == IR_PATH_IN ? "the output" : "each output");
        rc = IR_EXIT_USAGE;
      }
    }
  for (size_t i = 0; i < n; i++) {
    free(id[i].name);
    free(parent[i].name);
  }
  free(id);
  free(parent);
  return rc;
}

/* ---- Sizes
 * ------------------------------------------------------------------- */

size_t ir_cli_bytes(size_t a, size_t b, size_t c) {
  if (a != 0 && b > SIZE_MAX / a)
    return SIZE_MAX;
  size_t ab = a * b;
  if (ab != 0 && c > SIZE_MAX / ab)
    return SIZE_MAX;
  return ab * c;
}

size_t ir_cli_memory_limit(const char **why) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  size_t lim = SIZE_MAX;
  if (why != NULL)
    *why = "physical memory";
  if (pages > 0 && psize > 0)
    lim = ir_cli_bytes((size_t)pages, (size_t)psize, 1);
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (uintmax_t)rl.rlim_cur < (uintmax_t)lim) {
    lim = (size_t)rl.rlim_cur;
    if (why != NULL)
      *why = "address-space limit (ulimit -v)";
  }
  return lim;
}

int ir_cli_check_memory(const char *prog, const char *what, size_t bytes) {
  const char *why;
  size_t lim = ir_cli_memory_limit(&why);
  if (bytes <= lim)
    return 0;
  if (bytes == SIZE_MAX)
    fprintf(stderr,
            "%s: %s needs more bytes than this machine can address; choose "
            "smaller sizes\n",
            prog, what);
  else
    fprintf(stderr,
            "%s: %s needs %zu bytes (%.3g GiB), more than this machine's %s "
            "of %zu bytes (%.3g GiB); choose smaller sizes\n",
            prog, what, bytes, (double)bytes / 1073741824.0, why, lim,
            (double)lim / 1073741824.0);
  return IR_EXIT_USAGE;
}

/* ---- Threads
 * ----------------------------------------------------------------- */

int ir_cli_max_threads(void) {
  const char *cfg = openblas_get_config();
  const char *m = cfg != NULL ? strstr(cfg, "MAX_THREADS=") : NULL;
  if (m != NULL) {
    long v = strtol(m + strlen("MAX_THREADS="), NULL, 10);
    if (v >= 1 && v <= 1024)
      return (int)v;
  }
  return 64; /* OpenBLAS's default NUM_THREADS for a build without one */
}

/* ---- A run's files
 * ----------------------------------------------------------- */

int ir_cli_check_out_dir(const char *prog, const char *dir) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      ir_cli_eprintf("%s: --out %s: it is %s, not a folder; give a folder "
                     "name",
                     prog, dir,
                     S_ISREG(st.st_mode) ? "a file" : ir_kind_name(st.st_mode));
      return IR_EXIT_USAGE;
    }
    if (access(dir, W_OK | X_OK) != 0) {
      ir_cli_eprintf("%s: --out %s: folder is not writable", prog, dir);
      return IR_EXIT_USAGE;
    }
    return 0;
  }
  /* Created later with its parents: the nearest existing ancestor must be
   * a writable folder. */
  char *p = strdup(dir);
  if (p == NULL)
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  int rc = 0;
  for (;;) {
    char *d = ir_dir_of(p);
    free(p);
    p = d;
    if (p == NULL) {
      rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
      break;
    }
    if (stat(p, &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        ir_cli_eprintf("%s: --out %s: %s is not a folder", prog, dir, p);
        rc = IR_EXIT_USAGE;
      } else if (access(p, W_OK | X_OK) != 0) {
        ir_cli_eprintf("%s: --out %s: cannot create it in %s (not writable)",
                       prog, dir, p);
        rc = IR_EXIT_USAGE;
      }
      break;
    }
    if (strcmp(p, ".") == 0 || strcmp(p, "/") == 0)
      break;
  }
  free(p);
  return rc;
}

/* --resume, --shard and MPI ranks only where there are cells to share. */
static int ir_cli_check_cells(const char *prog, const ir_cli_common *c) {
  const char *what = c->resume        ? "--resume"
                     : c->nshards > 1 ? "--shard"
                                      : NULL;
  if (!c->cells && what != NULL) {
    ir_cli_eprintf("%s: %s: this analysis has no sweep of cells to %s (only "
                   "flatness and nn-double-descent have)",
                   prog, what, c->resume ? "resume" : "share");
    return IR_EXIT_USAGE;
  }
  if (!c->cells && ir_cli_mpi_size > 1) {
    ir_cli_eprintf("%s: started as %d MPI ranks, but this analysis has no "
                   "sweep of cells to spread (only flatness and "
                   "nn-double-descent have): run it as one process",
                   prog, ir_cli_mpi_size);
    return IR_EXIT_USAGE;
  }
  if (c->nshards > 1 && ir_cli_mpi_size > 1) {
    ir_cli_eprintf("%s: --shard and MPI ranks both divide the cells: use "
                   "one of them",
                   prog);
    return IR_EXIT_USAGE;
  }
  return 0;
}

int ir_cli_check_run(const char *prog, const ir_cli_common *c,
                     const ir_cli_path *files, size_t n) {
  int rc = c != NULL ? ir_cli_check_cells(prog, c) : 0;
  if (rc == 0 && c != NULL)
    rc = ir_cli_check_out_dir(prog, c->out);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (files[i].path == NULL)
      continue;
    if (files[i].role == IR_PATH_IN)
      rc = ir_cli_check_input(prog, files[i].opt, files[i].path);
    else if (files[i].role == IR_PATH_OUT)
      rc = ir_cli_check_output(prog, files[i].opt, files[i].path);
    else if (files[i].role == IR_PATH_DIR)
      rc = ir_cli_check_out_dir(prog, files[i].path);
  }
  if (rc != 0)
    return rc;
  ir_cli_path all[33] = {{NULL, NULL, 0}};
  size_t k = 0;
  if (c != NULL)
    all[k++] = (ir_cli_path){"out", c->out, IR_PATH_DIR};
  for (size_t i = 0; i < n && k < 33; i++)
    all[k++] = files[i];
  rc = ir_cli_check_distinct(prog, all, k);
  /* The last check, and the first step of the run: the folder is this
   * run's until it ends (`all` only validates here). */
  if (rc == 0 && c != NULL && !ir_cli_validating) {
    rc = ir_cli_lock_out(prog, c->out);
    if (rc == 0)
      ir_cli_note_run(prog, c->out, c->cells);
  }
  return rc;
}

/* Under an address-space limit every OpenBLAS thread reserves its buffer,
 * its stack and a malloc arena; when they do not fit, OpenBLAS hangs
 * instead of failing.  Measured with this build (minnorm, 400 x 300):
 * under ulimit -v 4000000 28 threads ran and 30 hung, under 1000000 6 ran
 * and 8 hung: about 133 MiB per thread.  The cap keeps a margin. */
enum { IR_THREAD_MIB = 160, IR_THREAD_BASE_MIB = 256 };

int ir_cli_thread_cap(size_t *aslimit) {
  int cap = ir_cli_max_threads();
  if (aslimit != NULL)
    *aslimit = 0;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    uintmax_t mib = (uintmax_t)rl.rlim_cur >> 20;
    uintmax_t fit = mib > IR_THREAD_BASE_MIB
                        ? (mib - IR_THREAD_BASE_MIB) / IR_THREAD_MIB
                        : 0;
    if (fit < 1)
      fit = 1;
    if (fit < (uintmax_t)cap) {
      cap = (int)fit;
      if (aslimit != NULL)
        *aslimit = (size_t)rl.rlim_cur;
    }
  }
  return cap;
}
