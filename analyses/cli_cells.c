/* cli_cells.c — an analysis's sweeps of cells on the command line: stored
 * in OUT/cells as they finish, resumed (--resume), split into shards
 * (--shard I/K) and merged (`implreg merge`), or spread over MPI ranks.
 *
 * The library (cells.h) stores, reads back, shards and stops; this file
 * decides where (OUT/cells), under which hash (the configuration's,
 * ir_cli_config_hash), and what a shard's run or an MPI rank does once its
 * share is computed.
 *
 * OUT/cells/config.json records the hash of the configuration whose cells
 * the folder holds: --resume refuses a folder of another configuration up
 * front, and a run without --resume starts the folder afresh (its earlier
 * cells are removed: they belong to implreg, never to the user).
 */
#include "cli.h"

#include "atomic.h"

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* The folders `implreg merge` reads the sharded sweeps from (NULL: not a
 * merge). */
static char **ir_merge_dirs;
static size_t ir_nmerge;
/* Seconds since the first sweep, for a shard's manifest. */
static double ir_cells_t0 = -1;

void ir_cli_uses_cells(ir_cli_common *c) {
  c->cells = 1;
}

/* ---- The store folder -------------------------------------------------- */

/* The store folders prepared in this process (one check per folder). */
static char ir_ready[8][IR_CLI_PATH + 8];
static size_t ir_nready;

/* Removes what a run stores in a cells folder: cell files and temporary
 * files (NAME.json, NAME.json.tmp.XXXXXX).  Only regular files. */
static int ir_store_clear(const char *store) {
  DIR *d = opendir(store);
  if (d == NULL)
    return errno == ENOENT ? IR_OK
                           : ir_error(IR_EIO, "cannot read %s: %s", store,
                                      strerror(errno));
  int s = IR_OK;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && s == IR_OK) {
    const char *n = e->d_name;
    size_t l = strlen(n);
    if (!((l > 5 && strcmp(n + l - 5, ".json") == 0) ||
          strstr(n, ".json.tmp.") != NULL))
      continue;
    char path[IR_CLI_PATH + 300];
    snprintf(path, sizeof path, "%s/%s", store, n);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) != 0 &&
        errno != ENOENT)
      s = ir_error(IR_EIO, "cannot remove %s: %s", path, strerror(errno));
  }
  closedir(d);
  return s;
}

/* The hash recorded in store/config.json: 1 and *hash when there is one. */
static int ir_store_hash(const char *store, uint64_t *hash) {
  char path[IR_CLI_PATH + 32];
  snprintf(path, sizeof path, "%s/config.json", store);
  FILE *fp = fopen(path, "r");
  if (fp == NULL)
    return 0;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  const char *k = strstr(buf, "\"config_hash\": \"");
  unsigned long long h;
  if (k == NULL || sscanf(k + 16, "%16llx", &h) != 1)
    return 0;
  *hash = (uint64_t)h;
  return 1;
}

/* Readies dir/cells for this run: under --resume it must hold cells of
 * this configuration (or none); otherwise it is emptied.  Then its
 * config.json names the configuration. */
static int ir_store_ready(const char *prog, const ir_cli_common *c,
                          const ir_cli_config *cfg, const char *store,
                          uint64_t hash, int collective) {
  for (size_t i = 0; i < ir_nready; i++)
    if (strcmp(ir_ready[i], store) == 0)
      return IR_OK;
  /* Under MPI rank 0 readies the folder and the others wait for it: a
   * rank clearing it late would remove cells another rank stored. */
  if (ir_cli_rank() != 0) {
    int s = collective ? ir_cli_mpi_agree(IR_OK) : IR_OK;
    if (s == IR_OK && ir_nready < sizeof ir_ready / sizeof ir_ready[0])
      snprintf(ir_ready[ir_nready++], sizeof ir_ready[0], "%s", store);
    return s;
  }
  uint64_t old;
  int s = IR_OK;
  if (c->resume && ir_store_hash(store, &old) && old != hash) {
    s = ir_error(IR_EINVAL,
                    "--resume: %s holds the cells of another configuration "
                    "(hash %016llx, this run's is %016llx): run without "
                    "--resume to start over, or give another --out",
                    store, (unsigned long long)old, (unsigned long long)hash);
    return collective ? ir_cli_mpi_agree(s) : s;
  }
  if (!c->resume)
    s = ir_store_clear(store);
  if (s == IR_OK)
    s = ir_mkdir_p(store);
  if (s == IR_OK) {
    ir_json *j = ir_json_alloc();
    if (j == NULL)
      return ir_error(IR_ENOMEM, "out of memory");
    char h[32], path[IR_CLI_PATH + 32];
    snprintf(h, sizeof h, "%016llx", (unsigned long long)hash);
    ir_json_begin_object(j, NULL);
    ir_json_string(j, "config_hash", h);
    ir_json_begin_object(j, "config");
    for (size_t i = 0; i < cfg->n; i++)
      if (strncmp(cfg->keys[i], "derived.", 8) != 0)
        ir_json_string(j, cfg->keys[i], cfg->vals[i]);
    ir_json_end_object(j);
    ir_json_end_object(j);
    snprintf(path, sizeof path, "%s/config.json", store);
    s = ir_json_write(j, path);
    ir_json_free(j);
  }
  if (collective)
    s = ir_cli_mpi_agree(s);
  if (s == IR_OK && ir_nready < sizeof ir_ready / sizeof ir_ready[0])
    snprintf(ir_ready[ir_nready++], sizeof ir_ready[0], "%s", store);
  (void)prog;
  return s;
}

/* ---- Running a sweep ---------------------------------------------------- */

/* A merge: the sharded sweep's cells from the shards' folders, all of
 * them, each from one folder (or the same bits from several). */
static int ir_merge_load(const char *sweep, uint64_t hash,
                         const ir_cells_params *p, double *out) {
  unsigned char *have = calloc(p->ncells ? p->ncells : 1, 1);
  if (have == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  int s = IR_OK;
  for (size_t k = 0; k < ir_nmerge && s == IR_OK; k++) {
    char store[IR_CLI_PATH + 8];
    snprintf(store, sizeof store, "%s/cells", ir_merge_dirs[k]);
    s = ir_cells_load(store, sweep, hash, p->ncells, p->nout, out, have,
                      NULL);
  }
  size_t missing = 0, first = 0;
  for (size_t i = 0; i < p->ncells && s == IR_OK; i++)
    if (!have[i] && missing++ == 0)
      first = i;
  if (s == IR_OK && missing > 0)
    s = ir_error(IR_EINVAL,
                 "sweep %s: %zu of %zu cells are in none of the folders "
                 "(the first is cell %zu): finish the shard runs that "
                 "compute them (--resume continues an interrupted one)",
                 sweep, missing, p->ncells, first);
  free(have);
  return s;
}

int ir_cli_cells_run(const char *prog, const ir_cli_common *c,
                     const ir_cli_config *cfg, const char *sweep, int sharded,
                     ir_cells_params *p, ir_cell_fn fn, void *ctx,
                     double *out) {
  if (ir_cells_t0 < 0)
    ir_cells_t0 = ir_wall_time();
  const uint64_t hash = ir_cli_config_hash(cfg);
  if (sharded && ir_nmerge > 0)
    return ir_merge_load(sweep, hash, p, out);
  char store[IR_CLI_PATH + 8];
  snprintf(store, sizeof store, "%s/cells", c->out);
  int s = ir_store_ready(prog, c, cfg, store, hash,
                         sharded && ir_cli_mpi_size > 1);
  if (s != IR_OK)
    return s;
  ir_cells_stats st;
  p->store = store;
  p->sweep = sweep;
  p->hash = hash;
  p->resume = c->resume;
  p->stop = &ir_cli_stop;
  p->stats = &st;
  p->shard = 0;
  p->nshards = 1;
  if (sharded && c->nshards > 1) {
    p->shard = c->shard;
    p->nshards = c->nshards;
  }
  if (sharded && ir_cli_mpi_size > 1) {
    p->shard = (size_t)ir_cli_mpi_rank;
    p->nshards = (size_t)ir_cli_mpi_size;
  }
  ir_cli_in_cells = 1;
  s = ir_cells_run(p, fn, ctx, out);
  ir_cli_in_cells = 0;
  if (s == IR_EINTR) {
    char d[IR_CLI_PATH];
    ir_cli_escape(store, d, sizeof d);
    s = ir_error(IR_EINTR,
                 "interrupted: sweep %s stopped with %zu of %zu cells done "
                 "(%zu read back); the finished cells are kept in %s and "
                 "nothing else was written: the same command with --resume "
                 "continues",
                 sweep, st.computed + st.loaded,
                 p->ncells - st.skipped, st.loaded, d);
  }
  if (sharded && ir_cli_mpi_size > 1) {
    s = ir_cli_mpi_combine(s, p->ncells, p->nout, out);
    if (s == IR_OK && ir_cli_mpi_rank == 0) /* the other ranks' files */
      ir_cells_note(store, sweep, p->ncells);
  }
  if (s == IR_OK && c->progress && ir_cli_rank() == 0)
    fprintf(stderr, "[%s] sweep %s: %zu cells computed, %zu read back%s\n",
            strncmp(prog, "implreg ", 8) == 0 ? prog + 8 : prog, sweep, st.computed, st.loaded,
            st.skipped ? " (the others are other shards')" : "");
  return s;
}

int ir_cli_shard_done(const char *prog, ir_cli_common *c, const char *analysis,
                      const ir_cli_config *cfg, int *rc) {
  *rc = IR_EXIT_OK;
  if (ir_cli_mpi_size > 1 && ir_cli_mpi_rank != 0)
    return 1; /* rank 0 assembles */
  if (c->nshards <= 1)
    return 0;
  char dir[IR_CLI_PATH];
  snprintf(dir, sizeof dir, "%s", c->out);
  int r = ir_cli_prepare_out(prog, dir);
  if (r != 0) {
    *rc = r;
    return 1;
  }
  const double wall = ir_cells_t0 >= 0 ? ir_wall_time() - ir_cells_t0 : 0;
  int s = ir_cli_write_manifest(dir, analysis, cfg, NULL, NULL, 0, NULL, wall);
  if (s != IR_OK) {
    *rc = ir_cli_fail(prog, s, NULL);
    return 1;
  }
  if (!c->quiet)
    printf("%s: shard %zu/%zu done, its cells are in %s/cells; once all %zu "
           "shards are done, 'implreg merge --out DIR SHARD_DIR...' "
           "assembles the tables\n",
           prog, c->shard, c->nshards, c->out, c->nshards);
  return 1;
}

/* ---- implreg merge ------------------------------------------------------ */

static const char ir_merge_help[] =
    "Usage: implreg merge [--out DIR] [options] SHARD_DIR...\n\n"
    "Assembles the tables, checks and figures of a sweep computed in shards\n"
    "(each SHARD_DIR the --out of one 'implreg <analysis> --shard I/K' run,\n"
    "all K of them), exactly as one run would have: the same bits.  The\n"
    "shards' configurations must agree (apart from --shard, --out and how\n"
    "they ran); sweeps that depend on others' results are computed here.\n\n"
    "Options:\n"
    "  --out DIR        output folder (default results/<analysis>)\n"
    "  --threads N      BLAS threads / cell workers for the sweeps left\n"
    "  --format LIST    table formats (default: the shards')\n"
    "  --quiet, --progress, --strict   as for the analysis\n"
    "  --help           this text\n";

/* Options that say how a shard ran, not what it computed. */
static int ir_merge_skip(const char *opt) {
  static const char *const s[] = {"--out",   "--shard",    "--threads",
                                  "--quiet", "--progress", "--strict",
                                  "--resume"};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
    if (strcmp(opt, s[i]) == 0)
      return 1;
  return 0;
}

/* Whether opt (an option of a manifest's config) takes the next word. */
static int ir_merge_has_value(char **v, int n, int i) {
  return i + 1 < n && strncmp(v[i + 1], "--", 2) != 0;
}

int ir_an_merge(int argc, char **argv) {
  static const char *prog = "implreg merge";
  static const struct option opts[] = {
      {"out", required_argument, NULL, IR_OPT_OUT},
      {"threads", required_argument, NULL, IR_OPT_THREADS},
      {"format", required_argument, NULL, IR_OPT_FORMAT},
      {"quiet", no_argument, NULL, IR_OPT_QUIET},
      {"progress", no_argument, NULL, IR_OPT_PROGRESS},
      {"strict", no_argument, NULL, IR_OPT_STRICT},
      {"help", no_argument, NULL, IR_OPT_HELP},
      {NULL, 0, NULL, 0}};
  const char *out = NULL, *threads = NULL, *format = NULL;
  int quiet = 0, progress = 0, strict = 0, code;
  opterr = 0;
  optind = 1;
  while ((code = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    switch (code) {
    case IR_OPT_OUT: out = optarg; break;
    case IR_OPT_THREADS: threads = optarg; break;
    case IR_OPT_FORMAT: format = optarg; break;
    case IR_OPT_QUIET: quiet = 1; break;
    case IR_OPT_PROGRESS: progress = 1; break;
    case IR_OPT_STRICT: strict = 1; break;
    case IR_OPT_HELP: fputs(ir_merge_help, stdout); return IR_EXIT_OK;
    case ':':
      return ir_cli_usage_error(prog, "option %s needs a value",
                                argv[optind - 1]);
    default:
      return ir_cli_usage_error(prog, "unknown option '%s'", argv[optind - 1]);
    }
  }
  const int ndirs = argc - optind;
  if (ndirs < 1)
    return ir_cli_usage_error(prog, "name the shards' folders");
  char **dirs = argv + optind;
  char analysis[64] = "", first_analysis[64] = "";
  int n0 = 0, rc = 0;
  char **cfg0 = NULL;
  size_t nsh = 0;
  unsigned char *seen = NULL;
  for (int d = 0; d < ndirs && rc == 0; d++) {
    char path[IR_CLI_PATH + 32];
    snprintf(path, sizeof path, "%s/manifest.json", dirs[d]);
    int n = 0;
    char **v = NULL;
    if ((rc = ir_cli_check_input(prog, "merge", path)) != 0 ||
        (rc = ir_cli_read_manifest(prog, path, analysis, sizeof analysis, &n,
                                   &v)) != 0)
      break;
    if (strcmp(analysis, "flatness") != 0 &&
        strcmp(analysis, "nn-double-descent") != 0) {
      ir_cli_eprintf("%s: %s: a run of '%s', which has no shards (only "
                     "flatness and nn-double-descent have)",
                     prog, path, analysis[0] ? analysis : "?");
      rc = IR_EXIT_USAGE;
    }
    /* The shard, and the configuration without how the shard ran. */
    size_t I = 0, K = 0;
    int k = 0;
    char **keep = malloc((size_t)(n + 1) * sizeof *keep);
    for (int i = 0; i < n && rc == 0 && keep; i++) {
      const int val = ir_merge_has_value(v, n, i);
      if (strcmp(v[i], "--shard") == 0 && val)
        sscanf(v[i + 1], "%zu/%zu", &I, &K);
      if (!ir_merge_skip(v[i]))
        keep[k++] = v[i];
      if (val) {
        if (!ir_merge_skip(v[i]))
          keep[k++] = v[i + 1];
        i++;
      }
    }
    if (keep == NULL)
      rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
    if (rc == 0 && K < 2) {
      ir_cli_eprintf("%s: %s: not the run of a shard (no --shard I/K with K "
                     ">= 2 in its configuration)",
                     prog, path);
      rc = IR_EXIT_USAGE;
    }
    if (rc == 0 && d == 0) {
      snprintf(first_analysis, sizeof first_analysis, "%s", analysis);
      nsh = K;
      seen = calloc(K, 1);
      cfg0 = calloc((size_t)k + 1, sizeof *cfg0);
      if (seen == NULL || cfg0 == NULL)
        rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
      for (int i = 0; i < k && rc == 0; i++)
        if ((cfg0[i] = strdup(keep[i])) == NULL)
          rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
      n0 = rc == 0 ? k : 0;
    } else if (rc == 0) {
      int same = strcmp(analysis, first_analysis) == 0 && k == n0;
      for (int i = 0; i < k && same; i++)
        same = strcmp(keep[i], cfg0[i]) == 0;
      if (!same) {
        ir_cli_eprintf("%s: %s and %s/manifest.json: the shards' "
                       "configurations differ; only runs of the same command "
                       "(apart from --shard and --out) merge",
                       prog, path, dirs[0]);
        rc = IR_EXIT_USAGE;
      } else if (K != nsh) {
        ir_cli_eprintf("%s: %s: shard %zu/%zu, but %s was one of %zu", prog,
                       path, I, K, dirs[0], nsh);
        rc = IR_EXIT_USAGE;
      }
    }
    if (rc == 0 && seen[I]) {
      ir_cli_eprintf("%s: %s: shard %zu/%zu is named twice", prog, path, I,
                     K);
      rc = IR_EXIT_USAGE;
    }
    if (rc == 0)
      seen[I] = 1;
    free(keep);
    ir_cli_argv_free(n, v);
  }
  if (rc == 0) {
    size_t missing = 0;
    char list[256] = "";
    for (size_t i = 0; i < nsh; i++)
      if (!seen[i] && missing++ < 8) {
        char b[32];
        snprintf(b, sizeof b, "%s%zu", missing > 1 ? ", " : "", i);
        strncat(list, b, sizeof list - strlen(list) - 1);
      }
    if (missing > 0) {
      ir_cli_eprintf("%s: %zu of %zu shards missing (%s%s): name the "
                     "folders of all of them",
                     prog, missing, nsh, list, missing > 8 ? ", ..." : "");
      rc = IR_EXIT_USAGE;
    }
  }
  /* The output folder is a new one: a shard's folder keeps its cells. */
  char outdir[IR_CLI_PATH];
  if (rc == 0) {
    snprintf(outdir, sizeof outdir, "%s",
             out ? out : strcmp(first_analysis, "flatness") == 0
                             ? "results/flatness"
                             : "results/nn-double-descent");
    for (int d = 0; d < ndirs && rc == 0; d++) {
      struct stat a, b;
      if (stat(outdir, &a) == 0 && stat(dirs[d], &b) == 0 &&
          a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        ir_cli_eprintf("%s: --out %s is the shard folder %s: give a folder "
                       "of its own",
                       prog, outdir, dirs[d]);
        rc = IR_EXIT_USAGE;
      }
    }
  }
  if (rc != 0) {
    ir_cli_argv_free(n0, cfg0);
    free(seen);
    return rc;
  }
  /* The analysis's own command line: the shards' configuration, the
   * merge's output and how to run. */
  int na = 0;
  char **av = malloc((size_t)(n0 + 12) * sizeof *av);
  if (av == NULL) {
    ir_cli_argv_free(n0, cfg0);
    free(seen);
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  }
  av[na++] = first_analysis;
  for (int i = 0; i < n0; i++)
    av[na++] = cfg0[i];
  av[na++] = "--out";
  av[na++] = outdir;
  if (threads)
    av[na++] = "--threads", av[na++] = (char *)threads;
  if (format)
    av[na++] = "--format", av[na++] = (char *)format;
  if (quiet)
    av[na++] = "--quiet";
  if (progress)
    av[na++] = "--progress";
  if (strict)
    av[na++] = "--strict";
  av[na] = NULL;
  ir_merge_dirs = dirs;
  ir_nmerge = (size_t)ndirs;
  optind = 1;
  rc = strcmp(first_analysis, "flatness") == 0
           ? ir_an_flatness(na, av)
           : ir_an_nn_double_descent(na, av);
  ir_merge_dirs = NULL;
  ir_nmerge = 0;
  free(av);
  ir_cli_argv_free(n0, cfg0);
  free(seen);
  return rc;
}
