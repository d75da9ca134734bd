/* cli.c — options, config files, manifests and exit statuses shared by all
 * analyses of the `implreg` command. */
#include "cli.h"

#include "atomic.h"

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenBLAS's own cblas.h clashes with GSL's (docs/stack.md trap 2): declare the
 * two extensions we need. */
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);

ir_checks *ir_cli_collect = NULL;

const char ir_cli_common_help[] =
    "Common options:\n"
    "  --seed N         first random seed (>= 1; default 1)\n"
    "  --seeds K        repeat over K seeds N..N+K-1, report mean and std\n"
    "  --out DIR        output folder (default results/<analysis>)\n"
    "  --format LIST    table formats: csv,md,tex,json or all (default all)\n"
    "  --quick          small sizes that finish in seconds\n"
    "  --threads N      BLAS threads (default: OpenBLAS's own choice)\n"
    "  --quiet          print nothing on stdout\n"
    "  --progress       report progress on stderr\n"
    "  --strict         exit with status 3 when a theory check fails\n"
    "  --resume         (sweeps of cells: flatness, nn-double-descent) read\n"
    "                   the cells an interrupted run into --out kept in\n"
    "                   OUT/cells instead of computing them again\n"
    "  --shard I/K      (sweeps of cells) compute the cells with index mod K\n"
    "                   = I only (I = 0..K-1, e.g. a Slurm job array); then\n"
    "                   'implreg merge DIR...' assembles the K shard folders\n"
    "  --config FILE    read options from FILE (key = value lines, or the\n"
    "                   manifest.json of an earlier run); the command line "
    "wins\n"
    "  --help           this text\n"
    "Exit status: 0 done, 2 bad usage/input or failed computation, 3 a check\n"
    "failed under --strict, 1 internal error, 130 interrupted (nothing\n"
    "published; the output folder keeps its earlier results).\n";

void ir_cli_common_init(ir_cli_common *c, const char *analysis) {
  memset(c, 0, sizeof *c);
  c->seed = 1;
  c->seeds = 1;
  c->formats = IR_FMT_ALL;
  c->nshards = 1;
  snprintf(c->out, sizeof c->out, "results/%s", analysis);
}

/* ---- Config
 * ------------------------------------------------------------------ */

static char *ir_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d == NULL) {
    ir_cli_eprintf("implreg: out of memory");
    exit(IR_EXIT_INTERNAL);
  }
  memcpy(d, s, n);
  return d;
}

void ir_cli_config_set(ir_cli_config *cfg, const char *key, const char *fmt,
                       ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  for (size_t i = 0; i < cfg->n; i++)
    if (strcmp(cfg->keys[i], key) == 0) {
      free(cfg->vals[i]);
      cfg->vals[i] = ir_strdup(buf);
      return;
    }
  if (cfg->n == cfg->cap) {
    cfg->cap = cfg->cap ? 2 * cfg->cap : 16;
    cfg->keys = realloc(cfg->keys, cfg->cap * sizeof *cfg->keys);
    cfg->vals = realloc(cfg->vals, cfg->cap * sizeof *cfg->vals);
    if (!cfg->keys || !cfg->vals) {
      ir_cli_eprintf("implreg: out of memory");
      exit(IR_EXIT_INTERNAL);
    }
  }
  cfg->keys[cfg->n] = ir_strdup(key);
  cfg->vals[cfg->n] = ir_strdup(buf);
  cfg->n++;
}

void ir_cli_config_free(ir_cli_config *cfg) {
  for (size_t i = 0; i < cfg->n; i++) {
    free(cfg->keys[i]);
    free(cfg->vals[i]);
  }
  free(cfg->keys);
  free(cfg->vals);
  memset(cfg, 0, sizeof *cfg);
}

const char *ir_cli_fmt_double(char *buf, size_t len, double x) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, len, "%.*g", digits, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  return buf;
}

void ir_cli_config_common(ir_cli_config *cfg, const ir_cli_common *c) {
  static const char *names[] = {"csv", "md", "tex", "json"};
  char fmts[64] = "";
  for (int i = 0; i < 4; i++)
    if (c->formats & (1 << i)) {
      if (fmts[0])
        strcat(fmts, ",");
      strcat(fmts, names[i]);
    }
  ir_cli_config_set(cfg, "seed", "%lu", c->seed);
  ir_cli_config_set(cfg, "seeds", "%zu", c->seeds);
  ir_cli_config_set(cfg, "out", "%s", c->out);
  ir_cli_config_set(cfg, "format", "%s", fmts);
  ir_cli_config_set(cfg, "quick", "%s", c->quick ? "true" : "false");
  if (c->threads > 0)
    ir_cli_config_set(cfg, "threads", "%d", c->threads);
  if (c->nshards > 1)
    ir_cli_config_set(cfg, "shard", "%zu/%zu", c->shard, c->nshards);
}

uint64_t ir_cli_config_hash(const ir_cli_config *cfg) {
  static const char *const skip[] = {"out",      "format", "threads",
                                     "quiet",    "progress", "strict",
                                     "shard",    "resume"};
  /* FNV-1a, as ir_cells_hash, fed key by key (no concatenated copy). */
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < cfg->n; i++) {
    int drop = strncmp(cfg->keys[i], "derived.", 8) == 0;
    for (size_t k = 0; k < sizeof skip / sizeof skip[0] && !drop; k++)
      drop = strcmp(cfg->keys[i], skip[k]) == 0;
    if (drop)
      continue;
    const char *parts[4] = {cfg->keys[i], "=", cfg->vals[i], "\n"};
    for (int q = 0; q < 4; q++)
      for (const unsigned char *t = (const unsigned char *)parts[q]; *t; t++) {
        h ^= *t;
        h *= 1099511628211ULL;
      }
  }
  return h;
}

/* Appends "--key" (and "value" unless the value is a boolean) to list. */
static void ir_push_option(char ***list, int *n, int *cap, const char *key,
                           const char *val) {
  if (strcmp(val, "false") == 0)
    return;
  if (*n + 2 > *cap) {
    *cap = *cap ? 2 * *cap : 32;
    *list = realloc(*list, (size_t)*cap * sizeof **list);
    if (*list == NULL) {
      ir_cli_eprintf("implreg: out of memory");
      exit(IR_EXIT_INTERNAL);
    }
  }
  size_t kl = strlen(key);
  char *opt = malloc(kl + 3);
  if (opt == NULL) {
    ir_cli_eprintf("implreg: out of memory");
    exit(IR_EXIT_INTERNAL);
  }
  memcpy(opt, "--", 2);
  memcpy(opt + 2, key, kl + 1);
  (*list)[(*n)++] = opt;
  if (strcmp(val, "true") != 0)
    (*list)[(*n)++] = ir_strdup(val);
}

static char *ir_trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  char *e = s + strlen(s);
  while (e > s &&
         (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
    *--e = '\0';
  return s;
}

/* ---- The manifest reader: a small JSON parser for what
 * ir_cli_write_manifest writes (report_json.c): any JSON document whose
 * top level is an object; its "config" member must be a flat object of
 * strings (numbers and true/false are accepted too).  Every escape the
 * writer emits (\" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs) reads
 * back; a nested object or array in "config" is refused with one line. */
typedef struct {
  const char *prog, *path, *text, *p;
} ir_jp;

static int ir_jp_fail(ir_jp *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ir_jp_fail(ir_jp *j, const char *fmt, ...) {
  size_t line = 1;
  for (const char *q = j->text; q < j->p && *q; q++)
    line += *q == '\n';
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ir_cli_eprintf("%s: %s:%zu: %s", j->prog, j->path, line, msg);
  return IR_EXIT_USAGE;
}

static void ir_jp_ws(ir_jp *j) {
  while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')
    j->p++;
}

static int ir_jp_hex4(const char *s, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    *v = *v << 4 | (unsigned)d;
  }
  return 0;
}

/* A string at j->p (the opening quote) into *out (malloc'd, NUL-free). */
static int ir_jp_string(ir_jp *j, char **out) {
  *out = NULL;
  if (*j->p != '"')
    return ir_jp_fail(j, "expected a string");
  const char *s = ++j->p;
  /* Every escape decodes to at most as many bytes as it takes (\uXXXX to
   * at most 3 bytes of UTF-8, a surrogate pair of 12 to 4). */
  const char *q = s;
  while (*q && *q != '"')
    q += (*q == '\\' && q[1]) ? 2 : 1;
  char *o = malloc((size_t)(q - s) + 1);
  if (o == NULL)
    return ir_jp_fail(j, "out of memory");
  size_t k = 0;
  for (;;) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '\0') {
      free(o);
      return ir_jp_fail(j, "unterminated string");
    }
    j->p++;
    if (c == '"')
      break;
    if (c != '\\') {
      o[k++] = (char)c;
      continue;
    }
    char e = *j->p++;
    switch (e) {
    case '"': o[k++] = '"'; break;
    case '\\': o[k++] = '\\'; break;
    case '/': o[k++] = '/'; break;
    case 'b': o[k++] = '\b'; break;
    case 'f': o[k++] = '\f'; break;
    case 'n': o[k++] = '\n'; break;
    case 'r': o[k++] = '\r'; break;
    case 't': o[k++] = '\t'; break;
    case 'u': {
      unsigned u;
      if (ir_jp_hex4(j->p, &u) != 0) {
        free(o);
        return ir_jp_fail(j, "bad \\u escape (expected 4 hex digits)");
      }
      j->p += 4;
      if (u >= 0xD800 && u < 0xDC00) { /* a surrogate pair */
        unsigned lo;
        if (j->p[0] != '\\' || j->p[1] != 'u' ||
            ir_jp_hex4(j->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
          free(o);
          return ir_jp_fail(j, "unpaired UTF-16 surrogate in a \\u escape");
        }
        j->p += 6;
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
      } else if (u >= 0xDC00 && u <= 0xDFFF) {
        free(o);
        return ir_jp_fail(j, "unpaired UTF-16 surrogate in a \\u escape");
      }
      if (u == 0) {
        free(o);
        return ir_jp_fail(j, "\\u0000 (a NUL character) cannot be an option");
      }
      if (u < 0x80) {
        o[k++] = (char)u;
      } else if (u < 0x800) {
        o[k++] = (char)(0xC0 | u >> 6);
        o[k++] = (char)(0x80 | (u & 0x3F));
      } else if (u < 0x10000) {
        o[k++] = (char)(0xE0 | u >> 12);
        o[k++] = (char)(0x80 | (u >> 6 & 0x3F));
        o[k++] = (char)(0x80 | (u & 0x3F));
      } else {
        o[k++] = (char)(0xF0 | u >> 18);
        o[k++] = (char)(0x80 | (u >> 12 & 0x3F));
        o[k++] = (char)(0x80 | (u >> 6 & 0x3F));
        o[k++] = (char)(0x80 | (u & 0x3F));
      }
      break;
    }
    default:
      free(o);
      return ir_jp_fail(j, "unknown escape '\\%c' in a string", e);
    }
  }
  o[k] = '\0';
  *out = o;
  return 0;
}

/* A number or true/false/null at j->p: its text into *out (malloc'd). */
static int ir_jp_scalar(ir_jp *j, char **out) {
  const char *s = j->p;
  while (*j->p && strchr("+-.0123456789eEtruefalsn", *j->p) != NULL)
    j->p++;
  size_t n = (size_t)(j->p - s);
  char *t = malloc(n + 1);
  if (t == NULL)
    return ir_jp_fail(j, "out of memory");
  memcpy(t, s, n);
  t[n] = '\0';
  char *end;
  int ok = n > 0 && (strcmp(t, "true") == 0 || strcmp(t, "false") == 0 ||
                     strcmp(t, "null") == 0 || (strtod(t, &end), end == t + n));
  if (!ok) {
    free(t);
    j->p = s;
    return ir_jp_fail(j, "expected a JSON value");
  }
  *out = t;
  return 0;
}

/* Skips any value (objects and arrays to a bounded depth). */
static int ir_jp_skip(ir_jp *j, int depth) {
  ir_jp_ws(j);
  if (depth > 64)
    return ir_jp_fail(j, "nested too deeply");
  char *t = NULL;
  int rc;
  if (*j->p == '"') {
    rc = ir_jp_string(j, &t);
  } else if (*j->p == '{' || *j->p == '[') {
    char close = *j->p == '{' ? '}' : ']';
    int obj = close == '}';
    j->p++;
    ir_jp_ws(j);
    if (*j->p == close) {
      j->p++;
      return 0;
    }
    for (;;) {
      if (obj) {
        ir_jp_ws(j);
        if ((rc = ir_jp_string(j, &t)) != 0)
          return rc;
        free(t);
        t = NULL;
        ir_jp_ws(j);
        if (*j->p != ':')
          return ir_jp_fail(j, "expected ':'");
        j->p++;
      }
      if ((rc = ir_jp_skip(j, depth + 1)) != 0)
        return rc;
      ir_jp_ws(j);
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      if (*j->p != close)
        return ir_jp_fail(j, "expected ',' or '%c'", close);
      j->p++;
      return 0;
    }
  } else {
    rc = ir_jp_scalar(j, &t);
  }
  free(t);
  return rc;
}

/* The "config" object's members as options. */
static int ir_jp_config(ir_jp *j, char ***list, int *n, int *cap) {
  ir_jp_ws(j);
  if (*j->p != '{')
    return ir_jp_fail(j, "\"config\" is not an object; expected "
                         "{\"key\": \"value\", ...}");
  j->p++;
  ir_jp_ws(j);
  if (*j->p == '}') {
    j->p++;
    return 0;
  }
  for (;;) {
    char *key = NULL, *val = NULL;
    int rc;
    ir_jp_ws(j);
    if ((rc = ir_jp_string(j, &key)) != 0)
      return rc;
    ir_jp_ws(j);
    if (*j->p != ':') {
      rc = ir_jp_fail(j, "expected ':' after \"%s\"", key);
      free(key);
      return rc;
    }
    j->p++;
    ir_jp_ws(j);
    if (*j->p == '{' || *j->p == '[') {
      rc = ir_jp_fail(j,
                      "config.%s is %s: only flat \"key\": \"value\" pairs "
                      "are options",
                      key, *j->p == '{' ? "an object" : "an array");
      free(key);
      return rc;
    }
    if (strcmp(key, "config") == 0) {
      free(key);
      return ir_jp_fail(j, "config.config: a configuration cannot name "
                           "another configuration file");
    }
    rc = *j->p == '"' ? ir_jp_string(j, &val) : ir_jp_scalar(j, &val);
    if (rc != 0) {
      free(key);
      return rc;
    }
    if (key[0] == '\0' || key[0] == '-') {
      rc = ir_jp_fail(j, "config key \"%s\" is not an option name", key);
      free(key);
      free(val);
      return rc;
    }
    if (strcmp(val, "null") != 0)
      ir_push_option(list, n, cap, key, val);
    free(key);
    free(val);
    ir_jp_ws(j);
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p != '}')
      return ir_jp_fail(j, "expected ',' or '}' in \"config\"");
    j->p++;
    return 0;
  }
}

/* Parses a manifest (or any JSON object with a "config" member): the
 * top-level "analysis" into analysis (when non-NULL), "config" into
 * options. */
static int ir_config_from_manifest(const char *prog, const char *path,
                                   const char *text, char *analysis,
                                   size_t alen, char ***list, int *n,
                                   int *cap) {
  ir_jp j = {prog, path, text, text};
  if (analysis != NULL && alen > 0)
    analysis[0] = '\0';
  ir_jp_ws(&j);
  if (*j.p != '{')
    return ir_jp_fail(&j, "expected a JSON object (a manifest.json)");
  j.p++;
  int found = 0, rc;
  ir_jp_ws(&j);
  if (*j.p == '}')
    j.p++;
  else
    for (;;) {
      char *key = NULL;
      ir_jp_ws(&j);
      if ((rc = ir_jp_string(&j, &key)) != 0)
        return rc;
      ir_jp_ws(&j);
      if (*j.p != ':') {
        free(key);
        return ir_jp_fail(&j, "expected ':'");
      }
      j.p++;
      ir_jp_ws(&j);
      if (strcmp(key, "config") == 0) {
        if (found) {
          free(key);
          return ir_jp_fail(&j, "two \"config\" objects");
        }
        found = 1;
        rc = ir_jp_config(&j, list, n, cap);
      } else if (strcmp(key, "analysis") == 0 && *j.p == '"' &&
                 analysis != NULL) {
        char *a = NULL;
        rc = ir_jp_string(&j, &a);
        if (rc == 0)
          snprintf(analysis, alen, "%s", a);
        free(a);
      } else {
        rc = ir_jp_skip(&j, 0);
      }
      free(key);
      if (rc != 0)
        return rc;
      ir_jp_ws(&j);
      if (*j.p == ',') {
        j.p++;
        continue;
      }
      if (*j.p != '}')
        return ir_jp_fail(&j, "expected ',' or '}'");
      j.p++;
      break;
    }
  ir_jp_ws(&j);
  if (*j.p != '\0')
    return ir_jp_fail(&j, "text after the JSON object");
  if (!found) {
    ir_cli_eprintf("%s: %s: no \"config\" object in this JSON file", prog,
                   path);
    return IR_EXIT_USAGE;
  }
  return 0;
}

static int ir_config_read(const char *prog, const char *path, char ***list,
                          int *n, int *cap) {
  struct stat st;
  if (stat(path, &st) != 0) {
    ir_cli_eprintf("%s: --config %s: %s", prog, path, strerror(errno));
    return IR_EXIT_USAGE;
  }
  if (S_ISDIR(st.st_mode)) {
    ir_cli_eprintf("%s: --config %s: is a directory, expected a file", prog,
                   path);
    return IR_EXIT_USAGE;
  }
  if (ir_cli_check_input(prog, "config", path) != 0)
    return IR_EXIT_USAGE; /* a FIFO would block, a device never end */
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    ir_cli_eprintf("%s: --config %s: %s", prog, path, strerror(errno));
    return IR_EXIT_USAGE;
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (text == NULL) {
    fclose(fp);
    ir_cli_eprintf("%s: out of memory", prog);
    return IR_EXIT_INTERNAL;
  }
  size_t len = fread(text, 1, (size_t)st.st_size, fp);
  fclose(fp);
  text[len] = '\0';
  int rc = 0;
  const char *first = text;
  while (*first == ' ' || *first == '\n' || *first == '\t' || *first == '\r')
    first++;
  if (*first == '{') {
    rc = ir_config_from_manifest(prog, path, text, NULL, 0, list, n, cap);
  } else {
    size_t lineno = 0;
    char *next = text;
    while (next != NULL) {
      /* Split by hand: strtok would skip empty lines and miscount. */
      char *line = next;
      char *nl = strchr(line, '\n');
      if (nl != NULL)
        *nl = '\0';
      next = nl ? nl + 1 : NULL;
      lineno++;
      char *l = ir_trim(line);
      if (*l == '\0' || *l == '#')
        continue;
      char *eq = strchr(l, '=');
      if (eq == NULL) {
        ir_cli_eprintf("%s: %s:%zu: expected 'key = value', got '%s'", prog,
                       path, lineno, l);
        rc = IR_EXIT_USAGE;
        break;
      }
      *eq = '\0';
      char *key = ir_trim(l), *val = ir_trim(eq + 1);
      if (strcmp(key, "config") == 0) {
        ir_cli_eprintf("%s: %s:%zu: a config file cannot include another", prog,
                       path, lineno);
        rc = IR_EXIT_USAGE;
        break;
      }
      ir_push_option(list, n, cap, key, val);
    }
  }
  free(text);
  return rc;
}

int ir_cli_read_manifest(const char *prog, const char *path, char *analysis,
                         size_t alen, int *argc_out, char ***argv_out) {
  int n = 0, cap = 32;
  char **list = malloc((size_t)cap * sizeof *list);
  if (list == NULL) {
    ir_cli_eprintf("%s: out of memory", prog);
    return IR_EXIT_INTERNAL;
  }
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    ir_cli_eprintf("%s: %s: not a regular file; expected a manifest.json", prog,
                   path);
    free(list);
    return IR_EXIT_USAGE;
  }
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    ir_cli_eprintf("%s: %s: %s", prog, path, strerror(errno));
    free(list);
    return IR_EXIT_USAGE;
  }
  size_t tcap = 1 << 16, len = 0;
  char *text = malloc(tcap);
  while (text != NULL) {
    len += fread(text + len, 1, tcap - 1 - len, fp);
    if (len < tcap - 1 || feof(fp))
      break;
    char *t = realloc(text, 2 * tcap);
    if (t == NULL) {
      free(text);
      text = NULL;
      break;
    }
    text = t;
    tcap *= 2;
  }
  fclose(fp);
  if (text == NULL) {
    ir_cli_eprintf("%s: out of memory", prog);
    free(list);
    return IR_EXIT_INTERNAL;
  }
  text[len] = '\0';
  int rc = ir_config_from_manifest(prog, path, text, analysis, alen, &list, &n,
                                   &cap);
  free(text);
  if (rc != 0) {
    ir_cli_argv_free(n, list);
    return rc;
  }
  *argc_out = n;
  *argv_out = list;
  return 0;
}

int ir_cli_expand_config(const char *prog, int argc, char **argv, int *argc_out,
                         char ***argv_out) {
  int n = 0, cap = 32;
  char **list = malloc((size_t)cap * sizeof *list);
  if (list == NULL) {
    ir_cli_eprintf("%s: out of memory", prog);
    return IR_EXIT_INTERNAL;
  }
  list[n++] = ir_strdup(argv[0]);
  for (int i = 1; i < argc; i++) {
    const char *path = NULL;
    if (strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc) {
        ir_cli_eprintf("%s: --config needs a file name", prog);
        ir_cli_argv_free(n, list);
        return IR_EXIT_USAGE;
      }
      path = argv[i + 1];
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      path = argv[i] + 9;
    }
    if (path != NULL) {
      int rc = ir_config_read(prog, path, &list, &n, &cap);
      if (rc != 0) {
        ir_cli_argv_free(n, list);
        return rc;
      }
    }
  }
  /* Then the command line itself, without the --config options. */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0) {
      i++;
      continue;
    }
    if (strncmp(argv[i], "--config=", 9) == 0)
      continue;
    if (n + 1 > cap) {
      cap = 2 * cap + 2;
      list = realloc(list, (size_t)cap * sizeof *list);
      if (list == NULL) {
        ir_cli_eprintf("%s: out of memory", prog);
        return IR_EXIT_INTERNAL;
      }
    }
    list[n++] = ir_strdup(argv[i]);
  }
  list = realloc(list, (size_t)(n + 1) * sizeof *list);
  list[n] = NULL;
  *argc_out = n;
  *argv_out = list;
  return 0;
}

void ir_cli_argv_free(int argc, char **argv) {
  if (argv == NULL)
    return;
  for (int i = 0; i < argc; i++)
    free(argv[i]);
  free(argv);
}

/* ---- Values
 * ------------------------------------------------------------------ */

int ir_cli_double(const char *prog, const char *name, const char *arg,
                  double min, double max, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(arg, &end);
  if (end == arg || *end != '\0' || errno == ERANGE || !isfinite(v)) {
    ir_cli_eprintf("%s: --%s: '%s' is not a finite number", prog, name, arg);
    return IR_EXIT_USAGE;
  }
  if (v < min || v > max) {
    ir_cli_eprintf("%s: --%s: %s is out of range [%g, %g]", prog, name, arg,
                   min, max);
    return IR_EXIT_USAGE;
  }
  *out = v;
  return 0;
}

int ir_cli_size(const char *prog, const char *name, const char *arg, size_t min,
                size_t max, size_t *out) {
  char *end = NULL;
  errno = 0;
  if (arg[0] == '-' || arg[0] == '\0') {
    ir_cli_eprintf("%s: --%s: '%s' is not a whole number >= %zu", prog, name,
                   arg, min);
    return IR_EXIT_USAGE;
  }
  unsigned long long v = strtoull(arg, &end, 10);
  if (*end != '\0' || errno == ERANGE) {
    ir_cli_eprintf("%s: --%s: '%s' is not a whole number >= %zu", prog, name,
                   arg, min);
    return IR_EXIT_USAGE;
  }
  if (v < min || v > max) {
    ir_cli_eprintf("%s: --%s: %s is out of range [%zu, %zu]", prog, name, arg,
                   min, max);
    return IR_EXIT_USAGE;
  }
  *out = (size_t)v;
  return 0;
}

int ir_cli_double_list(const char *prog, const char *name, const char *arg,
                       double min, double max, double **out, size_t *n) {
  size_t cap = 1;
  for (const char *p = arg; *p; p++)
    cap += *p == ',';
  double *v = malloc(cap * sizeof *v);
  char *copy = ir_strdup(arg);
  if (v == NULL) {
    free(copy);
    ir_cli_eprintf("%s: out of memory", prog);
    return IR_EXIT_INTERNAL;
  }
  size_t k = 0;
  int rc = 0;
  char *tok = copy;
  while (tok != NULL) {
    /* Split by hand so that an empty item ("1,,2") is an error. */
    char *comma = strchr(tok, ',');
    if (comma != NULL)
      *comma = '\0';
    char *item = ir_trim(tok);
    if (*item == '\0') {
      ir_cli_eprintf("%s: --%s: empty item in the list '%s'", prog, name, arg);
      rc = IR_EXIT_USAGE;
      break;
    }
    rc = ir_cli_double(prog, name, item, min, max, &v[k]);
    if (rc != 0)
      break;
    k++;
    tok = comma ? comma + 1 : NULL;
  }
  free(copy);
  if (rc != 0) {
    free(v);
    return rc;
  }
  *out = v;
  *n = k;
  return 0;
}

int ir_cli_common_option(const char *prog, ir_cli_common *c, int code,
                         const char *arg) {
  size_t v;
  switch (code) {
  case IR_OPT_SEED:
    if (ir_cli_size(prog, "seed", arg, 1, 4294967295UL, &v))
      return IR_EXIT_USAGE;
    c->seed = (unsigned long)v;
    return 0;
  case IR_OPT_SEEDS:
    return ir_cli_size(prog, "seeds", arg, 1, 100000, &c->seeds) ? IR_EXIT_USAGE
                                                                 : 0;
  case IR_OPT_OUT:
    if (arg[0] == '\0' || strlen(arg) >= sizeof c->out) {
      ir_cli_eprintf("%s: --out: empty or too long folder name", prog);
      return IR_EXIT_USAGE;
    }
    snprintf(c->out, sizeof c->out, "%s", arg);
    return 0;
  case IR_OPT_FORMAT:
    if (ir_report_parse_formats(arg, &c->formats) != IR_OK) {
      ir_cli_eprintf("%s: --format: %s", prog, ir_error_message());
      return IR_EXIT_USAGE;
    }
    return 0;
  case IR_OPT_CONFIG: /* only from a configuration file's own options */
    ir_cli_eprintf("%s: --config %s: a configuration cannot name another "
                   "configuration file",
                   prog, arg);
    return IR_EXIT_USAGE;
  case IR_OPT_QUICK: c->quick = 1; return 0;
  case IR_OPT_THREADS:
    /* Above the build's MAX_THREADS OpenBLAS misbehaves (it hung under an
     * address-space limit with 48 of 1024 accepted). */
    if (ir_cli_size(prog, "threads", arg, 1, (size_t)ir_cli_max_threads(), &v))
      return IR_EXIT_USAGE;
    {
      size_t aslimit;
      int cap = ir_cli_thread_cap(&aslimit);
      if (v > (size_t)cap) {
        ir_cli_eprintf("%s: --threads %zu: under the address-space limit of "
                       "%zu bytes (ulimit -v) at most %d BLAS threads fit "
                       "(each reserves about 160 MiB); give --threads %d or "
                       "raise the limit",
                       prog, v, aslimit, cap, cap);
        return IR_EXIT_USAGE;
      }
    }
    c->threads = (int)v;
    return 0;
  case IR_OPT_RESUME: c->resume = 1; return 0;
  case IR_OPT_SHARD: {
    /* I/K with 0 <= I < K; K = 1 is one shard: the whole sweep. */
    char *end1 = NULL, *end2 = NULL;
    errno = 0;
    unsigned long long i = strtoull(arg, &end1, 10);
    unsigned long long k =
        end1 && *end1 == '/' ? strtoull(end1 + 1, &end2, 10) : 0;
    if (errno != 0 || end1 == arg || *end1 != '/' || end2 == end1 + 1 ||
        end2 == NULL || *end2 != '\0' || arg[0] == '-' || end1[1] == '-' ||
        k < 1 || k > 100000 || i >= k) {
      ir_cli_eprintf("%s: --shard: '%s' is not I/K with 0 <= I < K <= "
                     "100000 (e.g. 0/4 ... 3/4)",
                     prog, arg);
      return IR_EXIT_USAGE;
    }
    c->shard = (size_t)i;
    c->nshards = (size_t)k;
    return 0;
  }
  case IR_OPT_QUIET: c->quiet = 1; return 0;
  case IR_OPT_PROGRESS: c->progress = 1; return 0;
  case IR_OPT_STRICT: c->strict = 1; return 0;
  default: return 1;
  }
}

int ir_cli_default_option(const char *prog, ir_cli_common *c, int code,
                          const char *arg, char **argv, const char *help) {
  switch (code) {
  case IR_OPT_HELP:
    fputs(help, stdout);
    fputs(ir_cli_common_help, stdout);
    return -1;
  case ':':
    return ir_cli_usage_error(prog, "option %s needs a value",
                              argv[optind - 1]);
  case '?':
    return ir_cli_usage_error(prog, "unknown option '%s'", argv[optind - 1]);
  default: return ir_cli_common_option(prog, c, code, arg) ? IR_EXIT_USAGE : 0;
  }
}

/* ---- Errors and exit
 * --------------------------------------------------------- */

int ir_cli_fail(const char *prog, int status, const char *msg) {
  const char *m = msg ? msg : ir_error_message();
  /* Library messages quote input (file names, CSV cells): escaped. */
  ir_cli_eprintf("%s: %s", prog, m[0] ? m : ir_strerror(status));
  if (status == IR_EINTR)
    return IR_EXIT_INTERRUPTED;
  return (status == IR_ENOMEM || status == IR_EINTERNAL) ? IR_EXIT_INTERNAL
                                                         : IR_EXIT_USAGE;
}

int ir_cli_usage_error(const char *prog, const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ir_cli_eprintf("%s: %s (see '%s --help')", prog, msg, prog);
  return IR_EXIT_USAGE;
}

int ir_cli_apply_threads(const ir_cli_common *c) {
  if (c->threads > 0)
    openblas_set_num_threads(c->threads);
  else if (openblas_get_num_threads() > ir_cli_thread_cap(NULL))
    openblas_set_num_threads(ir_cli_thread_cap(NULL)); /* see --threads */
  return openblas_get_num_threads();
}

void ir_cli_progress(const ir_cli_common *c, const char *analysis,
                     const char *fmt, ...) {
  /* Rank 0 speaks for an MPI job; one write per line, so that lines of
   * processes sharing the terminal do not interleave. */
  if (!c->progress || ir_cli_rank() != 0)
    return;
  char line[1024];
  int k = snprintf(line, sizeof line, "[%s] ", analysis);
  va_list ap;
  va_start(ap, fmt);
  if (k >= 0 && (size_t)k < sizeof line)
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}

int ir_cli_exit_status(const ir_cli_common *c, const ir_checks *checks) {
  if (c->strict && checks != NULL && ir_checks_failed(checks) > 0)
    return IR_EXIT_CHECK;
  return IR_EXIT_OK;
}

int ir_cli_broken(const char *what) {
  const char *b = getenv("IMPLREG_BREAK");
  return b != NULL && strstr(b, what) != NULL;
}

void ir_cli_break_announce(const char *prog, ir_cli_config *cfg) {
  const char *b = getenv("IMPLREG_BREAK");
  if (b == NULL)
    return;
  ir_cli_eprintf("%s: IMPLREG_BREAK=%s: computations broken on purpose (a test "
                 "hook)",
                 prog, b);
  ir_cli_config_set(cfg, "break", "%s", b);
}
