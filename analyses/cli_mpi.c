/* cli_mpi.c — the `implreg` program as an MPI job (./configure --with-mpi).
 *
 * Under mpirun every rank runs the same analysis with the same options.
 * Each sharded sweep of cells is split by index (rank r computes the cells
 * with index % size == r, each with the same BLAS thread count as one
 * process would use, so every cell has the same bits), rank 0 gathers
 * them, and the other ranks end after the last sharded sweep
 * (ir_cli_shard_done) while rank 0 assembles the tables: they are the same
 * bits as a single-process run's.  Without MPI, or when not started by a
 * launcher, the program is one process and this file does nothing.
 */
#include "cli.h"

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_MPI
#include <mpi.h>
static int ir_mpi_on;
#endif

int ir_cli_mpi_init(int *argc, char ***argv) {
#ifdef HAVE_MPI
  /* Only under a launcher (Open MPI's mpirun, or a PMI/PMIx one such as
   * srun): a plain `implreg` run stays a plain process. */
  if (getenv("OMPI_COMM_WORLD_SIZE") == NULL && getenv("PMI_SIZE") == NULL &&
      getenv("PMIX_RANK") == NULL)
    return 0;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) {
    fprintf(stderr, "implreg: MPI_Init failed\n");
    return 1;
  }
  ir_mpi_on = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &ir_cli_mpi_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ir_cli_mpi_size);
#else
  (void)argc;
  (void)argv;
#endif
  return 0;
}

void ir_cli_mpi_finalize(int rc) {
#ifdef HAVE_MPI
  if (!ir_mpi_on)
    return;
  fflush(NULL);
  /* A rank that failed may leave others waiting in a collective: the job
   * ends with it (its message is printed already). */
  if (rc != IR_EXIT_OK && rc != IR_EXIT_CHECK && ir_cli_mpi_size > 1)
    MPI_Abort(MPI_COMM_WORLD, rc);
  MPI_Finalize();
  ir_mpi_on = 0;
#else
  (void)rc;
#endif
}

int ir_cli_mpi_agree(int status) {
#ifdef HAVE_MPI
  if (!ir_mpi_on || ir_cli_mpi_size < 2)
    return status;
  int mine = status, worst = IR_OK;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (worst != IR_OK)
    return status != IR_OK
               ? status
               : ir_error(worst, "stopped: another MPI rank failed or was "
                                 "interrupted (its message is above)");
#endif
  return status;
}

int ir_cli_mpi_combine(int status, size_t ncells, size_t nout, double *out) {
#ifdef HAVE_MPI
  if (!ir_mpi_on || ir_cli_mpi_size < 2)
    return status;
  int s = ir_cli_mpi_agree(status);
  if (s != IR_OK)
    return s;
  const size_t total = ncells * nout;
  const int size = ir_cli_mpi_size, rank = ir_cli_mpi_rank;
  double *all = NULL;
  int ok = total <= 2147483647u;
  if (ok && rank == 0) {
    all = malloc((size_t)size * total * sizeof *all + 1);
    ok = all != NULL;
  }
  int okall = 0;
  MPI_Allreduce(&ok, &okall, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!okall) {
    free(all);
    return ir_error(IR_ENOMEM, "MPI: cannot gather %zu cells of %zu doubles "
                               "at rank 0",
                    ncells, nout);
  }
  MPI_Gather(out, (int)total, MPI_DOUBLE, all, (int)total, MPI_DOUBLE, 0,
             MPI_COMM_WORLD);
  if (rank == 0)
    for (size_t i = 0; i < ncells; i++) {
      const size_t owner = i % (size_t)size;
      memcpy(out + i * nout, all + owner * total + i * nout,
             nout * sizeof *out);
    }
  free(all);
  return IR_OK;
#else
  (void)ncells;
  (void)nout;
  (void)out;
  return status;
#endif
}
