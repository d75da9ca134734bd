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
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Hands worker w the next cell, or closes its command pipe when none is
 * left (the worker then exits). */
static int dispatch(worker *w, size_t *next, size_t ncells) {
  if (*next >= ncells) {
    close_fd(&w->cmd);
    w->busy = 0;
    return 0;
  }
  w->cell = (*next)++;
  w->busy = 1;
  return write_full(w->cmd, &w->cell, sizeof w->cell);
}

static int run_forked(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                      double *out) {
  const size_t nw = (size_t)p->workers < p->ncells ? (size_t)p->workers
                                                   : p->ncells;
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
    pid_t pid = fork();
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
      signal(SIGINT, SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      signal(SIGALRM, SIG_DFL);
      /* The child keeps its own two ends only. */
      for (size_t j = 0; j < i; j++) {
        close_fd(&ws[j].cmd);
        close_fd(&ws[j].res);
      }
      close(c[1]);
      close(r[0]);
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
    if (ws[i].pid > 0 && dispatch(&ws[i], &next, p->ncells) != 0)
      status = ir_error(IR_EINTERNAL, "cell worker %zu stopped unexpectedly",
                        i);
  while (status == IR_OK && done < p->ncells) {
    size_t np = 0;
    for (size_t i = 0; i < nw; i++)
      if (ws[i].busy) {
        pf[np].fd = ws[i].res;
        pf[np].events = POLLIN;
        pf[np].revents = 0;
        np++;
      }
    if (np == 0) {
      status = ir_error(IR_EINTERNAL, "no cell worker left with %zu of %zu "
                        "cells done", done, p->ncells);
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
        status = ir_error(IR_EINTERNAL,
                          "the worker computing cell %zu (pid %ld) died%s%s",
                          w->cell, (long)dead,
                          WIFSIGNALED(ws_status) ? ": " : "",
                          WIFSIGNALED(ws_status)
                              ? strsignal(WTERMSIG(ws_status))
                              : "");
        break;
      }
      done++;
      if (p->progress)
        p->progress(p->progress_ctx, done, p->ncells, now() - t0);
      if (dispatch(w, &next, p->ncells) != 0)
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
  return status;
}

int ir_cells_run(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                 double *out) {
  if (p == NULL || fn == NULL || (out == NULL && p->ncells > 0))
    return ir_error(IR_EINVAL, "ir_cells_run: NULL argument");
  if (p->nout == 0)
    return ir_error(IR_EINVAL, "ir_cells_run: nout = 0 (a cell writes at "
                               "least one double)");
  if (p->ncells == 0)
    return IR_OK;
  if (p->nout > SIZE_MAX / sizeof(double) / p->ncells)
    return ir_error(IR_EINVAL, "ir_cells_run: %zu cells of %zu doubles "
                               "overflow", p->ncells, p->nout);
  const int saved = openblas_get_num_threads();
  int status;
  if (p->workers > 1 && p->ncells > 1) {
    status = run_forked(p, fn, ctx, out);
  } else {
    openblas_set_num_threads(p->cell_threads > 0 ? p->cell_threads : 1);
    status = IR_OK;
    const double t0 = now();
    for (size_t i = 0; i < p->ncells && status == IR_OK; i++) {
      status = fn(ctx, i, out + i * p->nout);
      if (status != IR_OK)
        ir_error_context(status, "cell %zu", i);
      else if (p->progress)
        p->progress(p->progress_ctx, i + 1, p->ncells, now() - t0);
    }
  }
  openblas_set_num_threads(saved);
  return status;
}
