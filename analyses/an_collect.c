/* an_collect.c — `implreg table` and `implreg plot`: one table across runs,
 * one figure's series from several runs, read back from their folders
 * (src/collect.c does the reading; this file is the command line). */
/* realpath is XSI. */
#define _XOPEN_SOURCE 700
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "implreg/collect.h"

static const char help_table[] =
    "usage: implreg table NAME RUN_DIR... [options]\n"
    "\n"
    "Stacks table NAME (RUN_DIR/NAME.csv) of several finished runs into one\n"
    "table with a first column 'run', written as NAME.csv/.md/.tex/.json into\n"
    "--out.  Columns missing in a run stay empty; nothing is recomputed.\n"
    "Example: one table across seeds\n"
    "  implreg table errors out/seed1 out/seed2 out/seed3 --out out/seeds\n"
    "\n"
    "options:\n"
    "  --labels L1,L2,...  run labels (default: each folder's last component)\n"
    "  --out DIR           output folder (default results/table)\n"
    "  --format LIST       csv,md,tex,json (any subset; default all)\n"
    "  --quiet             do not print the table\n"
    "  --help              this text\n";

static const char help_plot[] =
    "usage: implreg plot NAME RUN_DIR... [options]\n"
    "\n"
    "Overlays figure NAME (RUN_DIR/NAME.dat and NAME.gp) of several finished\n"
    "runs in one figure, written as NAME.dat/.gp/.png/.pdf into --out.  Title,\n"
    "axis labels and log scales come from the first run's NAME.gp.\n"
    "Example: the sharpness of two step sizes in one figure\n"
    "  implreg plot sharpness results/train-eos results/train-stable \\\n"
    "      --labels 'eta = 0.3,eta = 0.05' --series 'λ_max (Lanczos)'\n"
    "\n"
    "options:\n"
    "  --labels L1,L2,...  run labels (default: each folder's last component)\n"
    "  --series LABEL      only the series with this label (the '# index'\n"
    "                      lines of NAME.dat list them)\n"
    "  --title TEXT        the figure's title (default: the first run's)\n"
    "  --out DIR           output folder (default results/plot)\n"
    "  --no-render         write .dat and .gp only (no gnuplot)\n"
    "  --help              this text\n";

enum { OPT_LABELS = 1, OPT_SERIES, OPT_TITLE, OPT_NORENDER, OPT_OUT,
       OPT_FORMAT, OPT_QUIET, OPT_HELP };

/* The last path component of dir (trailing slashes ignored) into buf. */
static void base_label(const char *dir, char *buf, size_t len) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t a = n;
  while (a > 0 && dir[a - 1] != '/')
    a--;
  size_t w = n - a < len - 1 ? n - a : len - 1;
  memcpy(buf, dir + a, w);
  buf[w] = '\0';
}

/* Splits a comma-separated list into exactly nrun labels (copied into
 * store, pointers into labels); one line and exit 2 otherwise. */
static int split_labels(const char *prog, const char *list, size_t nrun,
                        char *store, const char **labels) {
  strcpy(store, list);
  size_t cnt = 0;
  for (char *p = store;; p++) {
    char *c = strchr(p, ',');
    if (cnt < nrun)
      labels[cnt] = p;
    cnt++;
    if (c == NULL)
      break;
    *c = '\0';
    p = c;
  }
  if (cnt != nrun)
    return ir_cli_usage_error(prog, "--labels: %zu labels for %zu runs", cnt,
                              nrun);
  return 0;
}

typedef struct {
  const char *labels, *series, *title;
  char out[4096];
  int formats, quiet, render;
} co_opts;

static int parse(const char *prog, const char *help, int plot, int argc,
                 char **argv, co_opts *o, int *first) {
  static const struct option table_opts[] = {
      {"labels", required_argument, NULL, OPT_LABELS},
      {"out", required_argument, NULL, OPT_OUT},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"quiet", no_argument, NULL, OPT_QUIET},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0}};
  static const struct option plot_opts[] = {
      {"labels", required_argument, NULL, OPT_LABELS},
      {"series", required_argument, NULL, OPT_SERIES},
      {"title", required_argument, NULL, OPT_TITLE},
      {"out", required_argument, NULL, OPT_OUT},
      {"no-render", no_argument, NULL, OPT_NORENDER},
      {"quiet", no_argument, NULL, OPT_QUIET},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  snprintf(o->out, sizeof o->out, "results/%s", plot ? "plot" : "table");
  o->formats = IR_FMT_ALL;
  o->render = 1;
  optind = 1;
  opterr = 0;
  int code;
  /* GNU getopt permutes: options may come before or after the names. */
  while ((code = getopt_long(argc, argv, ":", plot ? plot_opts : table_opts,
                             NULL)) != -1) {
    switch (code) {
    case OPT_LABELS:
      o->labels = optarg;
      break;
    case OPT_SERIES:
      o->series = optarg;
      break;
    case OPT_TITLE:
      o->title = optarg;
      break;
    case OPT_NORENDER:
      o->render = 0;
      break;
    case OPT_OUT:
      if (optarg[0] == '\0' || strlen(optarg) >= sizeof o->out)
        return ir_cli_usage_error(prog, "--out: empty or too long a path");
      snprintf(o->out, sizeof o->out, "%s", optarg);
      break;
    case OPT_FORMAT:
      if (ir_report_parse_formats(optarg, &o->formats) != IR_OK)
        return ir_cli_fail(prog, IR_EINVAL, NULL);
      break;
    case OPT_QUIET:
      o->quiet = 1;
      break;
    case OPT_HELP:
      fputs(help, stdout);
      return -1;
    case ':':
      return ir_cli_usage_error(prog, "%s needs a value", argv[optind - 1]);
    default:
      return ir_cli_usage_error(
          prog, "'%s' is not an option of this command (it reads finished "
                "runs; seeds, sizes and data belong to the runs)",
          argv[optind - 1]);
    }
  }
  *first = optind;
  if (argc - optind < 2)
    return ir_cli_usage_error(prog, "need NAME and at least one RUN_DIR");
  return 0;
}

/* The shared part: options, labels, output folder, manifest. */
static int run(int argc, char **argv, int plot) {
  const char *prog = plot ? "implreg plot" : "implreg table";
  co_opts o;
  int first = 0, rc = parse(prog, plot ? help_plot : help_table, plot, argc, argv,
                        &o, &first);
  if (rc != 0)
    return rc < 0 ? IR_EXIT_OK : rc;
  if ((rc = ir_cli_check_out_dir(prog, o.out)) != 0)
    return rc;
  const char *name = argv[first];
  const size_t nrun = (size_t)(argc - first - 1);
  const char **dirs = (const char **)argv + first + 1;
  const char **labels = calloc(nrun, sizeof *labels);
  char *store = malloc(nrun * 256 + (o.labels ? strlen(o.labels) + 1 : 0));
  ir_table *t = NULL;
  ir_figure *f = NULL;
  ir_checks *none = ir_checks_alloc();
  if (labels == NULL || store == NULL || none == NULL) {
    rc = ir_cli_fail(prog, IR_ENOMEM, "out of memory");
    goto done;
  }
  if (o.labels) {
    rc = split_labels(prog, o.labels, nrun, store, labels);
    if (rc != 0)
      goto done;
  } else {
    for (size_t i = 0; i < nrun; i++) {
      base_label(dirs[i], store + 256 * i, 256);
      labels[i] = store + 256 * i;
    }
  }
  int s = plot ? ir_collect_figure(dirs, labels, nrun, name, o.series,
                                   o.title, &f)
               : ir_collect_tables(dirs, labels, nrun, name, &t);
  if (s != IR_OK) {
    rc = ir_cli_fail(prog, s, NULL);
    goto done;
  }
  /* --out must not be a run read: its manifest and files would be
   * replaced, and the rerun cleanup would remove the run's other files. */
  char *rout = realpath(o.out, NULL);
  for (size_t i = 0; rout != NULL && i < nrun; i++) {
    char *rd = realpath(dirs[i], NULL);
    const int same = rd != NULL && strcmp(rd, rout) == 0;
    free(rd);
    if (same) {
      rc = ir_cli_usage_error(prog, "--out %s is the run folder %s: write "
                              "the combined outputs elsewhere",
                              o.out, dirs[i]);
      free(rout);
      goto done;
    }
  }
  free(rout);
  rc = ir_cli_prepare_out(prog, o.out);
  if (rc != 0)
    goto done;
  int rendered = 0;
  s = plot ? ir_figure_write(f, o.out, o.render, &rendered)
           : ir_table_write(t, o.out, o.formats);
  if (s == IR_OK) {
    ir_cli_config cfg = {0};
    ir_cli_config_set(&cfg, plot ? "figure" : "table", "%s", name);
    for (size_t i = 0; i < nrun; i++) {
      char key[32];
      snprintf(key, sizeof key, "run%zu", i + 1);
      ir_cli_config_set(&cfg, key, "%s", dirs[i]);
      snprintf(key, sizeof key, "label%zu", i + 1);
      ir_cli_config_set(&cfg, key, "%s", labels[i]);
    }
    if (o.series)
      ir_cli_config_set(&cfg, "series", "%s", o.series);
    if (o.title)
      ir_cli_config_set(&cfg, "title", "%s", o.title);
    s = ir_cli_write_manifest(o.out, plot ? "plot" : "table", &cfg, NULL, NULL,
                              0, none, 0.0);
    ir_cli_config_free(&cfg);
  }
  if (s != IR_OK) {
    rc = ir_cli_fail(prog, s, NULL);
    goto done;
  }
  if (!o.quiet) {
    if (plot)
      printf("%s: %s/%s.gp%s\n", prog, o.out, name,
             rendered ? " (and .png, .pdf)" : "");
    else
      ir_table_print(t, stdout);
  }
  rc = IR_EXIT_OK;
done:
  ir_table_free(t);
  ir_figure_free(f);
  ir_checks_free(none);
  free(labels);
  free(store);
  return rc;
}

int ir_an_table(int argc, char **argv) { return run(argc, argv, 0); }
int ir_an_plot(int argc, char **argv) { return run(argc, argv, 1); }
