/* cells.c — a sweep's independent cells, computed in this process or over
 * forked worker processes (cells.h).
 *
 * Protocol between the parent and a worker, over two pipes:
 *   parent → worker: a cell index (size_t); closing the pipe means "stop".
 *   worker → parent: a record header {cell, status, length} followed by
 *                    nout doubles (status IR_OK) or `length` bytes of the
 *                    error message (any other status).
 * The parent waits with poll() on every worker's result pipe and hands the
 * next cell to whichever worker answered, so long cells do not hold up a
 * static partition.  Records are read with blocking full reads once poll
 * says one has begun: a worker writes each record in one go.
 *
 * Only the parent writes the store: each cell's file as its record
 * arrives, so that the store never holds a cell the output lacks.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "implreg/cells.h"
#include "implreg/status.h"

/* OpenBLAS's thread controls (its <cblas.h> clashes with GSL's). */
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);

void ir_cells_params_default(ir_cells_params *p) {
  memset(p, 0, sizeof *p);
  p->nout = 1;
  p->workers = 1;
  p->cell_threads = 1;
}

uint64_t ir_cells_hash(const char *text) {
  uint64_t h = 14695981039346656037ULL;
  for (const unsigned char *c = (const unsigned char *)text; c && *c; c++) {
    h ^= *c;
    h *= 1099511628211ULL;
  }
  return h;
}

int ir_cells_ncpu(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 1 ? (int)(n > 4096 ? 4096 : n) : 1;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Full reads and writes, retried on EINTR and short transfers.  Return 0 on
 * success, 1 at end of file before anything was read, -1 otherwise. */
static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, p + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      return got == 0 ? 1 : -1;
    if (r < 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t r = write(fd, p, len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

typedef struct {
  size_t cell;
  int32_t status;
  uint32_t length; /* message bytes (status != IR_OK) */
} rec_header;

/* A worker: compute the cells it is sent until the command pipe closes.
 * Never returns. */
static void worker_main(int cmd, int res, ir_cell_fn fn, void *ctx,
                        size_t nout, int threads) {
  openblas_set_num_threads(threads);
  double *buf = malloc(nout * sizeof(double));
  size_t cell;
  while (read_full(cmd, &cell, sizeof cell) == 0) {
    rec_header h = {cell, IR_OK, 0};
    int s = buf ? fn(ctx, cell, buf) : ir_error(IR_ENOMEM, "out of memory");
    if (s == IR_OK) {
      if (write_full(res, &h, sizeof h) != 0 ||
          write_full(res, buf, nout * sizeof(double)) != 0)
        break;
    } else {
      const char *msg = ir_error_message();
      h.status = s;
      h.length = (uint32_t)strlen(msg);
      if (write_full(res, &h, sizeof h) != 0 ||
          write_full(res, msg, h.length) != 0)
        break;
    }
  }
  free(buf);
  /* _exit: the parent's stdio buffers and atexit handlers are not ours. */
  _exit(0);
}


/* ---- the store ------------------------------------------------------------
 * One small JSON file per cell:
 *   {"sweep": "grid", "cell": 7, "nout": 3, "hash": "00ff…",
 *    "out": [0.5, "NaN", -1.25e-300]}
 * Numbers with 17 significant digits read back to the same bits (glibc's
 * strtod rounds correctly); NaN and ±Infinity, which JSON lacks, as
 * strings. */

static const char *sweep_name(const ir_cells_params *p) {
  return p->sweep ? p->sweep : "cells";
}

static int valid_sweep(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 64)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return 0;
  return 1;
}

static int cell_path(char *buf, size_t len, const char *store,
                     const char *sweep, size_t cell) {
  int n = snprintf(buf, len, "%s/%s-%06zu.json", store, sweep, cell);
  if (n < 0 || (size_t)n >= len)
    return ir_error(IR_EINVAL, "cell store path too long: %s", store);
  return IR_OK;
}

static int store_cell(const ir_cells_params *p, size_t cell,
                      const double *out) {
  char path[4096], tmp[4200];
  int s = cell_path(path, sizeof path, p->store, sweep_name(p), cell);
  if (s != IR_OK)
    return s;
  snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd >= 0) { /* mkstemp makes 0600; results are meant to be shared */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
  }
  FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (fp == NULL) {
    s = ir_error(IR_EIO, "cannot write the cell store %s: %s", p->store,
                 strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    return s;
  }
  fprintf(fp,
          "{\"sweep\": \"%s\", \"cell\": %zu, \"nout\": %zu, \"hash\": "
          "\"%016llx\", \"out\": [",
          sweep_name(p), cell, p->nout, (unsigned long long)p->hash);
  for (size_t j = 0; j < p->nout; j++) {
    const double v = out[j];
    if (j)
      fputs(", ", fp);
    if (isnan(v))
      fputs("\"NaN\"", fp);
    else if (isinf(v))
      fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", fp);
    else
      fprintf(fp, "%.17g", v);
  }
  fputs("]}\n", fp);
  const int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
  if (fclose(fp) != 0 || bad || rename(tmp, path) != 0) {
    s = ir_error(IR_EIO, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return s;
  }
  ir_atomic_note(path); /* one of the run's files (its manifest lists it) */
  return IR_OK;
}

/* Skips spaces, then expects the literal `lit`. */
static int expect(const char **c, const char *lit) {
  while (**c == ' ' || **c == '\n' || **c == '\t' || **c == '\r')
    (*c)++;
  const size_t n = strlen(lit);
  if (strncmp(*c, lit, n) != 0)
    return 0;
  *c += n;
  return 1;
}

/* Reads cell `cell` of sweep/hash/nout from path into out: *found = 0 when
 * the file does not exist; IR_EFORMAT when it exists but is not that
 * cell. */
static int read_cell(const char *path, const char *sweep, uint64_t hash,
                     size_t cell, size_t nout, double *out, int *found) {
  *found = 0;
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    if (errno == ENOENT)
      return IR_OK;
    return ir_error(IR_EIO, "cannot read %s: %s", path, strerror(errno));
  }
  /* A cell file is about 25 bytes per double; anything much longer is not
   * one. */
  const size_t cap = 256 + 64 * nout;
  char *buf = malloc(cap + 1);
  size_t len = buf ? fread(buf, 1, cap + 1, fp) : 0;
  fclose(fp);
  if (buf == NULL)
    return ir_error(IR_ENOMEM, "out of memory (cell store)");
  int ok = len <= cap;
  buf[ok ? len : cap] = '\0';
  const char *c = buf;
  char name[80];
  size_t got_cell = 0, got_nout = 0;
  unsigned long long got_hash = 0;
  int used = 0;
  ok = ok && expect(&c, "{\"sweep\": \"") &&
       sscanf(c, "%64[A-Za-z0-9_-]%n", name, &used) == 1;
  c += ok ? used : 0;
  ok = ok && expect(&c, "\", \"cell\": ") &&
       sscanf(c, "%zu%n", &got_cell, &used) == 1;
  c += ok ? used : 0;
  ok = ok && expect(&c, ", \"nout\": ") &&
       sscanf(c, "%zu%n", &got_nout, &used) == 1;
  c += ok ? used : 0;
  ok = ok && expect(&c, ", \"hash\": \"") &&
       sscanf(c, "%16llx%n", &got_hash, &used) == 1;
  c += ok ? used : 0;
  ok = ok && expect(&c, "\", \"out\": [");
  if (ok && (strcmp(name, sweep) != 0 || got_cell != cell ||
             got_nout != nout || got_hash != hash)) {
    free(buf);
    return ir_error(IR_EFORMAT,
                    "%s holds cell %zu of sweep '%s' (%zu values, "
                    "configuration %016llx), not cell %zu of '%s' (%zu, "
                    "%016llx): remove it, or run without resume",
                    path, got_cell, name, got_nout, got_hash, cell, sweep,
                    nout, (unsigned long long)hash);
  }
  for (size_t j = 0; ok && j < nout; j++) {
    if (j > 0)
      ok = expect(&c, ",");
    if (!ok)
      break;
    if (expect(&c, "\"NaN\""))
      out[j] = NAN;
    else if (expect(&c, "\"Infinity\""))
      out[j] = INFINITY;
    else if (expect(&c, "\"-Infinity\""))
      out[j] = -INFINITY;
    else {
      /* errno is not consulted: a subnormal, written as such, reads back
       * with ERANGE but exactly. */
      char *end;
      out[j] = strtod(c, &end);
      ok = end != c && isfinite(out[j]);
      c = end;
    }
  }
  ok = ok && expect(&c, "]}");
  free(buf);
  if (!ok)
    return ir_error(IR_EFORMAT,
                    "%s is not a cell file of implreg (malformed): remove it",
                    path);
  *found = 1;
  return IR_OK;
}

int ir_cells_load(const char *store, const char *sweep, uint64_t hash,
                  size_t ncells, size_t nout, double *out,
                  unsigned char *have, size_t *nfound) {
  if (nfound)
    *nfound = 0;
  if (store == NULL || out == NULL || have == NULL || nout == 0)
    return ir_error(IR_EINVAL, "ir_cells_load: NULL argument or nout = 0");
  const char *sw = sweep ? sweep : "cells";
  if (!valid_sweep(sw))
    return ir_error(IR_EINVAL, "sweep name '%s': use letters, digits, - and _",
                    sw);
  if (access(store, R_OK | X_OK) != 0)
    return ir_error(IR_EIO, "cannot read the cell store %s: %s", store,
                    strerror(errno));
  double *tmp = malloc(nout * sizeof(double));
  if (tmp == NULL)
    return ir_error(IR_ENOMEM, "out of memory (cell store)");
  int s = IR_OK;
  size_t n = 0;
  for (size_t i = 0; i < ncells && s == IR_OK; i++) {
    char path[4096];
    int found = 0;
    s = cell_path(path, sizeof path, store, sw, i);
    if (s == IR_OK)
      s = read_cell(path, sw, hash, i, nout, tmp, &found);
    if (s != IR_OK || !found)
      continue;
    n++;
    if (have[i] && memcmp(tmp, out + i * nout, nout * sizeof(double)) != 0)
      s = ir_error(IR_EFORMAT,
                   "cell %zu of '%s' differs between stores (here %s): two "
                   "shards computed it differently",
                   i, sw, path);
    memcpy(out + i * nout, tmp, nout * sizeof(double));
    have[i] = 1;
  }
  free(tmp);
  if (nfound)
    *nfound = n;
  return s;
}

typedef struct {
  pid_t pid;
  int cmd, res;   /* parent's ends; -1 when closed */
  size_t cell;    /* the cell in flight */
  int busy;
} worker;

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static int stopped(const ir_cells_params *p) {
  return p->stop != NULL && *p->stop != 0;
}

/* Hands worker w the next cell of the list, or closes its command pipe
 * when none is left or a stop was asked for (the worker then exits). */
static int dispatch(const ir_cells_params *p, worker *w, const size_t *todo,
                    size_t *next, size_t ntodo) {
  if (*next >= ntodo || stopped(p)) {
    close_fd(&w->cmd);
    w->busy = 0;
    return 0;
  }
  w->cell = todo[(*next)++];
  w->busy = 1;
  return write_full(w->cmd, &w->cell, sizeof w->cell);
}

static int run_forked(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                      double *out, const size_t *todo, size_t ntodo,
                      size_t *ndone) {
  const size_t nw = (size_t)p->workers < ntodo ? (size_t)p->workers : ntodo;
  const int threads = p->cell_threads > 0 ? p->cell_threads : 1;
  worker *ws = calloc(nw, sizeof *ws);
  struct pollfd *pf = calloc(nw, sizeof *pf);
  if (ws == NULL || pf == NULL) {
    free(ws);
    free(pf);
    return ir_error(IR_ENOMEM, "out of memory (cell workers)");
  }
  for (size_t i = 0; i < nw; i++)
    ws[i].pid = -1, ws[i].cmd = ws[i].res = -1;
  /* A worker that dies closes its pipe: writing to it must be an error,
   * not a SIGPIPE that kills the parent. */
  struct sigaction ign, old_pipe;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old_pipe);
  fflush(NULL); /* nothing buffered is written twice by a child */
  int status = IR_OK;
  for (size_t i = 0; i < nw && status == IR_OK; i++) {
    int c[2], r[2];
    if (pipe(c) != 0) {
      status = ir_error(IR_EIO, "cannot create a pipe for cell workers: %s",
                        strerror(errno));
      break;
    }
    if (pipe(r) != 0) {
      close(c[0]);
      close(c[1]);
      status = ir_error(IR_EIO, "cannot create a pipe for cell workers: %s",
                        strerror(errno));
      break;
    }
    /* Until the child has reset its handlers, a SIGTERM (sent to stop it
     * after another cell failed) would run the parent's handler in the
     * child (Check's kills the whole process group): block the signals
     * across fork; the child unblocks after resetting them. */
    sigset_t block, oldmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
      sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (pid < 0) {
      close(c[0]), close(c[1]), close(r[0]), close(r[1]);
      status = ir_error(IR_EIO, "cannot start a cell worker (fork): %s",
                        strerror(errno));
      break;
    }
    if (pid == 0) {
      /* The parent's handlers (a test harness's, an analysis's SIGINT
       * cleanup) are not the worker's: a worker told to stop just stops. */
      signal(SIGTERM, SIG_DFL);
      /* With a stop flag the parent decides: a Ctrl-C (sent to the whole
       * process group) stops handing out cells, and the cells in flight
       * finish and are kept. */
      signal(SIGINT, p->stop ? SIG_IGN : SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      signal(SIGALRM, SIG_DFL);
#ifdef __linux__
      /* A parent that dies (kill -9, a second Ctrl-C) takes its workers
       * with it; checked after the call in case it died just before. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(1);
#endif
      /* Unblocked whatever the parent's mask: a worker can always be
       * stopped. */
      sigprocmask(SIG_UNBLOCK, &block, NULL);
      /* The child keeps its own two ends only. */
      for (size_t j = 0; j < i; j++) {
        close_fd(&ws[j].cmd);
        close_fd(&ws[j].res);
      }
      close(c[1]);
      close(r[0]);
      /* The parent's list of cells is not the worker's (it is sent cells
       * one at a time): freed, so that memory checkers following the fork
       * see no leak at its _exit. */
      free((void *)todo);
      worker_main(c[0], r[1], fn, ctx, p->nout, threads);
    }
    close(c[0]);
    close(r[1]);
    ws[i].pid = pid;
    ws[i].cmd = c[1];
    ws[i].res = r[0];
  }
  size_t next = 0, done = 0;
  const double t0 = now();
  for (size_t i = 0; i < nw && status == IR_OK; i++)
    if (ws[i].pid > 0 && dispatch(p, &ws[i], todo, &next, ntodo) != 0)
      status = ir_error(IR_EINTERNAL, "cell worker %zu stopped unexpectedly",
                        i);
  while (status == IR_OK && done < ntodo) {
    size_t np = 0;
    for (size_t i = 0; i < nw; i++)
      if (ws[i].busy) {
        pf[np].fd = ws[i].res;
        pf[np].events = POLLIN;
        pf[np].revents = 0;
        np++;
      }
    if (np == 0 && stopped(p))
      break; /* the cells in flight are in; IR_EINTR below */
    if (np == 0) {
      status = ir_error(IR_EINTERNAL, "no cell worker left with %zu of %zu "
                        "cells done", done, ntodo);
      break;
    }
    int k = poll(pf, (nfds_t)np, -1);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      status = ir_error(IR_EIO, "waiting for cell workers: %s",
                        strerror(errno));
      break;
    }
    for (size_t q = 0; q < np && status == IR_OK; q++) {
      if (pf[q].revents == 0)
        continue;
      worker *w = NULL;
      for (size_t i = 0; i < nw; i++)
        if (ws[i].busy && ws[i].res == pf[q].fd)
          w = &ws[i];
      if (w == NULL)
        continue;
      rec_header h;
      int rr = read_full(w->res, &h, sizeof h);
      if (rr == 0 && h.cell == w->cell && h.status == IR_OK)
        rr = read_full(w->res, out + h.cell * p->nout,
                       p->nout * sizeof(double));
      else if (rr == 0 && h.cell == w->cell) {
        char msg[1024];
        size_t keep = h.length < sizeof msg - 1 ? h.length : sizeof msg - 1;
        rr = read_full(w->res, msg, keep);
        msg[rr == 0 ? keep : 0] = '\0';
        status = ir_error(h.status, "cell %zu: %s", h.cell, msg);
        break;
      } else if (rr == 0)
        rr = -1; /* a record for a cell it was not given: a bug */
      if (rr != 0) {
        int ws_status = 0;
        waitpid(w->pid, &ws_status, 0);
        const pid_t dead = w->pid;
        w->pid = -1;
        if (stopped(p)) { /* killed by the same signal: its cell is lost */
          w->busy = 0;
          close_fd(&w->cmd);
          continue;
        }
        status = ir_error(IR_EINTERNAL,
                          "the worker computing cell %zu (pid %ld) died%s%s",
                          w->cell, (long)dead,
                          WIFSIGNALED(ws_status) ? ": " : "",
                          WIFSIGNALED(ws_status)
                              ? strsignal(WTERMSIG(ws_status))
                              : "");
        break;
      }
      if (p->store && (status = store_cell(p, h.cell, out + h.cell *
                                                           p->nout)) != IR_OK)
        break;
      done++;
      if (p->progress)
        p->progress(p->progress_ctx, done, ntodo, now() - t0);
      if (dispatch(p, w, todo, &next, ntodo) != 0)
        status = ir_error(IR_EINTERNAL, "cell worker stopped unexpectedly");
    }
  }
  /* Stop: close the command pipes (idle workers exit); after a failure
   * the workers still computing are terminated. */
  for (size_t i = 0; i < nw; i++) {
    close_fd(&ws[i].cmd);
    if (status != IR_OK && ws[i].pid > 0)
      kill(ws[i].pid, SIGTERM);
  }
  for (size_t i = 0; i < nw; i++) {
    if (ws[i].pid > 0)
      while (waitpid(ws[i].pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close_fd(&ws[i].res);
  }
  sigaction(SIGPIPE, &old_pipe, NULL);
  free(ws);
  free(pf);
  *ndone = done;
  return status;
}

int ir_cells_run(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                 double *out) {
  if (p == NULL || fn == NULL || (out == NULL && p->ncells > 0))
    return ir_error(IR_EINVAL, "ir_cells_run: NULL argument");
  if (p->stats)
    memset(p->stats, 0, sizeof *p->stats);
  if (p->nout == 0)
    return ir_error(IR_EINVAL, "ir_cells_run: nout = 0 (a cell writes at "
                               "least one double)");
  if (p->nshards > 1 && p->shard >= p->nshards)
    return ir_error(IR_EINVAL, "shard %zu of %zu: shards are numbered 0 to "
                               "%zu", p->shard, p->nshards, p->nshards - 1);
  if (p->store && !valid_sweep(sweep_name(p)))
    return ir_error(IR_EINVAL, "sweep name '%s': use letters, digits, - and "
                               "_ (at most 64)", sweep_name(p));
  if (p->resume && p->store == NULL)
    return ir_error(IR_EINVAL, "ir_cells_run: resume needs a store");
  if (p->ncells == 0)
    return IR_OK;
  if (p->nout > SIZE_MAX / sizeof(double) / p->ncells)
    return ir_error(IR_EINVAL, "ir_cells_run: %zu cells of %zu doubles "
                               "overflow", p->ncells, p->nout);
  int status = p->store ? ir_mkdir_p(p->store) : IR_OK;
  size_t *todo = status == IR_OK ? malloc(p->ncells * sizeof(size_t)) : NULL;
  if (status == IR_OK && todo == NULL)
    status = ir_error(IR_ENOMEM, "out of memory (cells)");
  /* The cells this run computes: its shard's, less those stored. */
  size_t ntodo = 0, loaded = 0, skipped = 0, done = 0;
  for (size_t i = 0; i < p->ncells && status == IR_OK; i++) {
    double *o = out + i * p->nout;
    if (p->nshards > 1 && i % p->nshards != p->shard) {
      for (size_t j = 0; j < p->nout; j++)
        o[j] = NAN;
      skipped++;
      continue;
    }
    int found = 0;
    if (p->resume) {
      char path[4096];
      status = cell_path(path, sizeof path, p->store, sweep_name(p), i);
      if (status == IR_OK)
        status = read_cell(path, sweep_name(p), p->hash, i, p->nout, o,
                           &found);
      if (found) /* kept: one of this run's files */
        ir_atomic_note(path);
    }
    if (found)
      loaded++;
    else
      todo[ntodo++] = i;
  }
  const int saved = openblas_get_num_threads();
  if (status == IR_OK && p->workers > 1 && ntodo > 1) {
    status = run_forked(p, fn, ctx, out, todo, ntodo, &done);
  } else if (status == IR_OK) {
    openblas_set_num_threads(p->cell_threads > 0 ? p->cell_threads : 1);
    const double t0 = now();
    for (size_t k = 0; k < ntodo && status == IR_OK && !stopped(p); k++) {
      const size_t i = todo[k];
      status = fn(ctx, i, out + i * p->nout);
      if (status != IR_OK)
        ir_error_context(status, "cell %zu", i);
      else if (p->store)
        status = store_cell(p, i, out + i * p->nout);
      if (status == IR_OK) {
        done++;
        if (p->progress)
          p->progress(p->progress_ctx, done, ntodo, now() - t0);
      }
    }
  }
  openblas_set_num_threads(saved);
  if (status == IR_OK && done < ntodo && stopped(p))
    status = ir_error(IR_EINTR,
                      "stopped: %zu of %zu cells computed, %zu read back%s",
                      done, ntodo, loaded,
                      p->store ? "; the finished ones are stored" : "");
  if (p->stats) {
    p->stats->computed = done;
    p->stats->loaded = loaded;
    p->stats->skipped = skipped;
  }
  free(todo);
  return status;
}

void ir_cells_note(const char *store, const char *sweep, size_t ncells) {
  const char *sw = sweep ? sweep : "cells";
  if (store == NULL || !valid_sweep(sw))
    return;
  for (size_t i = 0; i < ncells; i++) {
    char path[4096];
    struct stat st;
    if (cell_path(path, sizeof path, store, sw, i) == IR_OK &&
        lstat(path, &st) == 0 && S_ISREG(st.st_mode))
      ir_atomic_note(path);
  }
}
