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
 * Cost: ncells calls of the cell function; the transfer is nout doubles per
 * cell.  Memory: the caller's output array (ncells × nout doubles).
 */
#ifndef IMPLREG_CELLS_H
#define IMPLREG_CELLS_H

#include <stddef.h>

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

typedef struct {
  size_t ncells;
  size_t nout;       /* doubles per cell (>= 1) */
  int workers;       /* processes computing cells; <= 1: in this process */
  int cell_threads;  /* BLAS threads inside each cell (0: 1) */
  ir_cells_progress_fn progress;
  void *progress_ctx;
} ir_cells_params;

/* Defaults: no cells, nout 1, workers 1, cell_threads 1, no progress. */
void ir_cells_params_default(ir_cells_params *p);

/* Runs fn on every cell; out has ncells·nout doubles, cell i's at
 * out + i·nout.  On failure out is partly filled and the status of the
 * first failed cell is returned with its message ("cell 7: ...").  The BLAS
 * thread count of the calling process is restored before returning. */
int ir_cells_run(const ir_cells_params *p, ir_cell_fn fn, void *ctx,
                 double *out);

/* The number of online processors (at least 1). */
int ir_cells_ncpu(void);

#ifdef __cplusplus
}
#endif
#endif
