/* cli_run.c — one run into one output folder: the folder's lock, the
 * staging folder published with the manifest last, and what an interrupt
 * does.
 *
 * A run into DIR
 *   1. takes DIR's lock before any work (ir_cli_lock_out, from
 *      ir_cli_check_run): a second run into DIR is refused with one line
 *      naming the first one's pid.  The lock is a POSIX record lock on
 *      DIR/.implreg.lock, so the kernel drops it when the process ends,
 *      however it ends (no stale lock after a kill -9);
 *   2. writes its tables, checks and figures into DIR/.implreg-staging
 *      (ir_cli_prepare_out points the analysis's folder name there);
 *   3. publishes them (ir_cli_write_manifest): every staged file is renamed
 *      onto its name in DIR, then the manifest is written, then the files
 *      of the previous run (listed in its manifest) that this run did not
 *      rewrite are removed.  A user's own files are never touched.
 * Until step 3, DIR holds the previous run's results whole: a run that
 * fails or is interrupted publishes nothing, and its staging folder is
 * removed at exit (or, after a kill -9, by the next run into DIR).
 *
 * Interrupts (SIGINT, SIGTERM, SIGHUP): during a sweep of cells the first
 * one asks the sweep to stop (the cells in flight finish and are kept in
 * DIR/cells, the run ends with exit 130 and says how to resume); a second
 * one, or one outside a sweep, ends the process at once: temporary files in
 * progress are removed, children (cell workers, gnuplot) die with it
 * (PR_SET_PDEATHSIG), nothing is published, exit 130.
 */
#include "cli.h"

#include "atomic.h"

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IR_LOCK_NAME ".implreg.lock"
#define IR_STAGE_NAME IR_OUTDIR_STAGE

/* ---- MPI ranks (set by cli_mpi.c when built with MPI) ---------------- */

int ir_cli_mpi_rank = 0, ir_cli_mpi_size = 1;

int ir_cli_rank(void) {
  return ir_cli_mpi_rank;
}

/* ---- Signals ---------------------------------------------------------- */

volatile sig_atomic_t ir_cli_stop = 0;
volatile sig_atomic_t ir_cli_in_cells = 0;

/* Messages are composed before any signal (snprintf is not
 * async-signal-safe); the handler only write()s them. */
static char ir_sig_soft[512] =
    "implreg: interrupted: finishing the cells in flight and keeping them "
    "(interrupt again to drop them)\n";
static char ir_sig_hard[8448] =
    "implreg: interrupted: nothing was published\n";

static void ir_sig_write(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0)
      break;
    s += w;
    n -= (size_t)w;
  }
}

/* What the handler removes: the staging folders of unpublished runs (by
 * an `rm -rf` it starts: removing a tree needs calls a handler may not
 * make, while fork and execve are async-signal-safe) and the lock files
 * this process holds. */
enum { IR_SIG_MAX = 8 };
static char ir_sig_stage[IR_SIG_MAX][4200];
static volatile sig_atomic_t ir_sig_nstage;
static char ir_sig_lock[IR_SIG_MAX][4200];
static volatile sig_atomic_t ir_sig_nlock;

static void ir_cli_on_signal(int sig) {
  (void)sig;
  if (ir_cli_in_cells && !ir_cli_stop) {
    ir_cli_stop = 1;
    ir_sig_write(ir_sig_soft);
    return;
  }
  ir_atomic_unlink_pending();
  for (sig_atomic_t i = 0; i < ir_sig_nstage; i++) {
    if (ir_sig_stage[i][0] == '\0')
      continue;
    pid_t pid = fork();
    if (pid == 0) {
      char *const av[] = {"rm", "-rf", "--", ir_sig_stage[i], NULL};
      char *const env[] = {NULL};
      execve("/bin/rm", av, env);
      _exit(127);
    }
  }
  for (sig_atomic_t i = 0; i < ir_sig_nlock; i++)
    if (ir_sig_lock[i][0] != '\0')
      unlink(ir_sig_lock[i]);
  ir_sig_write(ir_sig_hard);
  _exit(IR_EXIT_INTERRUPTED);
}

/* Adds path to one of the handler's lists (or clears it: add 0). */
static void ir_sig_list(char (*list)[4200], volatile sig_atomic_t *n,
                        const char *path, int add) {
  for (sig_atomic_t i = 0; i < *n; i++)
    if (strcmp(list[i], path) == 0) {
      if (!add)
        list[i][0] = '\0';
      return;
    }
  if (!add || *n == IR_SIG_MAX || strlen(path) >= sizeof list[0])
    return;
  strcpy(list[*n], path);
  *n = *n + 1;
}

void ir_cli_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ir_cli_on_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: a poll() waiting for cell workers returns EINTR and
   * sees the stop flag at once. */
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old;
    /* A signal ignored by the caller (nohup, a batch system) stays so. */
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(sigs[i], &sa, NULL);
  }
}

/* What the handler says for a run into dir (cells: whether finished cells
 * are kept there for --resume). */
static void ir_sig_compose(const char *prog, const char *dir, int cells) {
  char d[4096];
  ir_cli_escape(dir, d, sizeof d);
  snprintf(ir_sig_hard, sizeof ir_sig_hard,
           "%s: interrupted: nothing was published (%s keeps its earlier "
           "results)%s%s%s\n",
           prog, d, cells ? "; finished cells are kept in " : "",
           cells ? d : "",
           cells ? "/cells: the same command with --resume continues" : "");
  snprintf(ir_sig_soft, sizeof ir_sig_soft,
           "%s: interrupted: finishing the cells in flight and keeping them "
           "(interrupt again to drop them)\n",
           prog);
}

/* ---- Locks ------------------------------------------------------------ */

enum { IR_CLI_MAXOUT = 32 };

typedef struct {
  char final[4096]; /* the folder as the user named it */
  char stage[4200]; /* its staging folder, "" before ir_cli_prepare_out */
  int lock;         /* the lock file's descriptor, -1 when not locked */
  ir_outdir *rec;   /* what this run writes there (report.h) */
  int published;
  char made[4096];  /* the outermost folder the lock created, "" if none */
} ir_run_out;

static ir_run_out ir_outs[IR_CLI_MAXOUT];
static size_t ir_nouts;
static int ir_atexit_set;

static ir_run_out *ir_out_find(const char *dir) {
  for (size_t i = 0; i < ir_nouts; i++)
    if (strcmp(ir_outs[i].final, dir) == 0 ||
        (ir_outs[i].stage[0] && strcmp(ir_outs[i].stage, dir) == 0))
      return &ir_outs[i];
  return NULL;
}

static void ir_unlock(ir_run_out *e) {
  if (e->lock < 0)
    return;
  /* Unlinked while still locked: a run that opened the old file before
   * the unlink finds, once it holds the lock, that the name no longer
   * leads to its file, and starts over (ir_cli_lock_out). */
  char path[4200];
  snprintf(path, sizeof path, "%s/" IR_LOCK_NAME, e->final);
  ir_sig_list(ir_sig_lock, &ir_sig_nlock, path, 0);
  unlink(path);
  close(e->lock);
  e->lock = -1;
}

/* At exit: staging folders of runs that did not publish are removed, and
 * every lock is released. */
/* The folders the lock created for a run that wrote nothing there, from
 * the innermost up to the outermost one created; each only when empty. */
static void ir_unmake(const ir_run_out *e) {
  if (e->made[0] == '\0')
    return;
  char p[4096];
  snprintf(p, sizeof p, "%s", e->final);
  size_t lm = strlen(e->made);
  while (strlen(p) >= lm && rmdir(p) == 0 && strlen(p) > lm) {
    char *slash = strrchr(p, '/');
    if (slash == NULL)
      break;
    *slash = '\0';
  }
}

static void ir_cli_run_atexit(void) {
  for (size_t i = 0; i < ir_nouts; i++) {
    ir_run_out *e = &ir_outs[i];
    if (e->stage[0] && !e->published)
      ir_remove_tree(e->stage);
    ir_unlock(e);
    if (!e->published)
      ir_unmake(e);
    ir_outdir_free(e->rec);
    e->rec = NULL;
  }
  ir_nouts = 0;
}

/* The entry for dir, made (with the record of the run's files started)
 * when missing.  NULL after one line on stderr. */
static ir_run_out *ir_out_entry(const char *prog, const char *dir) {
  ir_run_out *e = ir_out_find(dir);
  if (e != NULL)
    return e;
  if (strlen(dir) >= sizeof e->final) {
    ir_cli_eprintf("%s: --out %s: folder name too long", prog, dir);
    return NULL;
  }
  if (ir_nouts == IR_CLI_MAXOUT) {
    ir_cli_eprintf("%s: --out %s: more than %d output folders in one run",
                   prog, dir, IR_CLI_MAXOUT);
    return NULL;
  }
  if (!ir_atexit_set) {
    atexit(ir_cli_run_atexit);
    ir_atexit_set = 1;
  }
  e = &ir_outs[ir_nouts];
  memset(e, 0, sizeof *e);
  e->lock = -1;
  snprintf(e->final, sizeof e->final, "%s", dir);
  e->rec = ir_outdir_open(dir);
  if (e->rec == NULL) {
    ir_cli_fail(prog, IR_ENOMEM, NULL);
    return NULL;
  }
  ir_nouts++;
  return e;
}

int ir_cli_lock_out(const char *prog, const char *dir) {
  if (ir_cli_rank() != 0)
    return 0; /* rank 0 holds the lock for the whole MPI job */
  /* The outermost missing folder: a run that ends without writing removes
   * what it created (a refused or failed run leaves no empty folder). */
  char made[4096] = "";
  if (ir_out_find(dir) == NULL && strlen(dir) < sizeof made) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s", dir);
    for (;;) {
      if (stat(p, &st) == 0)
        break;
      snprintf(made, sizeof made, "%s", p);
      char *slash = strrchr(p, '/');
      if (slash == NULL || slash == p)
        break;
      *slash = '\0';
    }
  }
  if (ir_mkdir_p(dir) != IR_OK) {
    ir_cli_eprintf("%s: --out %s: %s", prog, dir, ir_error_message());
    return IR_EXIT_USAGE;
  }
  ir_run_out *e = ir_out_entry(prog, dir);
  if (e == NULL)
    return IR_EXIT_USAGE;
  if (made[0] != '\0')
    snprintf(e->made, sizeof e->made, "%s", made);
  if (e->lock >= 0)
    return 0;
  char path[4200];
  snprintf(path, sizeof path, "%s/" IR_LOCK_NAME, dir);
  for (int attempt = 0; attempt < 16; attempt++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      ir_cli_eprintf("%s: --out %s: cannot create the lock file %s: %s",
                     prog, dir, IR_LOCK_NAME, strerror(errno));
      return IR_EXIT_USAGE;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
      int e0 = errno;
      if (e0 == EACCES || e0 == EAGAIN) {
        long pid = 0;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
          pid = (long)fl.l_pid;
        close(fd);
        if (pid > 0)
          ir_cli_eprintf("%s: --out %s: another implreg run (pid %ld) is "
                         "writing there; wait for it to end, or give another "
                         "--out",
                         prog, dir, pid);
        else
          ir_cli_eprintf("%s: --out %s: another implreg run is writing "
                         "there; wait for it to end, or give another --out",
                         prog, dir);
        return IR_EXIT_USAGE;
      }
      close(fd);
      /* A file system without record locks (some network mounts): the
       * run goes on unprotected, and says so. */
      ir_cli_eprintf("%s: warning: --out %s: cannot lock the folder (%s); "
                     "make sure no other run writes there",
                     prog, dir, strerror(e0));
      return 0;
    }
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
      e->lock = fd;
      ir_sig_list(ir_sig_lock, &ir_sig_nlock, path, 1);
      return 0;
    }
    close(fd); /* the file was replaced while we waited: again */
  }
  ir_cli_eprintf("%s: --out %s: the lock file keeps changing; another run "
                 "is starting there",
                 prog, dir);
  return IR_EXIT_USAGE;
}

void ir_cli_note_run(const char *prog, const char *dir, int cells) {
  ir_sig_compose(prog, dir, cells);
}

/* ---- Staging and publishing ------------------------------------------ */

int ir_cli_prepare_out(const char *prog, char *dir) {
  int rc = ir_cli_lock_out(prog, dir);
  if (rc != 0)
    return rc;
  if (access(dir, W_OK) != 0) {
    ir_cli_eprintf("%s: --out %s: folder is not writable", prog, dir);
    return IR_EXIT_USAGE;
  }
  ir_run_out *e = ir_out_entry(prog, dir);
  if (e == NULL)
    return IR_EXIT_USAGE;
  if (e->stage[0] != '\0' && !e->published) {
    ir_cli_eprintf("%s: --out %s: prepared twice in one run (a bug)", prog,
                   dir);
    return IR_EXIT_INTERNAL;
  }
  if (e->published) { /* the same folder again (`theory`): a new run */
    ir_outdir_free(e->rec);
    e->rec = ir_outdir_open(e->final);
    e->published = 0;
    if (e->rec == NULL)
      return ir_cli_fail(prog, IR_ENOMEM, NULL);
  }
  if (strlen(e->final) + sizeof "/" IR_STAGE_NAME > IR_CLI_PATH) {
    ir_cli_eprintf("%s: --out %s: folder name too long", prog, dir);
    return IR_EXIT_USAGE;
  }
  snprintf(e->stage, sizeof e->stage, "%s/" IR_STAGE_NAME, e->final);
  /* A staging folder left by a run that was killed: its files were never
   * published, and the lock says no run is writing them now. */
  int s = ir_remove_tree(e->stage);
  if (s == IR_OK)
    s = ir_mkdir_p(e->stage);
  if (s == IR_OK)
    s = ir_outdir_stage(e->rec, e->stage);
  if (s != IR_OK) {
    e->stage[0] = '\0';
    ir_cli_eprintf("%s: --out %s: %s", prog, dir, ir_error_message());
    return IR_EXIT_USAGE;
  }
  ir_sig_list(ir_sig_stage, &ir_sig_nstage, e->stage, 1);
  strcpy(dir, e->stage);
  return 0;
}

int ir_cli_write_manifest(char *dir, const char *analysis,
                          const ir_cli_config *cfg, const char *const *stage,
                          const double *seconds, size_t nstage,
                          const ir_checks *checks, double wall) {
  ir_run_out *e = ir_out_find(dir);
  const char *final = e ? e->final : dir;
  ir_json *j = ir_json_alloc();
  if (j == NULL)
    return IR_ENOMEM;
  ir_json_begin_object(j, NULL);
  ir_json_string(j, "analysis", analysis);
  ir_json_string(j, "implreg_version", PACKAGE_VERSION);
  /* Options go to "config" (replayable with --config); values the run
   * derived itself (keys "derived.NAME", e.g. a median-heuristic bandwidth)
   * go to "derived", which --config does not read. */
  static const char derived[] = "derived.";
  const size_t dl = sizeof derived - 1;
  ir_json_begin_object(j, "config");
  for (size_t i = 0; i < cfg->n; i++)
    if (strncmp(cfg->keys[i], derived, dl) != 0)
      ir_json_string(j, cfg->keys[i], cfg->vals[i]);
  ir_json_end_object(j);
  ir_json_begin_object(j, "derived");
  for (size_t i = 0; i < cfg->n; i++)
    if (strncmp(cfg->keys[i], derived, dl) == 0)
      ir_json_string(j, cfg->keys[i] + dl, cfg->vals[i]);
  ir_json_end_object(j);
  char hash[32];
  snprintf(hash, sizeof hash, "%016llx",
           (unsigned long long)ir_cli_config_hash(cfg));
  ir_json_string(j, "config_hash", hash);
  ir_report_environment(j);
  ir_json_begin_object(j, "timings_seconds");
  for (size_t i = 0; i < nstage; i++)
    ir_json_number(j, stage[i], seconds[i]);
  ir_json_number(j, "total", wall);
  ir_json_end_object(j);
  if (checks != NULL) {
    ir_json_begin_object(j, "checks");
    ir_json_int(j, "total", (long)ir_checks_count(checks));
    ir_json_int(j, "failed", (long)ir_checks_failed(checks));
    ir_json_end_object(j);
  }
  if (e != NULL)
    ir_outdir_list(e->rec, j);
  ir_json_end_object(j);
  /* The staged files go into place first, the manifest last: a folder
   * whose manifest is new holds the whole new run. */
  int s = e != NULL ? ir_outdir_publish(e->rec) : IR_OK;
  if (s == IR_OK) {
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", final);
    s = ir_json_write(j, path);
  }
  ir_json_free(j);
  /* Only once the new manifest is in place: the previous run's files this
   * run did not rewrite go (a failed run leaves the old results whole). */
  if (s == IR_OK && e != NULL)
    s = ir_outdir_clean(e->rec, NULL);
  if (e != NULL && s == IR_OK) {
    e->published = 1;
    if (e->stage[0]) {
      ir_sig_list(ir_sig_stage, &ir_sig_nstage, e->stage, 0);
      ir_remove_tree(e->stage);
      /* The analysis's folder name is the user's again. */
      if (dir != e->final && strcmp(dir, e->stage) == 0)
        strcpy(dir, e->final);
    }
    ir_unlock(e);
  }
  return s;
}
