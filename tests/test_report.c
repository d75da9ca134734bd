/* test_report.c — tables in every format, theory checks, the JSON builder,
 * figures and atomic writes.  Every test writes into its own mkdtemp
 * directory under $TMPDIR (default /tmp), removed afterwards. */
#include "implreg/report.h"

#include "testutil.h"

#include <dirent.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Each tcase gets a root directory made in the runner's own process (an
 * unchecked fixture), each test a fresh directory below it (a checked
 * fixture, which runs in the forked child).  A failed assertion ends a
 * forked test with _exit(), skipping the test's teardown; the root's
 * teardown still runs in the parent and removes everything.  Both names are
 * shorter than PATH_MAX, so that a path below them always fits a PATH_MAX
 * buffer. */
static char g_root[512];
static char g_dir[1024];

static void make_root(void) {
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] == '\0')
    tmp = "/tmp";
  snprintf(g_root, sizeof g_root, "%s/implreg_test_report.XXXXXX", tmp);
  ck_assert_ptr_nonnull(mkdtemp(g_root));
}

static void make_dir(void) {
  snprintf(g_dir, sizeof g_dir, "%s/t.XXXXXX", g_root);
  ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

/* Removes path and, when it is a directory, everything below it. */
static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d != NULL) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
          continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static void remove_dir(void) {
  if (g_dir[0] != '\0')
    remove_tree(g_dir);
  g_dir[0] = '\0';
}

static void remove_root(void) {
  if (g_root[0] != '\0')
    remove_tree(g_root);
  g_root[0] = '\0';
}

static void path_in(char *buf, const char *name) {
  snprintf(buf, PATH_MAX, "%s/%s", g_dir, name);
}

static int exists_in(const char *name) {
  char p[PATH_MAX];
  path_in(p, name);
  struct stat st;
  return stat(p, &st) == 0;
}

/* The whole file g_dir/name as a NUL-terminated string (caller frees). */
static char *slurp(const char *name) {
  char p[PATH_MAX];
  path_in(p, name);
  FILE *fp = fopen(p, "rb");
  ck_assert_msg(fp != NULL, "cannot open %s", p);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  rewind(fp);
  char *s = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
  s[n] = '\0';
  fclose(fp);
  return s;
}

/* Everything written to a temporary stream by print(…, fp). */
static char *stream_text(FILE *fp) {
  long n = ftell(fp);
  rewind(fp);
  char *s = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
  s[n] = '\0';
  return s;
}

/* Entries of g_dir whose name contains ".tmp." (leftover temporaries). */
static int count_tmp(void) {
  DIR *d = opendir(g_dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static int count_entries(void) {
  DIR *d = opendir(g_dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* Structural JSON check: strings terminated and free of raw control
 * characters, brackets balanced and properly nested. */
static int json_balanced(const char *s) {
  char stack[256];
  int depth = 0, in_str = 0;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (in_str) {
      if (c < 0x20)
        return 0;
      if (c == '\\') {
        p++;
        if (*p == '\0')
          return 0;
      } else if (c == '"') {
        in_str = 0;
      }
      continue;
    }
    if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      if (depth == (int)sizeof stack)
        return 0;
      stack[depth++] = (char)c;
    } else if (c == '}' || c == ']') {
      if (depth == 0 || stack[depth - 1] != (c == '}' ? '{' : '['))
        return 0;
      depth--;
    }
  }
  return depth == 0 && !in_str;
}

/* When /usr/bin/python3 exists, lets Python's json module parse the file;
 * returns 1 (valid or not checked) or 0 (invalid). */
static int python_json_ok(const char *name) {
  if (access("/usr/bin/python3", X_OK) != 0)
    return 1;
  char p[PATH_MAX], cmd[2 * PATH_MAX];
  path_in(p, name);
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))'"
           " '%s'",
           p);
  return system(cmd) == 0;
}

static void assert_json_file(const char *name) {
  char *s = slurp(name);
  ck_assert_msg(json_balanced(s), "%s is not balanced JSON:\n%s", name, s);
  free(s);
  ck_assert_msg(python_json_ok(name), "python3 rejects %s", name);
}

static int have_gnuplot(void) {
  const char *path = getenv("PATH");
  if (path == NULL)
    return 0;
  char buf[PATH_MAX];
  while (*path) {
    const char *e = strchr(path, ':');
    size_t n = e ? (size_t)(e - path) : strlen(path);
    snprintf(buf, sizeof buf, "%.*s/gnuplot", (int)n, path);
    if (n > 0 && access(buf, X_OK) == 0)
      return 1;
    path += n + (e != NULL);
  }
  return 0;
}

/* Lines of text s (the caller frees the array, not the strings' storage,
 * which is s itself, cut at each newline). */
static char **split_lines(char *s, size_t *n) {
  size_t cap = 16;
  char **v = malloc(cap * sizeof *v);
  ck_assert_ptr_nonnull(v);
  *n = 0;
  char *p = s;
  while (*p) {
    if (*n == cap) {
      cap *= 2;
      v = realloc(v, cap * sizeof *v);
      ck_assert_ptr_nonnull(v);
    }
    v[(*n)++] = p;
    char *nl = strchr(p, '\n');
    if (nl == NULL)
      break;
    *nl = '\0';
    p = nl + 1;
  }
  return v;
}

/* ---- formats ------------------------------------------------------------- */

START_TEST(test_parse_formats) {
  int m = 0;
  IR_ASSERT_OK(ir_report_parse_formats("csv,md,tex,json", &m));
  ck_assert_int_eq(m, IR_FMT_ALL);
  IR_ASSERT_OK(ir_report_parse_formats("all", &m));
  ck_assert_int_eq(m, IR_FMT_ALL);
  IR_ASSERT_OK(ir_report_parse_formats(" csv , json ", &m));
  ck_assert_int_eq(m, IR_FMT_CSV | IR_FMT_JSON);
  IR_ASSERT_OK(ir_report_parse_formats("tex", &m));
  ck_assert_int_eq(m, IR_FMT_TEX);
  IR_ASSERT_OK(ir_report_parse_formats("md,md", &m));
  ck_assert_int_eq(m, IR_FMT_MD);
  m = 77;
  ck_assert_int_eq(ir_report_parse_formats("csv,xls", &m), IR_EINVAL);
  ck_assert_str_eq(ir_error_message(),
                   "unknown format 'xls' (expected csv, md, tex, json or all)");
  ck_assert_int_eq(m, 77);
  ck_assert_int_eq(ir_report_parse_formats("", &m), IR_EINVAL);
  ck_assert_int_eq(ir_report_parse_formats(" , ", &m), IR_EINVAL);
  ck_assert_int_eq(ir_report_parse_formats("csv md", &m), IR_EINVAL);
  ck_assert_int_eq(ir_report_parse_formats(NULL, &m), IR_EINVAL);
}
END_TEST

/* ---- tables: API --------------------------------------------------------- */

START_TEST(test_table_api) {
  ck_assert_ptr_null(ir_table_alloc("a/b", "x"));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "a/b"));
  ck_assert_ptr_null(ir_table_alloc("", "x"));
  ck_assert_ptr_null(ir_table_alloc(NULL, "x"));
  ir_table_free(NULL);

  ir_table *t = ir_table_alloc("t", NULL);
  ck_assert_ptr_nonnull(t);
  int n = ir_table_add_column(t, "n", IR_COL_INT, "size");
  int e = ir_table_add_column(t, "e", IR_COL_MEANSTD, NULL);
  int s = ir_table_add_column(t, "s", IR_COL_STRING, NULL);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(e, 1);
  ck_assert_int_eq(s, 2);
  ck_assert_int_eq(ir_table_add_column(t, "n", IR_COL_DOUBLE, NULL), -1);
  ck_assert_int_eq(ir_table_add_column(t, "e_std", IR_COL_DOUBLE, NULL), -1);
  ck_assert_int_eq(ir_table_add_column(t, "q", 99, NULL), -1);
  ck_assert_int_eq(ir_table_column(t, "e"), 1);
  ck_assert_int_eq(ir_table_column(t, "zz"), -1);

  /* No row yet. */
  ck_assert_int_eq(ir_table_set_int(t, n, 3), IR_EINVAL);
  IR_ASSERT_OK(ir_table_add_row(t));
  ck_assert_int_eq(ir_table_set_double(t, n, 3.0), IR_EINVAL);
  ck_assert_int_eq(ir_table_set_int(t, 7, 3), IR_EINVAL);
  ck_assert_int_eq(ir_table_set_int(t, -1, 3), IR_EINVAL);
  ck_assert_int_eq(ir_table_set_meanstd(t, s, 1, 2), IR_EINVAL);
  IR_ASSERT_OK(ir_table_set_int(t, n, 12));
  IR_ASSERT_OK(ir_table_set_meanstd(t, e, 0.5, 0.25));
  IR_ASSERT_OK(ir_table_set_string(t, s, "x"));
  ck_assert_uint_eq(ir_table_nrows(t), 1);
  ck_assert_uint_eq(ir_table_ncols(t), 3);
  ck_assert(ir_table_get(t, 0, n) == 12.0);
  ck_assert(ir_table_get(t, 0, e) == 0.5);
  ck_assert(isnan(ir_table_get(t, 0, s)));
  ck_assert(isnan(ir_table_get(t, 1, n)));
  ck_assert(isnan(ir_table_get(t, 0, 9)));

  /* A column added after the rows: its cells start empty. */
  IR_ASSERT_OK(ir_table_add_row(t));
  int late = ir_table_add_column(t, "late", IR_COL_DOUBLE, NULL);
  ck_assert_int_eq(late, 3);
  ck_assert(isnan(ir_table_get(t, 0, late)));
  IR_ASSERT_OK(ir_table_set_double(t, late, 2.5));
  ck_assert(ir_table_get(t, 1, late) == 2.5);
  ck_assert(isnan(ir_table_get(t, 1, n)));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_CSV));
  char *csv = slurp("t.csv");
  ck_assert_str_eq(csv, "n,e,e_std,s,late\n12,0.5,0.25,x,\n,,,,2.5\n");
  free(csv);
  ir_table_free(t);
}
END_TEST

/* ---- tables: CSV --------------------------------------------------------- */

START_TEST(test_csv_roundtrip) {
  const double v[] = {0.1,
                      1.0 / 3.0,
                      4.0 * atan(1.0),
                      1e-300,
                      5e-324,
                      DBL_MAX,
                      -2.5e300,
                      -0.0,
                      DBL_EPSILON,
                      1e22,
                      123456789.123456789,
                      -7.0 / 11.0,
                      DBL_MIN,
                      0.0};
  const size_t nv = sizeof v / sizeof v[0];
  ir_table *t = ir_table_alloc("round", "round trip");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "v", IR_COL_DOUBLE, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "i", IR_COL_INT, NULL), 1);
  for (size_t k = 0; k < nv; k++) {
    IR_ASSERT_OK(ir_table_add_row(t));
    IR_ASSERT_OK(ir_table_set_double(t, 0, v[k]));
    IR_ASSERT_OK(ir_table_set_int(t, 1, k % 2 ? LONG_MIN : LONG_MAX));
  }
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_CSV));
  ir_table_free(t);

  char *s = slurp("round.csv");
  size_t n;
  char **line = split_lines(s, &n);
  ck_assert_uint_eq(n, nv + 1);
  ck_assert_str_eq(line[0], "v,i");
  for (size_t k = 0; k < nv; k++) {
    char *end;
    double x = strtod(line[k + 1], &end);
    ck_assert_msg(*end == ',', "line %zu: '%s'", k + 2, line[k + 1]);
    ck_assert_msg(memcmp(&x, &v[k], sizeof x) == 0,
                  "%.17g read back as %.17g (line '%s')", v[k], x, line[k + 1]);
    long i = strtol(end + 1, NULL, 10);
    ck_assert(i == (k % 2 ? LONG_MIN : LONG_MAX));
  }
  free(line);
  free(s);
}
END_TEST

START_TEST(test_csv_quoting) {
  ir_table *t = ir_table_alloc("q", "quoting");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "s", IR_COL_STRING, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "n", IR_COL_INT, NULL), 1);
  ck_assert_int_eq(ir_table_add_column(t, "x", IR_COL_DOUBLE, NULL), 2);
  ck_assert_int_eq(ir_table_add_column(t, "a,\"b\"", IR_COL_MEANSTD, NULL), 3);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "plain text"));
  IR_ASSERT_OK(ir_table_set_int(t, 1, 1));
  IR_ASSERT_OK(ir_table_set_double(t, 2, 0.5));
  IR_ASSERT_OK(ir_table_set_meanstd(t, 3, 1.5, 0.125));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "a,b"));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "say \"hi\""));
  IR_ASSERT_OK(ir_table_set_int(t, 1, -2));
  IR_ASSERT_OK(ir_table_set_double(t, 2, INFINITY));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "line\nbreak"));
  IR_ASSERT_OK(ir_table_set_double(t, 2, NAN));
  IR_ASSERT_OK(ir_table_set_meanstd(t, 3, -INFINITY, NAN));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "gone"));
  IR_ASSERT_OK(ir_table_set_string(t, 0, NULL)); /* empties the cell */
  IR_ASSERT_OK(ir_table_set_int(t, 1, 3));
  IR_ASSERT_OK(ir_table_set_double(t, 2, -INFINITY));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_CSV));
  ir_table_free(t);
  char *s = slurp("q.csv");
  ck_assert_str_eq(s, "s,n,x,\"a,\"\"b\"\"\",\"a,\"\"b\"\"_std\"\n"
                      "plain text,1,0.5,1.5,0.125\n"
                      "\"a,b\",,,,\n"
                      "\"say \"\"hi\"\"\",-2,inf,,\n"
                      "\"line\nbreak\",,nan,-inf,nan\n"
                      ",3,-inf,,\n");
  free(s);
  ck_assert(!exists_in("q.md"));
  ck_assert(!exists_in("q.json"));
}
END_TEST

/* ---- tables: MEANSTD in every format ------------------------------------- */

START_TEST(test_meanstd_formats) {
  ir_table *t = ir_table_alloc("ms", "Mean and spread");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "n", IR_COL_INT, "model size"), 0);
  ck_assert_int_eq(
      ir_table_add_column(t, "err", IR_COL_MEANSTD, "test error over seeds"),
      1);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_int(t, 0, 10));
  IR_ASSERT_OK(ir_table_set_meanstd(t, 1, 0.25, 0.015625));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_int(t, 0, 11));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_ALL));
  ck_assert(ir_table_get(t, 0, 1) == 0.25);
  ir_table_free(t);

  char *csv = slurp("ms.csv");
  ck_assert_str_eq(csv, "n,err,err_std\n10,0.25,0.015625\n11,,\n");
  free(csv);
  char *md = slurp("ms.md");
  ck_assert_ptr_nonnull(strstr(md, "| 10 | 0.25 \xC2\xB1 0.01562 |\n"));
  ck_assert_ptr_nonnull(strstr(md, "| 11 |  |\n"));
  free(md);
  char *tex = slurp("ms.tex");
  /* Two S columns around \pm; an empty MEANSTD cell fills both. */
  ck_assert_ptr_nonnull(strstr(tex, "S[table-format=1.2]@{\\,\\(\\pm\\)\\,}"
                                    "S[table-format=1.5]"));
  ck_assert_ptr_nonnull(strstr(tex, "\\multicolumn{2}{c}{err}"));
  ck_assert_ptr_nonnull(strstr(tex, "10 & 0.25 & 0.01562 \\\\"));
  ck_assert_ptr_nonnull(strstr(tex, "11 &  &  \\\\"));
  free(tex);
  char *js = slurp("ms.json");
  ck_assert_ptr_nonnull(strstr(js, "\"err\": {\n"));
  ck_assert_ptr_nonnull(strstr(js, "\"mean\": 0.25,"));
  ck_assert_ptr_nonnull(strstr(js, "\"std\": 0.015625"));
  ck_assert_ptr_nonnull(strstr(js, "\"err\": null"));
  ck_assert_ptr_nonnull(strstr(js, "\"type\": \"meanstd\""));
  free(js);
  assert_json_file("ms.json");
}
END_TEST

/* ---- tables: Markdown ---------------------------------------------------- */

START_TEST(test_markdown) {
  ir_table *t = ir_table_alloc("md", "Results");
  ck_assert_ptr_nonnull(t);
  IR_ASSERT_OK(ir_table_add_note(t, "n = 100, 5 seeds"));
  IR_ASSERT_OK(ir_table_add_note(t, "second note"));
  ck_assert_int_eq(ir_table_add_column(t, "model", IR_COL_STRING, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "err", IR_COL_DOUBLE, "test error"),
                   1);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "x|y"));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 0.123456));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "ridge"));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 1.5e-7));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_MD));
  ir_table_free(t);
  char *md = slurp("md.md");
  ck_assert_str_eq(md, "**Results**\n"
                       "\n"
                       "*n = 100, 5 seeds*\n"
                       "\n"
                       "*second note*\n"
                       "\n"
                       "| model | err |\n"
                       "| :--- | ---: |\n"
                       "| x\\|y | 0.1235 |\n"
                       "| ridge | 1.5e-07 |\n"
                       "\n"
                       "Columns:\n"
                       "\n"
                       "- `err`: test error\n");
  free(md);
  ck_assert(!exists_in("md.csv"));
}
END_TEST

/* ---- tables: LaTeX ------------------------------------------------------- */

/* The label's folder part: g_dir's last component. */
static const char *dir_base(void) {
  const char *b = strrchr(g_dir, '/');
  return b ? b + 1 : g_dir;
}

START_TEST(test_latex) {
  ir_table *t = ir_table_alloc("tx", "Risk & error_rate");
  ck_assert_ptr_nonnull(t);
  IR_ASSERT_OK(ir_table_add_note(t, "loss L = (1/2n)||Xw - y||^2 < 1 | x"));
  IR_ASSERT_OK(ir_table_add_note(t, "\xE2\x80\x96W\xE2\x80\x96 \xCE\xBB\xC2\xB2"));
  ck_assert_int_eq(ir_table_add_column(t, "name", IR_COL_STRING, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "test_err", IR_COL_DOUBLE, NULL), 1);
  ck_assert_int_eq(ir_table_add_column(t, "k", IR_COL_INT, NULL), 2);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "a_b%c&d#e$f{g}h~i^j\\k"));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 1.5e-7));
  IR_ASSERT_OK(ir_table_set_int(t, 2, -42));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_string(t, 0, "[bracket] first"));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 1e10));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 3.14159));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_double(t, 1, -INFINITY));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX));
  ir_table_free(t);
  char *tex = slurp("tx.tex");
  char label[1200];
  snprintf(label, sizeof label, "\\label{tab:%s-tx}", dir_base());
  const char *want[] = {
      "% implreg table; needs booktabs, siunitx\n",
      "\\begin{table}",
      "\\caption{Risk \\& error\\_rate}",
      label,
      ("(1/2n)\\ensuremath{\\|}Xw - y\\ensuremath{\\|}\\textasciicircum{}2 "
       "\\textless{} 1 \\textbar{} x"),
      "\\ensuremath{\\|}W\\ensuremath{\\|} \\ensuremath{\\lambda}"
      "\\textsuperscript{2}",
      "\\begin{tabular}{lS[table-format=1.3e-2]S[table-format=-2]}",
      "\\toprule\nname & {test\\_err} & {k} \\\\\n\\midrule\n",
      ("a\\_b\\%c\\&d\\#e\\$f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j"
       "\\textbackslash{}k & 1.5e-7 & -42 \\\\"),
      "{[}bracket] first & 1e10 &  \\\\",
      " & 3.142 &  \\\\",
      " & {$-\\infty$} &  \\\\",
      "\\bottomrule\n\\end{tabular}\n\\end{table}\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_msg(strstr(tex, want[i]) != NULL, "missing '%s' in\n%s", want[i],
                  tex);
  /* The only unescaped specials left are the ones the table markup uses. */
  ck_assert_ptr_null(strstr(tex, "a_b"));
  ck_assert_ptr_null(strstr(tex, "longtable"));
  free(tex);
}
END_TEST

/* A declared paper view: chosen columns in order, math headers, amsmath
 * for \text; a bad declaration changes nothing; the CSV keeps all. */
START_TEST(test_latex_paper) {
  ir_table *t = ir_table_alloc("pv", "View");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "N", IR_COL_INT, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "test_mse", IR_COL_DOUBLE, NULL), 1);
  ck_assert_int_eq(ir_table_add_column(t, "norm", IR_COL_DOUBLE, NULL), 2);
  ck_assert_int_eq(ir_table_add_column(t, "cond", IR_COL_DOUBLE, NULL), 3);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_int(t, 0, 5));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 0.5));
  IR_ASSERT_OK(ir_table_set_double(t, 2, 2.0));
  IR_ASSERT_OK(ir_table_set_double(t, 3, 7.0));
  IR_ASSERT_OK(ir_table_set_paper(
      t, "norm=$\\|W\\|_{2,F}$, N, ?gone, test_mse=$\\mathrm{MSE}_\\text{test}$"));
  ck_assert_int_eq(ir_table_set_paper(t, "N,nope"), IR_EINVAL);
  ck_assert_int_eq(ir_table_set_paper(t, "N,N"), IR_EINVAL);
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX | IR_FMT_CSV));
  char *tex = slurp("pv.tex");
  ck_assert_ptr_nonnull(
      strstr(tex, "% implreg table; needs booktabs, siunitx, amsmath\n"));
  ck_assert_msg(strstr(tex, "{$\\|W\\|_{2,F}$} & {N} & "
                            "{$\\mathrm{MSE}_\\text{test}$} \\\\") != NULL,
                "%s", tex);
  ck_assert_ptr_nonnull(strstr(tex, "2 & 5 & 0.5 \\\\"));
  ck_assert_ptr_null(strstr(tex, "cond"));
  free(tex);
  char *csv = slurp("pv.csv");
  ck_assert_str_eq(csv, "N,test_mse,norm,cond\n5,0.5,2,7\n");
  free(csv);
  /* "" restores every column. */
  IR_ASSERT_OK(ir_table_set_paper(t, ""));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX));
  tex = slurp("pv.tex");
  ck_assert_ptr_nonnull(strstr(tex, "{cond}"));
  free(tex);
  /* "?name": a column the table may lack. */
  IR_ASSERT_OK(ir_table_set_paper(t, "N,?absent"));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX));
  tex = slurp("pv.tex");
  ck_assert_ptr_nonnull(strstr(tex, "\\toprule\n{N} \\\\\n"));
  free(tex);
  ir_table_free(t);
}
END_TEST

/* Long tables: cut to the paper's rows with a note, or a longtable. */
START_TEST(test_latex_rows) {
  ir_table *t = ir_table_alloc("long", "Long");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "i", IR_COL_INT, NULL), 0);
  for (long i = 0; i < 100; i++) {
    IR_ASSERT_OK(ir_table_add_row(t));
    IR_ASSERT_OK(ir_table_set_int(t, 0, i));
  }
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX));
  char *tex = slurp("long.tex");
  ck_assert_ptr_nonnull(strstr(tex, "30 of the 100 rows, evenly spaced"));
  ck_assert_ptr_nonnull(strstr(tex, "\n0 \\\\\n"));
  ck_assert_ptr_nonnull(strstr(tex, "\n99 \\\\\n"));
  ck_assert_ptr_null(strstr(tex, "\n1 \\\\\n"));
  ck_assert_ptr_null(strstr(tex, "longtable"));
  free(tex);
  IR_ASSERT_OK(ir_table_set_paper_rows(t, 0));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_TEX));
  tex = slurp("long.tex");
  ck_assert_ptr_nonnull(
      strstr(tex, "% implreg table; needs booktabs, siunitx, longtable\n"));
  ck_assert_ptr_nonnull(strstr(tex, "\\begin{longtable}"));
  ck_assert_ptr_nonnull(strstr(tex, "\\endhead"));
  ck_assert_ptr_nonnull(strstr(tex, "\n1 \\\\\n"));
  ck_assert_ptr_null(strstr(tex, "of the 100 rows"));
  free(tex);
  ir_table_free(t);
}
END_TEST

/* ---- tables: JSON and terminal ------------------------------------------- */

START_TEST(test_table_json) {
  ir_table *t = ir_table_alloc("js", "cap \"quoted\"");
  ck_assert_ptr_nonnull(t);
  IR_ASSERT_OK(ir_table_add_note(t, "tab\there"));
  ck_assert_int_eq(ir_table_add_column(t, "x", IR_COL_DOUBLE, "an x"), 0);
  ck_assert_int_eq(ir_table_add_column(t, "s", IR_COL_STRING, NULL), 1);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_double(t, 0, NAN));
  IR_ASSERT_OK(ir_table_set_string(t, 1, "back\\slash"));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_double(t, 0, 0.1));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_JSON));
  ir_table_free(t);
  char *js = slurp("js.json");
  ck_assert_ptr_nonnull(strstr(js, "\"name\": \"js\""));
  ck_assert_ptr_nonnull(strstr(js, "\"caption\": \"cap \\\"quoted\\\"\""));
  ck_assert_ptr_nonnull(strstr(js, "\"notes\": [\n    \"tab\\there\"\n  ]"));
  ck_assert_ptr_nonnull(strstr(js, "\"description\": \"an x\""));
  ck_assert_ptr_nonnull(strstr(js, "\"description\": null"));
  ck_assert_ptr_nonnull(strstr(js, "\"x\": null,\n      \"s\": "
                                   "\"back\\\\slash\""));
  ck_assert_ptr_nonnull(strstr(js, "\"x\": 0.10000000000000001,"));
  ck_assert_ptr_nonnull(strstr(js, "\"s\": null"));
  ck_assert(js[strlen(js) - 1] == '\n');
  free(js);
  assert_json_file("js.json");
}
END_TEST

START_TEST(test_table_print) {
  ir_table *t = ir_table_alloc("p", "Title");
  ck_assert_ptr_nonnull(t);
  IR_ASSERT_OK(ir_table_add_note(t, "a note"));
  ck_assert_int_eq(ir_table_add_column(t, "n", IR_COL_INT, NULL), 0);
  ck_assert_int_eq(ir_table_add_column(t, "value", IR_COL_DOUBLE, NULL), 1);
  ck_assert_int_eq(ir_table_add_column(t, "ms", IR_COL_MEANSTD, NULL), 2);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_int(t, 0, 1));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 0.5));
  IR_ASSERT_OK(ir_table_set_meanstd(t, 2, 1, 0.5));
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_int(t, 0, 100));
  IR_ASSERT_OK(ir_table_set_double(t, 1, 1234.56789));
  FILE *fp = tmpfile();
  ck_assert_ptr_nonnull(fp);
  IR_ASSERT_OK(ir_table_print(t, fp));
  char *s = stream_text(fp);
  fclose(fp);
  ck_assert_str_eq(s, "Title\n"
                      "  a note\n"
                      "  n    value       ms\n"
                      "---  -------  -------\n"
                      "  1      0.5  1 \xC2\xB1 0.5\n"
                      "100  1234.57         \n");
  free(s);
  ir_table_free(t);
}
END_TEST

/* ---- JSON builder -------------------------------------------------------- */

START_TEST(test_json_builder) {
  ir_json *j = ir_json_alloc();
  ck_assert_ptr_nonnull(j);
  ir_json_begin_object(j, NULL);
  ir_json_string(j, "s", "a\"b\\c\nd\te\x01\x1f/\xC2\xB1");
  ir_json_number(j, "x", 0.5);
  ir_json_number(j, "nan", NAN);
  ir_json_number(j, "inf", -INFINITY);
  ir_json_int(j, "i", -3);
  ir_json_bool(j, "t", 1);
  ir_json_bool(j, "f", 0);
  ir_json_null(j, "z");
  ir_json_string(j, "null string", NULL);
  ir_json_begin_array(j, "arr");
  ir_json_int(j, NULL, 1);
  ir_json_begin_object(j, NULL);
  ir_json_end_object(j);
  ir_json_begin_array(j, NULL);
  ir_json_end_array(j);
  ir_json_end_array(j);
  ir_json_end_object(j);
  const char *want = "{\n"
                     "  \"s\": "
                     "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f/\xC2\xB1\",\n"
                     "  \"x\": 0.5,\n"
                     "  \"nan\": null,\n"
                     "  \"inf\": null,\n"
                     "  \"i\": -3,\n"
                     "  \"t\": true,\n"
                     "  \"f\": false,\n"
                     "  \"z\": null,\n"
                     "  \"null string\": null,\n"
                     "  \"arr\": [\n"
                     "    1,\n"
                     "    {},\n"
                     "    []\n"
                     "  ]\n"
                     "}";
  ck_assert_str_eq(ir_json_text(j), want);
  char p[PATH_MAX];
  path_in(p, "b.json");
  IR_ASSERT_OK(ir_json_write(j, p));
  ir_json_free(j);
  char *s = slurp("b.json");
  ck_assert_uint_eq(strlen(s), strlen(want) + 1);
  ck_assert(strncmp(s, want, strlen(want)) == 0);
  ck_assert(s[strlen(want)] == '\n');
  free(s);
  assert_json_file("b.json");
  ir_json_free(NULL);
}
END_TEST

START_TEST(test_json_toplevel_array) {
  ir_json *j = ir_json_alloc();
  ck_assert_ptr_nonnull(j);
  ir_json_begin_array(j, NULL);
  for (int i = 0; i < 3; i++)
    ir_json_number(j, NULL, i * 0.25);
  ir_json_end_array(j);
  ck_assert_str_eq(ir_json_text(j), "[\n  0,\n  0.25,\n  0.5\n]");
  ir_json_free(j);
}
END_TEST

/* Builds a misused document with `build`, then checks that writing fails
 * with IR_EINVAL, that the message contains `msg`, and that no file (and no
 * temporary) is left. */
static void check_misuse(void (*build)(ir_json *), const char *msg) {
  ir_json *j = ir_json_alloc();
  ck_assert_ptr_nonnull(j);
  build(j);
  char p[PATH_MAX];
  path_in(p, "bad.json");
  ir_error_clear();
  ck_assert_int_eq(ir_json_write(j, p), IR_EINVAL);
  ck_assert_msg(strstr(ir_error_message(), msg) != NULL,
                "message '%s' lacks '%s'", ir_error_message(), msg);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "bad.json"));
  ir_json_free(j);
  ck_assert(!exists_in("bad.json"));
  ck_assert_int_eq(count_entries(), 0);
}

static void build_missing_key(ir_json *j) {
  ir_json_begin_object(j, NULL);
  ir_json_int(j, NULL, 1);
  ir_json_end_object(j);
}
static void build_key_in_array(ir_json *j) {
  ir_json_begin_array(j, NULL);
  ir_json_int(j, "k", 1);
  ir_json_end_array(j);
}
static void build_key_at_top(ir_json *j) {
  ir_json_begin_object(j, "top");
  ir_json_end_object(j);
}
static void build_unbalanced_end(ir_json *j) {
  ir_json_begin_object(j, NULL);
  ir_json_end_object(j);
  ir_json_end_object(j);
}
static void build_wrong_end(ir_json *j) {
  ir_json_begin_object(j, NULL);
  ir_json_begin_array(j, "a");
  ir_json_end_object(j);
  ir_json_end_object(j);
}
static void build_unclosed(ir_json *j) {
  ir_json_begin_object(j, NULL);
  ir_json_begin_array(j, "a");
  ir_json_end_array(j);
}
static void build_two_tops(ir_json *j) {
  ir_json_int(j, NULL, 1);
  ir_json_int(j, NULL, 2);
}
static void build_nothing(ir_json *j) {
  (void)j;
}

START_TEST(test_json_misuse) {
  check_misuse(build_missing_key, "without a key");
  check_misuse(build_key_in_array, "inside an array");
  check_misuse(build_key_at_top, "top-level");
  check_misuse(build_unbalanced_end, "without a matching begin");
  check_misuse(build_wrong_end, "closes an array");
  check_misuse(build_unclosed, "incomplete");
  check_misuse(build_two_tops, "more than one top-level value");
  check_misuse(build_nothing, "empty");
}
END_TEST

START_TEST(test_environment) {
  ir_json *j = ir_json_alloc();
  ck_assert_ptr_nonnull(j);
  ir_json_begin_object(j, NULL);
  ir_report_environment(j);
  ir_json_end_object(j);
  char p[PATH_MAX];
  path_in(p, "manifest.json");
  IR_ASSERT_OK(ir_json_write(j, p));
  const char *s = ir_json_text(j);
  const char *keys[] = {"\"environment\": {",  "\"implreg_version\": \"",
                        "\"gsl_version\": \"", "\"openblas_config\": \"",
                        "\"blas_threads\": ",  "\"fftw_version\": \"fftw-",
                        "\"host\": \"",        "\"compiler\": \"",
                        "\"time_utc\": \""};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    ck_assert_msg(strstr(s, keys[i]) != NULL, "missing %s in\n%s", keys[i], s);
  const char *t = strstr(s, "\"time_utc\": \"") + strlen("\"time_utc\": \"");
  /* YYYY-MM-DDTHH:MM:SSZ */
  ck_assert(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
            t[16] == ':' && t[19] == 'Z' && t[20] == '"');
  ir_json_free(j);
  assert_json_file("manifest.json");
}
END_TEST

START_TEST(test_wall_time) {
  double t0 = ir_wall_time();
  struct timespec ts = {0, 20000000L};
  nanosleep(&ts, NULL);
  double t1 = ir_wall_time();
  ck_assert(t1 - t0 >= 0.019);
  ck_assert(t1 - t0 < 10.0);
}
END_TEST

/* ---- checks -------------------------------------------------------------- */

/* Six claims, three of which pass. */
static ir_checks *sample_checks(void) {
  ir_checks *c = ir_checks_alloc();
  ck_assert_ptr_nonnull(c);
  IR_ASSERT_OK(ir_checks_add_abs(c, "GD reaches min-norm", "arXiv:1710.10345",
                                 0.0, 3e-13, 1e-10));
  IR_ASSERT_OK(ir_checks_add_abs(c, "diverged", "x", 0.0, NAN, 1e300));
  IR_ASSERT_OK(ir_checks_add_rel(c, "slope, 2", "eq. (3)", 2.0, 2.1, 0.1));
  IR_ASSERT_OK(ir_checks_add_rel(c, "rel fail", "s", 2.0, 2.5, 0.1));
  IR_ASSERT_OK(ir_checks_add_max(c, "residual small", "s", 0.0, 1e-13, 1e-12));
  IR_ASSERT_OK(ir_checks_add(c, "manual", NULL, 1.0, 2.0, 0.0, 0));
  return c;
}

START_TEST(test_checks_verdicts) {
  ir_checks *c = ir_checks_alloc();
  ck_assert_ptr_nonnull(c);
  struct {
    int kind; /* 0 abs, 1 rel, 2 max */
    double p, m, tol;
    int pass;
  } cases[] = {
      {0, 1.0, 1.0 + 1e-12, 1e-10, 1}, {0, 1.0, 1.1, 1e-3, 0},
      {0, 0.0, NAN, 1.0, 0},           {0, 0.0, INFINITY, INFINITY, 0},
      {0, NAN, 1.0, 1.0, 0},           {0, 1.0, 1.0, NAN, 0},
      {1, 2.0, 2.1, 0.1, 1},           {1, 2.0, 2.5, 0.1, 0},
      {1, 2.0, -INFINITY, 1e300, 0},   {1, 0.0, 0.0, 0.1, 1},
      {2, 0.0, 1e-13, 1e-12, 1},       {2, 0.0, 1e-11, 1e-12, 0},
      {2, 0.0, -INFINITY, 1.0, 0},     {2, 0.0, NAN, 1.0, 0},
  };
  size_t n = sizeof cases / sizeof cases[0], fails = 0;
  for (size_t i = 0; i < n; i++) {
    ir_checks *one = ir_checks_alloc();
    ck_assert_ptr_nonnull(one);
    int (*add)(ir_checks *, const char *, const char *, double, double,
               double) = cases[i].kind == 0   ? ir_checks_add_abs
                         : cases[i].kind == 1 ? ir_checks_add_rel
                                              : ir_checks_add_max;
    IR_ASSERT_OK(
        add(one, "claim", "src", cases[i].p, cases[i].m, cases[i].tol));
    IR_ASSERT_OK(add(c, "claim", "src", cases[i].p, cases[i].m, cases[i].tol));
    ck_assert_msg(ir_checks_failed(one) == (size_t)!cases[i].pass,
                  "case %zu: expected %s", i, cases[i].pass ? "PASS" : "FAIL");
    fails += !cases[i].pass;
    ir_checks_free(one);
  }
  IR_ASSERT_OK(ir_checks_add(c, "manual pass", "s", 0, 0, 0, 7));
  IR_ASSERT_OK(ir_checks_add(c, "manual fail", "s", 0, 0, 0, 0));
  ck_assert_uint_eq(ir_checks_count(c), n + 2);
  ck_assert_uint_eq(ir_checks_failed(c), fails + 1);
  ck_assert_int_eq(ir_checks_add(c, NULL, "s", 0, 0, 0, 1), IR_EINVAL);
  ck_assert_uint_eq(ir_checks_count(NULL), 0);
  ir_checks_free(c);
  ir_checks_free(NULL);
}
END_TEST

START_TEST(test_checks_write) {
  ir_checks *c = sample_checks();
  ck_assert_uint_eq(ir_checks_count(c), 6);
  ck_assert_uint_eq(ir_checks_failed(c), 3);
  IR_ASSERT_OK(ir_checks_write(c, g_dir, IR_FMT_CSV | IR_FMT_MD));
  ck_assert(!exists_in("checks.json"));
  char *csv = slurp("checks.csv");
  size_t n;
  char **line = split_lines(csv, &n);
  ck_assert_uint_eq(n, 7);
  ck_assert_str_eq(line[0], "claim,source,predicted,measured,tolerance,"
                            "verdict");
  ck_assert_str_eq(line[1], "GD reaches min-norm,arXiv:1710.10345,0,"
                            "2.9999999999999998e-13,1e-10,PASS");
  ck_assert_str_eq(line[2], "diverged,x,0,nan,1.0000000000000001e+300,FAIL");
  ck_assert_str_eq(line[3], "\"slope, 2\",eq. (3),2,2.1000000000000001,"
                            "0.10000000000000001,PASS");
  ck_assert_str_eq(line[6], "manual,,1,2,0,FAIL");
  free(line);
  free(csv);

  char *md = slurp("checks.md");
  ck_assert_ptr_nonnull(strstr(md, "| claim | source | predicted | measured "
                                   "| tolerance | verdict |\n"));
  ck_assert_ptr_nonnull(strstr(md, "| diverged | x | 0 | nan | 1e+300 | "
                                   "FAIL |\n"));
  const char *last = "\n3 of 6 checks passed\n";
  ck_assert_str_eq(md + strlen(md) - strlen(last), last);
  free(md);
  /* checks.tex: every check, numbers right-aligned in math. */
  char *tex = slurp("checks.tex");
  ck_assert_ptr_nonnull(strstr(tex, "& $0$ & $3\\times10^{-13}$ & "
                                    "$1\\times10^{-10}$ & PASS \\\\"));
  ck_assert_ptr_nonnull(strstr(tex, "& $\\mathrm{NaN}$ &"));
  free(tex);

  IR_ASSERT_OK(ir_checks_write(c, g_dir, IR_FMT_ALL));
  char *js = slurp("checks.json");
  ck_assert_ptr_nonnull(strstr(js, "\"total\": 6"));
  ck_assert_ptr_nonnull(strstr(js, "\"passed\": 3"));
  ck_assert_ptr_nonnull(strstr(js, "\"measured\": null"));
  ck_assert_ptr_nonnull(strstr(js, "\"verdict\": \"FAIL\""));
  free(js);
  assert_json_file("checks.json");
  ck_assert_int_eq(count_tmp(), 0);
  ir_checks_free(c);
}
END_TEST

START_TEST(test_checks_merge_print) {
  ir_checks *all = ir_checks_alloc();
  ck_assert_ptr_nonnull(all);
  IR_ASSERT_OK(ir_checks_add(all, "first", "s", 0, 0, 0, 1));
  ir_checks *c = sample_checks();
  IR_ASSERT_OK(ir_checks_merge(all, c, "igr"));
  IR_ASSERT_OK(ir_checks_merge(all, c, NULL));
  ck_assert_uint_eq(ir_checks_count(all), 13);
  ck_assert_uint_eq(ir_checks_failed(all), 6);
  /* Merging a collection into itself doubles it. */
  IR_ASSERT_OK(ir_checks_merge(c, c, "again"));
  ck_assert_uint_eq(ir_checks_count(c), 12);
  ck_assert_uint_eq(ir_checks_failed(c), 6);
  ck_assert_int_eq(ir_checks_merge(all, NULL, "x"), IR_EINVAL);

  FILE *fp = tmpfile();
  ck_assert_ptr_nonnull(fp);
  IR_ASSERT_OK(ir_checks_print(all, fp));
  char *s = stream_text(fp);
  fclose(fp);
  size_t n;
  char **line = split_lines(s, &n);
  ck_assert_uint_eq(n, 17); /* caption, header, rule, 13 rows, summary */
  ck_assert_str_eq(line[0], "Theory checks");
  ck_assert(strncmp(line[1], "claim ", 6) == 0);
  ck_assert(strncmp(line[2], "-----", 5) == 0);
  ck_assert(strncmp(line[3], "first ", 6) == 0);
  ck_assert(strncmp(line[4], "igr: GD reaches min-norm ", 25) == 0);
  ck_assert(strncmp(line[10], "GD reaches min-norm ", 20) == 0);
  ck_assert_str_eq(line[16], "7 of 13 checks passed");
  /* Columns are aligned: every row ends in its verdict at the column where
   * the header "verdict" starts (the last column is not padded). */
  size_t w = strlen(line[1]) - strlen("verdict") + strlen("PASS");
  ck_assert_str_eq(line[1] + w - 4, "verdict");
  for (size_t i = 3; i < 16; i++) {
    ck_assert_uint_eq(strlen(line[i]), w);
    const char *v = line[i] + w - 4;
    ck_assert(strcmp(v, "PASS") == 0 || strcmp(v, "FAIL") == 0);
  }
  ck_assert_ptr_nonnull(strstr(line[4], " 3e-13 "));
  ck_assert_ptr_nonnull(strstr(line[5], " nan "));
  free(line);
  free(s);
  ir_checks_free(c);
  ir_checks_free(all);
}
END_TEST

/* ---- atomicity ----------------------------------------------------------- */

START_TEST(test_atomic_missing_dir) {
  char missing[PATH_MAX];
  path_in(missing, "missing");
  ir_table *t = ir_table_alloc("t", "c");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_add_column(t, "x", IR_COL_DOUBLE, NULL), 0);
  IR_ASSERT_OK(ir_table_add_row(t));
  IR_ASSERT_OK(ir_table_set_double(t, 0, 1.0));
  ck_assert_int_eq(ir_table_write(t, missing, IR_FMT_ALL), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "missing"));
  ir_checks *c = sample_checks();
  ck_assert_int_eq(ir_checks_write(c, missing, IR_FMT_ALL), IR_EIO);
  ir_figure *f = ir_figure_alloc("fig", "t", "x", "y");
  ck_assert_ptr_nonnull(f);
  const double x[] = {1, 2}, y[] = {3, 4};
  IR_ASSERT_OK(ir_figure_add_series(f, "s", x, y, 2, "lines"));
  int rendered = 7;
  ck_assert_int_eq(ir_figure_write(f, missing, 1, &rendered), IR_EIO);
  ck_assert_int_eq(rendered, 0);
  ir_json *j = ir_json_alloc();
  ck_assert_ptr_nonnull(j);
  ir_json_begin_object(j, NULL);
  ir_json_end_object(j);
  char p[PATH_MAX];
  path_in(p, "missing/m.json");
  ck_assert_int_eq(ir_json_write(j, p), IR_EIO);
  /* Nothing at all was created: not the directory, not a temporary. */
  ck_assert_int_eq(count_entries(), 0);

  /* Successful writes leave exactly the promised files. */
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_ALL));
  IR_ASSERT_OK(ir_checks_write(c, g_dir, IR_FMT_CSV));
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 0, &rendered));
  path_in(p, "m.json");
  IR_ASSERT_OK(ir_json_write(j, p));
  ck_assert_int_eq(count_tmp(), 0);
  ck_assert_int_eq(count_entries(), 4 + 3 + 2 + 1);
  /* Rewriting replaces a file as a whole. */
  IR_ASSERT_OK(ir_table_set_double(t, 0, 2.0));
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_CSV));
  char *s = slurp("t.csv");
  ck_assert_str_eq(s, "x\n2\n");
  free(s);
  ck_assert_int_eq(count_tmp(), 0);
  ir_json_free(j);
  ir_figure_free(f);
  ir_checks_free(c);
  ir_table_free(t);
}
END_TEST

START_TEST(test_table_write_args) {
  ir_table *t = ir_table_alloc("t", "c");
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(ir_table_write(t, NULL, IR_FMT_CSV), IR_EINVAL);
  ck_assert_int_eq(ir_table_write(t, g_dir, 16), IR_EINVAL);
  ck_assert_int_eq(ir_table_write(NULL, g_dir, IR_FMT_CSV), IR_EINVAL);
  /* No columns and no rows still make well-formed files. */
  IR_ASSERT_OK(ir_table_write(t, g_dir, IR_FMT_ALL));
  assert_json_file("t.json");
  ir_table_free(t);
}
END_TEST

/* ---- figures ------------------------------------------------------------- */

static ir_figure *sample_figure(void) {
  ir_figure *f =
      ir_figure_alloc("curve", "Risk vs {/Symbol l}", "p/n", "test \"error\"");
  ck_assert_ptr_nonnull(f);
  IR_ASSERT_OK(ir_figure_set_log(f, 1, 1));
  const double x1[] = {1, 2, NAN, 4, -1, 8, 16};
  const double y1[] = {1, 4, 9, INFINITY, 1, 64, 0};
  IR_ASSERT_OK(ir_figure_add_series(f, "s1", x1, y1, 7, "linespoints"));
  const double xe[] = {-1}, ye[] = {1};
  IR_ASSERT_OK(ir_figure_add_series(f, "empty", xe, ye, 1, "points"));
  const double x3[] = {1, 10}, y3[] = {0.5, 0.05};
  IR_ASSERT_OK(ir_figure_add_series(f, "s3", x3, y3, 2, NULL));
  IR_ASSERT_OK(ir_figure_add_series(f, "", x3, y3, 2, "lines dashtype 2"));
  IR_ASSERT_OK(ir_figure_add_vline(f, 5.0, "threshold"));
  IR_ASSERT_OK(ir_figure_add_vline(f, -1.0, "dropped on a log axis"));
  return f;
}

static int data_lines(const char *s) {
  int n = 0;
  for (const char *p = s; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    n += len > 0 && p[0] != '#';
    p += len + (e != NULL);
  }
  return n;
}

/* Error columns: a third .dat column, bars on a sparse series, a band on
 * a dense one, in the series' colour; specials escaped in labels. */
START_TEST(test_figure_errors) {
  ir_figure *f = ir_figure_alloc("err", "a & b_c^d @e ~f", "x", "y");
  ck_assert_ptr_nonnull(f);
  double x[40], y[40], e[40];
  for (int i = 0; i < 40; i++)
    x[i] = i + 1, y[i] = 2.0 * (i + 1), e[i] = i == 3 ? NAN : 0.5;
  IR_ASSERT_OK(ir_figure_add_series_err(f, "sparse", x, y, e, 5, "lines"));
  IR_ASSERT_OK(ir_figure_add_series_err(f, "dense", x, y, e, 40, "lines"));
  int rendered;
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 0, &rendered));
  char *dat = slurp("err.dat");
  ck_assert_ptr_nonnull(strstr(dat, "# x y se\n1 2 0.5\n"));
  ck_assert_ptr_nonnull(strstr(dat, "\n4 8 0\n")); /* NaN error: none */
  free(dat);
  char *gp = slurp("err.gp");
  const char *want[] = {
      "set title \"a \\\\& b\\\\_c\\\\^d \\\\@e \\\\~f\"",
      "index 0 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 "
      "linecolor 1 notitle",
      "index 0 using 1:2 with lines linecolor 1 title \"sparse\"",
      "index 1 using 1:($2-$3):($2+$3) with filledcurves",
      "index 1 using 1:2 with lines linecolor 2 title \"dense\"",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_msg(strstr(gp, want[i]) != NULL, "missing '%s' in\n%s", want[i],
                  gp);
  free(gp);
  ir_figure_free(f);
}
END_TEST

START_TEST(test_figure_files) {
  ir_figure *f = sample_figure();
  int rendered = 7;
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 0, &rendered));
  ck_assert_int_eq(rendered, 0);
  ck_assert(!exists_in("curve.png"));
  char *dat = slurp("curve.dat");
  /* s1 keeps (1,1), (2,4), (8,64); s3 and the unlabelled series 2 each. */
  ck_assert_int_eq(data_lines(dat), 7);
  ck_assert_ptr_nonnull(strstr(dat, "# index 0: s1\n# x y\n1 1\n2 4\n8 64\n"
                                    "\n\n# index 1: s3\n"));
  ck_assert_ptr_nonnull(strstr(dat, "# index 2: \n"));
  ck_assert_ptr_null(strstr(dat, "empty"));
  free(dat);
  char *gp = slurp("curve.gp");
  const char *want[] = {
      "set logscale x",
      "set logscale y",
      "set grid",
      "set key",
      /* Enhanced-text specials print literally. */
      "set title \"Risk vs \\\\{/Symbol l\\\\}\"",
      /* Log axes span the data (x exactly, y with a margin); s1's y runs
       * over two decades or more, so powers of ten label it. */
      "set xrange [1:",
      "set format y \"10^{%T}\"",
      "set format x \"%g\"",
      "set key outside right top vertical box opaque",
      "set ylabel \"test \\\"error\\\"\"",
      "set arrow from first 5, graph 0 to first 5, graph 1 nohead",
      "\"threshold\"",
      "\"curve.dat\" index 0 using 1:2 with linespoints title \"s1\"",
      "\"curve.dat\" index 1 using 1:2 with lines title \"s3\"",
      "\"curve.dat\" index 2 using 1:2 with lines dashtype 2 notitle",
      "pngcairo size 900,600",
      "pdfcairo",
      "ir_png = \"curve.png\"",
      "ir_pdf = \"curve.pdf\"",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_msg(strstr(gp, want[i]) != NULL, "missing '%s' in\n%s", want[i],
                  gp);
  ck_assert_ptr_null(strstr(gp, "index 3"));
  ck_assert_ptr_null(strstr(gp, "first -1"));
  free(gp);
  ck_assert_int_eq(count_tmp(), 0);
  ir_figure_free(f);
}
END_TEST

/* A map: the grid, one block per x, NaN where log z cannot be drawn, and a
 * pm3d script in log10 with contours; a map refuses series it already
 * has. */
START_TEST(test_figure_map) {
  ir_figure *f = ir_figure_alloc("map", "a map", "s", "t");
  ck_assert_ptr_nonnull(f);
  const double x[3] = {-1, 0, 1}, y[2] = {-0.5, 0.5};
  const double z[6] = {1, 10, 0.5, -1, 100, 1000};
  IR_ASSERT_OK(ir_figure_set_map(f, x, 3, y, 2, z, 1, "loss"));
  int rendered = 7;
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 0, &rendered));
  char *dat = slurp("map.dat");
  ck_assert_ptr_nonnull(strstr(dat, "-1 -0.5 1\n-1 0.5 10\n\n0 -0.5 0.5\n"
                                    "0 0.5 NaN\n\n1 -0.5 100\n1 0.5 1000\n"));
  free(dat);
  char *gp = slurp("map.gp");
  const char *want[] = {"set view map", "set pm3d", "set contour base",
                        "set cblabel \"log10 loss\"", "set xrange [-1:1]",
                        "set yrange [-0.5:0.5]",
                        "splot \"map.dat\" using 1:2:(log10($3)) with pm3d"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_msg(strstr(gp, want[i]) != NULL, "missing '%s' in\n%s", want[i],
                  gp);
  free(gp);
  ck_assert_int_eq(ir_figure_set_map(f, x, 1, y, 2, z, 0, NULL), IR_EINVAL);
  ir_figure_free(f);
  f = ir_figure_alloc("map2", "t", "x", "y");
  IR_ASSERT_OK(ir_figure_add_series(f, "s", x, z, 3, "lines"));
  ck_assert_int_eq(ir_figure_set_map(f, x, 3, y, 2, z, 0, NULL), IR_EINVAL);
  ir_figure_free(f);
}
END_TEST

START_TEST(test_figure_args) {
  ck_assert_ptr_null(ir_figure_alloc("../up", "t", "x", "y"));
  ck_assert_ptr_null(ir_figure_alloc("a b", "t", "x", "y"));
  ir_figure *f = ir_figure_alloc("ok", NULL, NULL, NULL);
  ck_assert_ptr_nonnull(f);
  const double x[] = {1}, y[] = {1};
  ck_assert_int_eq(ir_figure_add_series(f, "s", x, y, 1, "lines; !rm x"),
                   IR_EINVAL);
  ck_assert_int_eq(ir_figure_add_series(f, "s", NULL, y, 1, "lines"),
                   IR_EINVAL);
  IR_ASSERT_OK(ir_figure_add_series(f, "none", NULL, NULL, 0, "lines"));
  ck_assert_int_eq(ir_figure_write(f, NULL, 0, NULL), IR_EINVAL);
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 0, NULL));
  ir_figure_free(f);
  ir_figure_free(NULL);
}
END_TEST

static void assert_magic(const char *name, const char *magic, size_t n) {
  char *s = slurp(name);
  ck_assert_msg(memcmp(s, magic, n) == 0, "%s lacks its magic bytes", name);
  free(s);
}

START_TEST(test_figure_render) {
  if (!have_gnuplot())
    return;
  ir_figure *f = sample_figure();
  int rendered = 0;
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 1, &rendered));
  ck_assert_int_eq(rendered, 1);
  assert_magic("curve.png", "\x89PNG\r\n\x1a\n", 8);
  assert_magic("curve.pdf", "%PDF", 4);
  ck_assert_int_eq(count_tmp(), 0);
  ck_assert_int_eq(count_entries(), 4);
  ir_figure_free(f);

  /* A figure without a single drawable point still renders. */
  f = ir_figure_alloc("blank", "nothing", "x", "y");
  ck_assert_ptr_nonnull(f);
  const double x[] = {NAN}, y[] = {1};
  IR_ASSERT_OK(ir_figure_add_series(f, "nan", x, y, 1, "lines"));
  IR_ASSERT_OK(ir_figure_write(f, g_dir, 1, &rendered));
  ck_assert_int_eq(rendered, 1);
  assert_magic("blank.png", "\x89PNG\r\n\x1a\n", 8);
  ck_assert_int_eq(count_tmp(), 0);
  ir_figure_free(f);
}
END_TEST

/* Runs ir_figures_write with PATH pointing only at dir g_dir/bin. */
static int figures_with_path(const ir_figure *const *f, size_t n,
                             size_t *nrendered) {
  char bin[PATH_MAX];
  path_in(bin, "bin");
  const char *old = getenv("PATH");
  char *saved = old ? strdup(old) : NULL;
  setenv("PATH", bin, 1);
  int s = ir_figures_write(f, n, g_dir, 1, nrendered);
  if (saved != NULL) {
    setenv("PATH", saved, 1);
    free(saved);
  } else {
    unsetenv("PATH");
  }
  return s;
}

/* ir_figure_write's view of it (one figure, a flag). */
static int write_with_path(ir_figure *f, int *rendered) {
  size_t n = 0;
  const ir_figure *one = f;
  int s = figures_with_path(&one, 1, &n);
  *rendered = n == 1;
  return s;
}

START_TEST(test_figure_no_gnuplot) {
  char bin[PATH_MAX];
  path_in(bin, "bin");
  ck_assert_int_eq(mkdir(bin, 0700), 0);
  ir_figure *f = sample_figure();
  int rendered = 7;
  IR_ASSERT_OK(write_with_path(f, &rendered));
  ck_assert_int_eq(rendered, 0);
  ck_assert(exists_in("curve.dat"));
  ck_assert(exists_in("curve.gp"));
  ck_assert(!exists_in("curve.png"));
  ck_assert(!exists_in("curve.pdf"));
  ck_assert_int_eq(count_tmp(), 0);
  ir_figure_free(f);
}
END_TEST

/* g_dir/bin/gnuplot, a shell script (its second argument, "ir_png='...';
 * ir_pdf='...'", is valid shell too). */
static void fake_gnuplot(const char *script) {
  char bin[PATH_MAX], fake[PATH_MAX];
  path_in(bin, "bin");
  ck_assert_int_eq(mkdir(bin, 0700), 0);
  path_in(fake, "bin/gnuplot");
  FILE *fp = fopen(fake, "w");
  ck_assert_ptr_nonnull(fp);
  fputs(script, fp);
  fclose(fp);
  ck_assert_int_eq(chmod(fake, 0700), 0);
}

START_TEST(test_figure_gnuplot_fails) {
  /* A gnuplot that writes half an image and fails. */
  fake_gnuplot("#!/bin/sh\neval \"$2\"\necho partial > \"$ir_png\"\nexit 3\n");
  ir_figure *f = sample_figure();
  int rendered = 7;
  ck_assert_int_eq(write_with_path(f, &rendered), IR_EIO);
  ck_assert_int_eq(rendered, 0);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "exit status 3"));
  ck_assert(!exists_in("curve.png"));
  ck_assert(!exists_in("curve.pdf"));
  ck_assert_int_eq(count_tmp(), 0);
  ir_figure_free(f);
}
END_TEST

/* Several figures rendered at once: every image made, none left under a
 * temporary name; a failing gnuplot run stops the rest, the figures already
 * rendered stay, and the error names the failing script. */
static ir_figure *named_figure(const char *name) {
  ir_figure *f = ir_figure_alloc(name, name, "x", "y");
  ck_assert_ptr_nonnull(f);
  const double x[] = {1, 2, 3}, y[] = {3, 1, 2};
  IR_ASSERT_OK(ir_figure_add_series(f, "s", x, y, 3, "lines"));
  return f;
}

START_TEST(test_figures_many) {
  const char *names[] = {"f0", "f1", "f2", "f3", "f4"};
  ir_figure *f[5];
  for (int i = 0; i < 5; i++)
    f[i] = named_figure(names[i]);
  size_t nr = 99;
  if (have_gnuplot()) {
    IR_ASSERT_OK(ir_figures_write((const ir_figure *const *)f, 5, g_dir, 1,
                                  &nr));
    ck_assert_uint_eq(nr, 5);
    char png[32];
    for (int i = 0; i < 5; i++) {
      snprintf(png, sizeof png, "%s.png", names[i]);
      assert_magic(png, "\x89PNG\r\n\x1a\n", 8);
    }
    ck_assert_int_eq(count_tmp(), 0);
  }
  /* A fake gnuplot that fails on f1.gp only. */
  fake_gnuplot("#!/bin/sh\neval \"$2\"\ncase \"$3\" in f1.gp) echo partial > "
               "\"$ir_png\"; exit 3;; esac\necho png > \"$ir_png\"\necho pdf > "
               "\"$ir_pdf\"\n");
  char fake[PATH_MAX];
  for (int i = 0; i < 5; i++) {
    char p[32];
    snprintf(p, sizeof p, "%s.png", names[i]);
    path_in(fake, p);
    unlink(fake);
    snprintf(p, sizeof p, "%s.pdf", names[i]);
    path_in(fake, p);
    unlink(fake);
  }
  int s = figures_with_path((const ir_figure *const *)f, 5, &nr);
  ck_assert_int_eq(s, IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "f1.gp"));
  ck_assert(exists_in("f0.png"));
  ck_assert(!exists_in("f1.png"));
  ck_assert(!exists_in("f4.png"));
  ck_assert_uint_ge(nr, 1);
  ck_assert_uint_le(nr, 4);
  ck_assert_int_eq(count_tmp(), 0);
  /* no child left: every gnuplot started was waited for */
  ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
  ck_assert_int_eq(ir_figures_write(NULL, 1, g_dir, 1, &nr), IR_EINVAL);
  for (int i = 0; i < 5; i++)
    ir_figure_free(f[i]);
}
END_TEST

static Suite *report_suite(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("tables");
  tcase_add_unchecked_fixture(tc, make_root, remove_root);
  tcase_add_checked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_parse_formats);
  tcase_add_test(tc, test_table_api);
  tcase_add_test(tc, test_csv_roundtrip);
  tcase_add_test(tc, test_csv_quoting);
  tcase_add_test(tc, test_meanstd_formats);
  tcase_add_test(tc, test_markdown);
  tcase_add_test(tc, test_latex);
  tcase_add_test(tc, test_latex_paper);
  tcase_add_test(tc, test_latex_rows);
  tcase_add_test(tc, test_table_json);
  tcase_add_test(tc, test_table_print);
  tcase_add_test(tc, test_table_write_args);
  suite_add_tcase(s, tc);

  tc = tcase_create("json");
  tcase_add_unchecked_fixture(tc, make_root, remove_root);
  tcase_add_checked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_json_builder);
  tcase_add_test(tc, test_json_toplevel_array);
  tcase_add_test(tc, test_json_misuse);
  tcase_add_test(tc, test_environment);
  tcase_add_test(tc, test_wall_time);
  suite_add_tcase(s, tc);

  tc = tcase_create("checks");
  tcase_add_unchecked_fixture(tc, make_root, remove_root);
  tcase_add_checked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_checks_verdicts);
  tcase_add_test(tc, test_checks_write);
  tcase_add_test(tc, test_checks_merge_print);
  suite_add_tcase(s, tc);

  tc = tcase_create("files");
  tcase_add_unchecked_fixture(tc, make_root, remove_root);
  tcase_add_checked_fixture(tc, make_dir, remove_dir);
  /* gnuplot renders two images per figure; valgrind slows the rest. */
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_atomic_missing_dir);
  tcase_add_test(tc, test_figure_files);
  tcase_add_test(tc, test_figure_map);
  tcase_add_test(tc, test_figure_errors);
  tcase_add_test(tc, test_figure_args);
  tcase_add_test(tc, test_figure_render);
  tcase_add_test(tc, test_figure_no_gnuplot);
  tcase_add_test(tc, test_figure_gnuplot_fails);
  tcase_add_test(tc, test_figures_many);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(report_suite());
}
