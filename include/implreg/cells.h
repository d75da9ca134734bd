/* implreg/cells.h — a sweep as a set of independent cells.
 *
 * A sweep (widths × seeds × label noise, step sizes × batch sizes × seeds)
 * is a list of cells.  A cell is a pure function of its index: it derives
 * its coordinates from the index, seeds every random stream from those
 * coordinates (never from a position in a loop), and writes a fixed number
 * of doubles.  ir_cells_run computes all of them, in this process or spread
 * over worker processes, and returns the outputs in cell order.  The
 * analysis then assembles tables, checks and figures from the outputs.
 *
 * Reproducibility: every cell runs with the same BLAS thread count
 * (params.cell_threads, default 1) whatever the number of workers, so a
 * cell's output is the same bits whether it ran first or last, alone or in
 * parallel with others.  With one BLAS thread per cell, the two cores of a
 * small machine are used by two workers, which is faster than one cell with
 * two BLAS threads for the small products of small networks.
 *
 * Workers are fork()ed children; the parent hands out cell indices one at a
 * time (the longest cells do not hold up a static partition) and reads each
 * cell's doubles back through a pipe.  The cell function and its context
 * are inherited through fork, so a cell may use anything the parent set up
 * before the call (data, models).  A cell that fails sends its status and
 * message back; the parent then stops the other workers and returns that
 * status with the message, naming the cell.  A worker that dies (a signal)
 * is reported as IR_EINTERNAL.
 *
 * Persistence (resume, shards, merge).  With a store folder, every
 * finished cell is written there at once, atomically, as
 * STORE/<sweep>-<cell>.json holding the configuration's hash and its nout
 * doubles (17 significant digits: the bits come back exactly; NaN and
 * ±Infinity as strings).  With resume, cells already stored under the same
 * hash are read instead of computed, so a run that was interrupted loses
 * only the cells in flight.  With nshards = k > 1 only the cells with
 * index % k == shard are computed (a deterministic subset: Slurm job
 * arrays, several machines); ir_cells_load then gathers the stores of all
 * shards into one output array, the same bits as one run.  A stop flag
 * (set by the caller's signal handler) ends a run early: no new cell
 * starts, the cells in flight finish and are stored, IR_EINTR.
 *
 * Cost: ncells calls of the cell function; the transfer is nout doubles per
 * cell (and a file of about 25·nout bytes per cell with a store).  Memory:
 * the caller's output array (ncells × nout doubles).
 */
#ifndef IMPLREG_CELLS_H
#define IMPLREG_CELLS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Computes cell `cell` into out[0..nout).  Returns IR_OK or a status with a
 * message recorded (status.h).  Runs in a worker process when workers > 1:
 * it must not rely on changing the parent's memory. */
typedef int (*ir_cell_fn)(void *ctx, size_t cell, double *out);

/* Called in the parent after each finished cell (done of total), with the
 * seconds elapsed since the start.  May be NULL. */
typedef void (*ir_cells_progress_fn)(void *ctx, size_t done, size_t total,
                                     double elapsed);

/* What a run did (ir_cells_params.stats, optional). */
typedef struct {
  size_t computed; /* cells computed by this run */
  size_t loaded;   /* cells read from the store (resume) */
  size_t skipped;  /* cells of other shards, left NaN in out */
} ir_cells_stats;

typedef struct {
  size_t ncells;
  size_t nout;       /* doubles per cell (>= 1) */
  int workers;       /* processes computing cells; <= 1: in this process */
  int cell_threads;  /* BLAS threads inside each cell (0: 1) */
  ir_cells_progress_fn progress;
  void *progress_ctx;
  const char *store; /* folder of finished cells, created when missing
                        (NULL: cells are not stored) */
  const char *sweep; /* the sweep's name in file names: letters, digits,
                        '-' and '_' (NULL: "cells") */
  uint64_t hash;     /* the configuration's hash: a stored cell is used
                        only with the same hash, sweep and nout */
  int resume;        /* 1: read stored cells instead of computing them */
  size_t shard, nshards; /* nshards > 1: compute the cells with
                            index % nshards == shard only */
  volatile sig_atomic_t *stop; /* may be NULL; when it becomes nonzero no
                                  new cell starts (workers ignore SIGINT
                                  meanwhile: the caller's handler sets the
                                  flag and the cells in flight finish) */
  ir_cells_stats *stats; /* may be NULL; receives the counts */
} ir_cells_params;

/* Defaults: no cells, nout 1, workers 1, cell_threads 1, no progress, no
 * store, sweep NULL, hash 0, no resume, one shard, no stop flag, no
 * stats. */
void ir_cells_params_default(ir_cells_params *p);

/* Runs fn on every cell (of this shard); out has ncells·nout doubles, cell
 * i's at out + i·nout (NaN for cells of other shards).  On failure out is
 * partly filled and the status of the first failed cell is returned with
 * its message ("cell 7: ..."); cells finished before it are stored.
 * IR_EINTR when the stop flag ended the run (the message says how many
 * cells are stored).  IR_EIO when the store cannot be written, IR_EFORMAT
 * when a stored cell is malformed or from another configuration (the
 * message names the file: remove it, or run without resume).  The BLAS
 * thread count of the calling process is restored before returning. */
int ir_cells_run(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                 double *out);

/* Reads the cells of `sweep` stored in the folder `store` with this hash
 * and nout into out (cell i at out + i·nout) and sets have[i] = 1 for each
 * one found; cells not there are left alone.  A cell already marked in
 * have (read from another store) must hold the same bits, else IR_EFORMAT
 * naming both: two shards computed it differently.  *nfound (may be NULL)
 * receives the cells read from this store.  A missing store is IR_EIO. */
int ir_cells_load(const char *store, const char *sweep, uint64_t hash,
                  size_t ncells, size_t nout, double *out,
                  unsigned char *have, size_t *nfound);

/* Adds the cells of `sweep` (indices below ncells) present in the folder
 * `store` to the process's record of the files its run wrote (report.h,
 * ir_outdir): for a process that gathered cells other processes stored
 * (MPI rank 0), so that its manifest lists them all. */
void ir_cells_note(const char *store, const char *sweep, size_t ncells);

/* A 64-bit FNV-1a hash of a string (the canonical form of a
 * configuration), for ir_cells_params.hash. */
uint64_t ir_cells_hash(const char *text);

/* The number of online processors (at least 1). */
int ir_cells_ncpu(void);

#ifdef __cplusplus
}
#endif
#endif
