/* cli.h — what every `implreg` analysis shares: common options, checked
 * number parsing, the --config file, the run manifest and output folder.
 *
 * Exit statuses (README, "Exit status"): 0 done; 2 usage error, bad input or
 * failed computation (one line on stderr); 3 a theory check failed under
 * --strict; 1 internal error.
 */
#ifndef IMPLREG_CLI_H
#define IMPLREG_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "implreg/implreg.h"

enum {
  IR_EXIT_OK = 0,
  IR_EXIT_INTERNAL = 1,
  IR_EXIT_USAGE = 2,
  IR_EXIT_CHECK = 3,
  IR_EXIT_INTERRUPTED = 130 /* SIGINT/SIGTERM/SIGHUP: nothing published */
};

/* Folder names are at most this long (with the terminating NUL). */
#define IR_CLI_PATH 4096

/* Options every analysis takes. */
typedef struct {
  unsigned long seed; /* --seed N (>= 1, default 1) */
  size_t seeds;       /* --seeds K (default 1) */
  char out[IR_CLI_PATH]; /* --out DIR (default results/<analysis>); between
                            ir_cli_prepare_out and ir_cli_write_manifest
                            the run's staging folder */
  int formats;        /* --format LIST */
  int quick;          /* --quick */
  int threads;        /* --threads N (0: OpenBLAS default) */
  int quiet;          /* --quiet */
  int progress;       /* --progress */
  int strict;         /* --strict */
  int resume;         /* --resume: read the cells an earlier run stored */
  size_t shard, nshards; /* --shard I/K (nshards 1: no shards) */
  int cells;          /* the analysis sweeps cells (ir_cli_uses_cells) */
} ir_cli_common;

/* Long-option codes of the common options (analyses use codes < 1000). */
enum {
  IR_OPT_SEED = 1000,
  IR_OPT_SEEDS,
  IR_OPT_OUT,
  IR_OPT_FORMAT,
  IR_OPT_QUICK,
  IR_OPT_THREADS,
  IR_OPT_QUIET,
  IR_OPT_PROGRESS,
  IR_OPT_STRICT,
  IR_OPT_CONFIG,
  IR_OPT_HELP,
  IR_OPT_RESUME,
  IR_OPT_SHARD
};

#define IR_CLI_COMMON_OPTIONS                                                  \
  {"seed", required_argument, NULL, IR_OPT_SEED},                              \
      {"seeds", required_argument, NULL, IR_OPT_SEEDS},                        \
      {"out", required_argument, NULL, IR_OPT_OUT},                            \
      {"format", required_argument, NULL, IR_OPT_FORMAT},                      \
      {"quick", no_argument, NULL, IR_OPT_QUICK},                              \
      {"threads", required_argument, NULL, IR_OPT_THREADS},                    \
      {"quiet", no_argument, NULL, IR_OPT_QUIET},                              \
      {"progress", no_argument, NULL, IR_OPT_PROGRESS},                        \
      {"strict", no_argument, NULL, IR_OPT_STRICT},                            \
      {"config", required_argument, NULL, IR_OPT_CONFIG},                      \
      {"resume", no_argument, NULL, IR_OPT_RESUME},                            \
      {"shard", required_argument, NULL, IR_OPT_SHARD}, {                      \
    "help", no_argument, NULL, IR_OPT_HELP                                     \
  }

/* Help text for the common options, appended to every analysis's --help. */
extern const char ir_cli_common_help[];

/* Defaults: seed 1, seeds 1, out "results/<analysis>", all formats. */
void ir_cli_common_init(ir_cli_common *c, const char *analysis);

/* The resolved configuration of a run, as key = value strings in the order
 * set (a later set of the same key replaces its value). Written into
 * manifest.json as "config" so that `--config manifest.json` repeats the
 * run; keys "derived.NAME" (values the run computed, such as a bandwidth
 * from the median heuristic) go to a separate "derived" object instead. */
typedef struct {
  size_t n, cap;
  char **keys, **vals;
} ir_cli_config;

void ir_cli_config_set(ir_cli_config *cfg, const char *key, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
void ir_cli_config_free(ir_cli_config *cfg);
/* Formats x with the fewest significant digits (15 to 17) that read back
 * as the same double, so a config shows 0.9, not 0.90000000000000002. */
const char *ir_cli_fmt_double(char *buf, size_t len, double x);

/* Records the common options. */
void ir_cli_config_common(ir_cli_config *cfg, const ir_cli_common *c);

/* The hash of a configuration: FNV-1a over "key=value\n" of every key but
 * those that do not change a cell's numbers (out, format, threads, quiet,
 * progress, strict, shard and the derived.* values).  Stored cells are
 * used only under the same hash (--resume, implreg merge). */
uint64_t ir_cli_config_hash(const ir_cli_config *cfg);

/* Expands `--config FILE` anywhere in argv: the file's options are inserted
 * before the command-line ones (which thus override them).  FILE holds
 * `key = value` lines (# comments; a flag as `quick = true`) or is a
 * manifest.json whose "config" object is read.  On success *argv_out is a
 * new argv (free with ir_cli_argv_free); on error prints one line and
 * returns IR_EXIT_USAGE. */
int ir_cli_expand_config(const char *prog, int argc, char **argv, int *argc_out,
                         char ***argv_out);
void ir_cli_argv_free(int argc, char **argv);

/* Reads the manifest.json of an earlier run: its "analysis" name into
 * analysis (alen bytes; "" when absent) and its "config" object as options
 * "--key" ["value"], as --config would insert them (*argv_out holds
 * *argc_out strings, no program name; free with ir_cli_argv_free).  On
 * error prints one line and returns an exit status. */
int ir_cli_read_manifest(const char *prog, const char *path, char *analysis,
                         size_t alen, int *argc_out, char ***argv_out);

/* Handles a common option code; returns 0 when handled, 1 when the code is
 * not a common option, IR_EXIT_USAGE after printing an error. */
int ir_cli_common_option(const char *prog, ir_cli_common *c, int code,
                         const char *arg);

/* The end of every analysis's option switch: --help (prints help and the
 * common options' help, returns -1), a missing value or an unknown option
 * (one line, IR_EXIT_USAGE), or a common option (0 when handled, else
 * IR_EXIT_USAGE).  argv and optind locate the offending option. */
int ir_cli_default_option(const char *prog, ir_cli_common *c, int code,
                          const char *arg, char **argv, const char *help);

/* Checked conversions for option values: print "PROG: --NAME: 'x' is not
 * ..." on failure and return IR_EXIT_USAGE, 0 on success. */
int ir_cli_double(const char *prog, const char *name, const char *arg,
                  double min, double max, double *out);
int ir_cli_size(const char *prog, const char *name, const char *arg, size_t min,
                size_t max, size_t *out);
/* A comma-separated list of doubles, each in [min, max]; *out malloc'd. */
int ir_cli_double_list(const char *prog, const char *name, const char *arg,
                       double min, double max, double **out, size_t *n);

/* Prints "PROG: message" (the library's last message when msg is NULL) and
 * returns the exit status for a library status (2 for bad input or failed
 * computations, 1 for ENOMEM/EINTERNAL). */
int ir_cli_fail(const char *prog, int status, const char *msg);

/* Unknown option / stray argument: prints one line with a hint to --help. */
int ir_cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Applies --threads (openblas_set_num_threads) and returns the BLAS thread
 * count in force. */
int ir_cli_apply_threads(const ir_cli_common *c);

/* ---- One run into one output folder (cli_run.c) ----
 *
 * A run takes its folder's lock before any work (ir_cli_check_run does),
 * writes its files into a staging folder inside it (ir_cli_prepare_out)
 * and publishes them with the manifest last (ir_cli_write_manifest); a run
 * that fails or is interrupted publishes nothing.  See cli_run.c. */

/* Creates dir (and parents) and takes its lock (DIR/.implreg.lock, a
 * record lock the kernel drops when the process ends).  Another live run
 * holding it: one line naming its pid, 2.  Again for a folder this process
 * holds: 0. */
int ir_cli_lock_out(const char *prog, const char *dir);

/* Locks dir (when not yet), empties its staging folder and points dir (a
 * buffer of IR_CLI_PATH bytes) at it: the analysis writes there.  Prints
 * and returns 2 on failure. */
int ir_cli_prepare_out(const char *prog, char *dir);

/* Publishes the run prepared in dir (the staging folder's name, as
 * ir_cli_prepare_out left it): the staged files are renamed into the
 * folder, then dir/manifest.json is written (analysis, config (cfg) and its
 * hash, environment, stage timings (names[i], seconds[i]), check summary,
 * the run's files), then the previous run's files this run did not
 * rewrite are removed, the staging folder goes and the lock is released.
 * dir names the folder again afterwards. */
int ir_cli_write_manifest(char *dir, const char *analysis,
                          const ir_cli_config *cfg, const char *const *stage,
                          const double *seconds, size_t nstage,
                          const ir_checks *checks, double wall);

/* Installs the handlers of SIGINT, SIGTERM and SIGHUP (main does). */
void ir_cli_signals_install(void);
/* Composes what an interrupt says for a run into dir (cells: finished
 * cells are kept there for --resume). */
void ir_cli_note_run(const char *prog, const char *dir, int cells);
/* Set by the first interrupt during a sweep of cells (the sweep stops
 * after the cells in flight); ir_cli_in_cells while a sweep runs. */
extern volatile sig_atomic_t ir_cli_stop;
extern volatile sig_atomic_t ir_cli_in_cells;

/* This process's MPI rank (0 without MPI) and the number of ranks. */
int ir_cli_rank(void);
extern int ir_cli_mpi_rank, ir_cli_mpi_size;
/* Built with MPI (./configure --with-mpi) and started by mpirun: joins
 * the job and sets the rank and size (else nothing).  Prints and returns
 * nonzero on failure.  Finalize ends the job: with a nonzero rc on any
 * rank it aborts the others, which may be waiting for it. */
int ir_cli_mpi_init(int *argc, char ***argv);
void ir_cli_mpi_finalize(int rc);
/* After a sharded sweep on every rank (rank r computed the cells with
 * index % size == r into out, status its ir_cells_run status): rank 0
 * receives every cell, so its out is the whole sweep.  The same status on
 * every rank: IR_OK, or a failure (the rank that failed keeps its own
 * message; the others say another rank failed). */
int ir_cli_mpi_combine(int status, size_t ncells, size_t nout, double *out);
/* Every rank's status together (a barrier): IR_OK when all are; else this
 * rank's failure, or one saying another rank failed. */
int ir_cli_mpi_agree(int status);

/* ---- Sweeps of cells (cli_cells.c) ----
 *
 * An analysis whose sweeps are cells (cells.h) calls ir_cli_uses_cells
 * before ir_cli_check_run (which refuses --resume and --shard otherwise)
 * and runs every sweep through ir_cli_cells_run: the cells are stored in
 * OUT/cells as they finish (--resume reads them back), spread over shards
 * (--shard I/K) or MPI ranks, or read from the folders of `implreg merge`.
 * A sweep is SHARDED when its cells depend on nothing computed before it;
 * LOCAL sweeps (which use earlier results) run where the tables are
 * assembled.  After the last sharded sweep the analysis calls
 * ir_cli_shard_done: a shard's run (and an MPI rank other than 0) ends
 * there with its cells published. */
enum { IR_CLI_CELLS_LOCAL = 0, IR_CLI_CELLS_SHARDED = 1 };

void ir_cli_uses_cells(ir_cli_common *c);

/* Runs one sweep: p holds ncells, nout, workers, cell_threads and
 * progress; the store, sweep name, hash, resume, shard and stop fields are
 * set here.  Returns an IR_* status (IR_EINTR after an interrupt, with a
 * message saying what is kept and how to resume). */
int ir_cli_cells_run(const char *prog, const ir_cli_common *c,
                     const ir_cli_config *cfg, const char *sweep, int sharded,
                     ir_cells_params *p, ir_cell_fn fn, void *ctx,
                     double *out);

/* After the last sharded sweep: in a shard's run (--shard I/K with K > 1)
 * publishes the cells with a manifest, says how to merge and returns 1;
 * on an MPI rank other than 0 returns 1 (nothing written); else 0.  *rc
 * receives the exit status when 1 is returned. */
int ir_cli_shard_done(const char *prog, ir_cli_common *c, const char *analysis,
                      const ir_cli_config *cfg, int *rc);

/* `implreg merge`: assembles the runs of all shards of a sweep. */
int ir_an_merge(int argc, char **argv);

/* Progress line on stderr when enabled: "[analysis] message". */
void ir_cli_progress(const ir_cli_common *c, const char *analysis,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Test hook: IMPLREG_BREAK holds names (comma-separated) of computations an
 * analysis breaks on purpose, so that a test can show that some check
 * catches the bug.  Whether `what` is among them. */
int ir_cli_broken(const char *what);

/* When IMPLREG_BREAK is set: one line on stderr saying so, and "break" in
 * the run's configuration (the manifest records it). */
void ir_cli_break_announce(const char *prog, ir_cli_config *cfg);

/* Final exit status from the checks: 3 when --strict and a check failed. */
int ir_cli_exit_status(const ir_cli_common *c, const ir_checks *checks);

/* ---- Files and sizes checked before any work (cli_paths.c) ---- */

/* Set by `implreg all` while it checks every analysis's options before
 * running any: each analysis returns 0 right after validating its options
 * (before reading data or computing), and inputs that do not exist yet
 * (written by an earlier analysis) are accepted. */
extern int ir_cli_validating;

/* An input file: it exists and is a regular file (a FIFO, device or
 * directory is refused: reading one may block forever or never end).
 * Prints "PROG: --OPT PATH: ..." and returns 2, else 0. */
int ir_cli_check_input(const char *prog, const char *opt, const char *path);

/* An output file: writable under src/atomic.h's policy (a regular file or
 * a new name is replaced atomically, a symlink is followed, a character
 * device or FIFO is written through; a directory, block device, socket or
 * dangling symlink is refused) and, unless written through, its folder
 * exists and is writable.  Prints one line and returns 2, else 0. */
int ir_cli_check_output(const char *prog, const char *opt, const char *path);

/* The files of a run, for ir_cli_check_distinct. */
enum { IR_PATH_IN = 1, IR_PATH_OUT, IR_PATH_DIR };
typedef struct {
  const char *opt;  /* option name without "--" */
  const char *path; /* NULL: not given (skipped) */
  int role;         /* IR_PATH_IN, IR_PATH_OUT (file), IR_PATH_DIR (folder) */
} ir_cli_path;

/* Refuses (one line naming both options, exit 2) an output that is the
 * same file as an input or another output (device and inode when the file
 * exists, else the canonical folder and name), and an input directly inside
 * an output folder (the run replaces that folder's files and removes its
 * earlier run's). */
int ir_cli_check_distinct(const char *prog, const ir_cli_path *p, size_t n);

/* The output folder: an existing folder that is writable, or a name whose
 * nearest existing ancestor is a writable folder.  One line, exit 2. */
int ir_cli_check_out_dir(const char *prog, const char *dir);

/* Everything above for one run, before any work: c->out (when c != NULL)
 * as the output folder, each file by its role (at most 32), then
 * ir_cli_check_distinct over them and c->out.  0, or the exit status after
 * one line. */
int ir_cli_check_run(const char *prog, const ir_cli_common *c,
                     const ir_cli_path *files, size_t n);

/* a·b·c, or SIZE_MAX when it overflows. */
size_t ir_cli_bytes(size_t a, size_t b, size_t c);
/* What one process can allocate: physical memory, or RLIMIT_AS when set
 * and smaller; *why (may be NULL) names which. */
size_t ir_cli_memory_limit(const char **why);
/* Refuses (one line with the bytes needed, exit 2) when `what` needs more
 * than ir_cli_memory_limit. */
int ir_cli_check_memory(const char *prog, const char *what, size_t bytes);

/* The most BLAS threads --threads accepts: the OpenBLAS build's
 * MAX_THREADS (from openblas_get_config), 64 when it does not say. */
int ir_cli_max_threads(void);
/* The most threads this process can run: ir_cli_max_threads, lowered under
 * an address-space limit (RLIMIT_AS) to what fits at about 160 MiB per
 * thread; *aslimit (may be NULL) receives the limit when it lowered the
 * cap, else 0. */
int ir_cli_thread_cap(size_t *aslimit);

/* Copies in to out (cap bytes, NUL-terminated), control characters
 * (bytes < 0x20 and 0x7f) written as \xHH so that a message quoting input
 * cannot drive the terminal; returns the length written. */
size_t ir_cli_escape(const char *in, char *out, size_t cap);
/* One message line on stderr, formatted, escaped, then a newline. */
void ir_cli_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Each analysis: int main-like entry point. */
int ir_an_minnorm(int argc, char **argv);
int ir_an_gd_vs_minnorm(int argc, char **argv);
int ir_an_all(int argc, char **argv);
int ir_an_theory(int argc, char **argv);
int ir_an_double_descent(int argc, char **argv);
int ir_an_hessian(int argc, char **argv);
int ir_an_train(int argc, char **argv);
int ir_an_igr(int argc, char **argv);
int ir_an_nn_double_descent(int argc, char **argv);
int ir_an_table(int argc, char **argv);
int ir_an_plot(int argc, char **argv);
int ir_an_flatness(int argc, char **argv);

/* When non-NULL (set by `implreg all`), each analysis merges its checks
 * into this collection, prefixed with the analysis name. */
extern ir_checks *ir_cli_collect;

#endif
