/* report_tex.c — tables as a paper shows them: LaTeX that compiles in a
 * plain article with the packages its first line names, fits the text width,
 * and aligns numbers on the decimal point (siunitx S columns).
 *
 * The paper's view of a table is declared by the analysis (which columns,
 * their math headers, how many rows); undeclared, every column is shown
 * under its escaped CSV name.  The CSV, Markdown and JSON keep every column
 * and row.  The width is estimated from the cells (Computer Modern at 10 pt:
 * digits 5 pt wide) against an article's 345 pt text width, and the font
 * size, column separation and wrapping of long text columns are chosen to
 * fit; tests/tex_compile.sh compiles every .tex a run writes to prove it.
 */
/* realpath is XSI. */
#define _XOPEN_SOURCE 700
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- declaring the paper's view ------------------------------------------ */

int ir_table_set_tex_header(ir_table *t, int col, const char *tex) {
  if (t == NULL || col < 0 || (size_t)col >= t->ncols)
    return ir_error(IR_EINVAL, "ir_table_set_tex_header: no column %d", col);
  char *c = NULL;
  if (tex != NULL && tex[0] != '\0' && (c = ir_strdup0(tex)) == NULL)
    return ir_error(IR_ENOMEM, "ir_table_set_tex_header: no memory");
  free(t->cols[col].tex);
  t->cols[col].tex = c;
  return IR_OK;
}

int ir_table_set_paper_rows(ir_table *t, size_t max) {
  if (t == NULL)
    return ir_error(IR_EINVAL, "ir_table_set_paper_rows: NULL table");
  t->paper_rows = max;
  return IR_OK;
}

/* Splits spec at commas outside braces ("N,norm=$\|W\|_{2,F}$" has two
 * entries) into the column order; with apply, also sets the headers. */
static int ir_paper_entries(ir_table *t, const char *spec, int apply,
                            int *order, size_t *n) {
  size_t k = 0;
  const char *p = spec;
  while (*p != '\0') {
    const char *e = p;
    int depth = 0;
    while (*e != '\0' && (depth > 0 || *e != ',')) {
      if (*e == '{')
        depth++;
      else if (*e == '}' && depth > 0)
        depth--;
      e++;
    }
    const char *eq = memchr(p, '=', (size_t)(e - p));
    size_t ln = (size_t)((eq ? eq : e) - p);
    while (ln > 0 && p[ln - 1] == ' ')
      ln--;
    while (ln > 0 && *p == ' ')
      p++, ln--;
    int optional = ln > 0 && *p == '?';
    if (optional)
      p++, ln--;
    int col = -1;
    for (size_t c = 0; c < t->ncols; c++)
      if (strlen(t->cols[c].name) == ln &&
          strncmp(t->cols[c].name, p, ln) == 0)
        col = (int)c;
    if (col < 0 && optional) {
      p = *e == ',' ? e + 1 : e;
      continue;
    }
    if (col < 0)
      return ir_error(IR_EINVAL,
                      "ir_table_set_paper: table %s has no column '%.*s'",
                      t->name, (int)ln, p);
    for (size_t i = 0; i < k; i++)
      if (order[i] == col)
        return ir_error(IR_EINVAL,
                        "ir_table_set_paper: column '%s' of table %s named "
                        "twice",
                        t->cols[col].name, t->name);
    order[k++] = col;
    if (apply && eq != NULL) {
      size_t lt = (size_t)(e - eq - 1);
      char *tex = malloc(lt + 1);
      if (tex == NULL)
        return ir_error(IR_ENOMEM, "ir_table_set_paper: no memory");
      memcpy(tex, eq + 1, lt);
      tex[lt] = '\0';
      free(t->cols[col].tex);
      t->cols[col].tex = tex;
    }
    p = *e == ',' ? e + 1 : e;
  }
  *n = k;
  return IR_OK;
}

int ir_table_set_paper(ir_table *t, const char *spec) {
  if (t == NULL)
    return ir_error(IR_EINVAL, "ir_table_set_paper: NULL table");
  if (spec == NULL || spec[0] == '\0') {
    free(t->paper);
    t->paper = NULL;
    t->npaper = 0;
    return IR_OK;
  }
  int *order = malloc((t->ncols + 1) * sizeof *order);
  if (order == NULL)
    return ir_error(IR_ENOMEM, "ir_table_set_paper: no memory");
  size_t n = 0;
  /* Validate first, so that a bad spec changes nothing. */
  int s = ir_paper_entries(t, spec, 0, order, &n);
  if (s == IR_OK)
    s = ir_paper_entries(t, spec, 1, order, &n);
  if (s != IR_OK) {
    free(order);
    return s;
  }
  free(t->paper);
  t->paper = order;
  t->npaper = n;
  return IR_OK;
}

int ir_table_set_paper_from(ir_table *t, const char *const *specs) {
  if (t == NULL)
    return ir_error(IR_EINVAL, "ir_table_set_paper_from: NULL table");
  size_t ln = strlen(t->name);
  for (const char *const *k = specs; k != NULL && *k != NULL; k++)
    if (strncmp(*k, t->name, ln) == 0 && (*k)[ln] == ':')
      return ir_table_set_paper(t, *k + ln + 1);
  return IR_OK;
}

/* ---- number layout --------------------------------------------------------- */

/* The digits of a number as siunitx's table-format counts them. */
typedef struct {
  int sign, ip, dp, esign, ep, has_exp;
} ir_numfmt;

/* s: a number printed with %g or %ld ("-1.609e-03", "42"); rewrites the
 * exponent without leading zeros ("e-3") and widens f to hold it. */
static void ir_numfmt_add(ir_numfmt *f, char *s) {
  const char *p = s;
  if (*p == '-') {
    f->sign = 1;
    p++;
  }
  int ip = 0, dp = 0;
  while (*p >= '0' && *p <= '9')
    ip++, p++;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9')
      dp++, p++;
  }
  if (ip > f->ip)
    f->ip = ip;
  if (dp > f->dp)
    f->dp = dp;
  if (*p == 'e') {
    char *e = (char *)p;
    long k = strtol(e + 1, NULL, 10);
    sprintf(e, "e%ld", k);
    f->has_exp = 1;
    if (k < 0)
      f->esign = 1;
    int ed = 0;
    for (long a = labs(k); a > 0; a /= 10)
      ed++;
    if (ed < 1)
      ed = 1;
    if (ed > f->ep)
      f->ep = ed;
  }
}

/* siunitx's table-format for f ("-1.3e-2"). */
static void ir_numfmt_spec(const ir_numfmt *f, char *buf, size_t cap) {
  int ip = f->ip > 0 ? f->ip : 1;
  int k = snprintf(buf, cap, "%s%d", f->sign ? "-" : "", ip);
  if (f->dp > 0)
    k += snprintf(buf + k, cap - (size_t)k, ".%d", f->dp);
  if (f->has_exp)
    snprintf(buf + k, cap - (size_t)k, "e%s%d", f->esign ? "-" : "", f->ep);
}

/* Width in points at 10 pt of a number laid out as f, as siunitx sets it
 * (measured): digits 5 pt, the decimal point 2.78, a minus 7.78,
 * "\times 10" 23, exponent digits 3.7 and their minus 6.25. */
static double ir_numfmt_width(const ir_numfmt *f) {
  int ip = f->ip > 0 ? f->ip : 1;
  double w = 5.0 * ip + (f->sign ? 7.78 : 0.0);
  if (f->dp > 0)
    w += 2.78 + 5.0 * f->dp;
  if (f->has_exp)
    w += 23.0 + 3.7 * f->ep + (f->esign ? 6.25 : 0.0);
  return w + 0.5;
}

/* The cell's number as text for an S column, into buf; NULL for a
 * non-finite value (written as braced text instead). */
static const char *ir_snum(char *buf, double v, int sci) {
  if (!isfinite(v))
    return NULL;
  /* %g writes 0.0001234 with seven decimals, and an S column reserves the
   * widest layout for every row: below 0.01 the exponent form is
   * narrower.  sci: every non-zero number in exponent form (a column
   * chooses whichever layout is narrower). */
  if (v != 0 && (sci || fabs(v) < 0.01))
    snprintf(buf, IR_NUMBUF, "%.*e", IR_PREC_PAPER - 1, v);
  else
    snprintf(buf, IR_NUMBUF, "%.*g", IR_PREC_PAPER, v);
  /* %e keeps trailing zeros (1.000e-03); drop them, and a bare point. */
  char *e = strchr(buf, 'e');
  if (e != NULL && strchr(buf, '.') != NULL) {
    char *z = e;
    while (z[-1] == '0')
      z--;
    if (z[-1] == '.')
      z--;
    memmove(z, e, strlen(e) + 1);
  }
  return buf;
}

/* v in math mode as an S column would print it: 1.5e-07 as
 * 1.5\times10^{-7}, NaN and infinities by name. */
static void ir_tex_rnum(FILE *fp, double v) {
  char b[IR_NUMBUF];
  if (ir_snum(b, v, 0) == NULL) {
    fputs(isnan(v) ? "\\mathrm{NaN}" : v > 0 ? "\\infty" : "-\\infty", fp);
    return;
  }
  char *e = strchr(b, 'e');
  if (e == NULL) {
    fputs(b, fp);
    return;
  }
  *e = '\0';
  fprintf(fp, "%s\\times10^{%ld}", b, strtol(e + 1, NULL, 10));
}

static const char *ir_nonfinite_tex(double v) {
  return isnan(v) ? "{NaN}" : v > 0 ? "{$\\infty$}" : "{$-\\infty$}";
}

/* ---- width estimates -------------------------------------------------------- */

/* Text: 5 pt per character (Computer Modern's lower case and digits),
 * 7 pt for capitals. */
static double ir_text_width(const char *s) {
  double w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p & 0xC0) == 0x80)
      continue;
    w += (*p >= 'A' && *p <= 'Z') || *p >= 0x80 ? 7.0 : 5.0;
  }
  return w;
}

/* A wrapped column may break a line after these too: the "words" of a
 * source ("arXiv:1710.10345;", "docs/theory.md", "ir_igr_fit") are long. */
#define IR_TEX_BREAKS "/:;,=)_-"

/* Text in a wrapped column, with break points after IR_TEX_BREAKS: each
 * piece up to and including a break character is escaped whole. */
static void ir_tex_wrapped(FILE *fp, const char *s) {
  size_t n = strlen(s);
  char *buf = malloc(n + 1);
  if (buf == NULL) { /* no break points then, but the same text */
    ir_tex_text(fp, s);
    return;
  }
  const char *p = s;
  while (*p) {
    size_t k = strcspn(p, IR_TEX_BREAKS);
    if (p[k] != '\0')
      k++;
    memcpy(buf, p, k);
    buf[k] = '\0';
    ir_tex_text(fp, buf);
    p += k;
    if (*p != '\0' && *p != ' ' && strchr(IR_TEX_BREAKS, p[-1]) != NULL)
      fputs("\\allowbreak{}", fp);
  }
  free(buf);
}

/* The widest word of s, split at spaces and IR_TEX_BREAKS (a wrapped column
 * is no narrower). */
static double ir_word_width(const char *s) {
  double best = 0, w = 0;
  for (const unsigned char *p = (const unsigned char *)s;; p++) {
    if (*p == ' ' || *p == '\0' || strchr(IR_TEX_BREAKS, *p) != NULL) {
      if (*p != ' ' && *p != '\0')
        w += 5.0;
      if (w > best)
        best = w;
      w = 0;
      if (*p == '\0')
        break;
      continue;
    }
    if ((*p & 0xC0) == 0x80)
      continue;
    w += (*p >= 'A' && *p <= 'Z') || *p >= 0x80 ? 7.0 : 5.0;
  }
  return best;
}

/* A LaTeX header: font and sizing commands print nothing, any other
 * command one symbol; braces, $, ^ and _ nothing. */
static double ir_tex_width(const char *s) {
  static const char *const silent[] = {
      "mathrm", "text",  "textrm", "mathit", "mathbf", "mathsf",
      "mathcal", "operatorname", "left", "right", "big",  "Big",
      "bigl",   "bigr",  "Bigl",   "Bigr",  "rm",     "it",
      "bf",     "tfrac", "frac",   "dfrac", "textit", "emph", "textbf"};
  double w = 0;
  for (const char *p = s; *p;) {
    if (*p == '\\') {
      const char *q = p + 1;
      while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
        q++;
      if (q == p + 1) { /* \| \, \; ... */
        w += 5.0;
        p = *q ? q + 1 : q;
        continue;
      }
      int quiet = 0;
      for (size_t k = 0; k < sizeof silent / sizeof *silent; k++)
        if (strlen(silent[k]) == (size_t)(q - p - 1) &&
            strncmp(silent[k], p + 1, (size_t)(q - p - 1)) == 0)
          quiet = 1;
      if (!quiet)
        w += 7.0;
      p = q;
      continue;
    }
    if (strchr("{}$^_", *p) == NULL)
      w += (*p >= 'A' && *p <= 'Z') ? 7.0 : 5.0;
    p++;
  }
  return w;
}

/* ---- the writer ---------------------------------------------------------------- */

/* Column kinds: text, an S column, two S columns around \pm, or numbers
 * right-aligned in math (a table whose rows are unrelated quantities, such
 * as the checks, gains nothing from aligned decimal points, and an S column
 * reserves the widest layout of any row for every row). */
enum { IR_K_TEXT, IR_K_NUM, IR_K_MEANSTD, IR_K_RNUM };

typedef struct {
  int col, kind;
  ir_numfmt f, fsd; /* numbers; fsd: the std of a MEANSTD column */
  double head, body; /* widths (pt at 10 pt) of the header and the cells */
  double word;       /* the widest word of a text column's cells */
  int sci, scisd;    /* every number in exponent form (mean, std) */
  double wrap;       /* > 0: a wrapped text column this many pt wide */
} ir_tcol;

/* Points of an article's \textwidth at 10 pt; a table may use 98% of it. */
static const double ir_textwidth = 345.0;

typedef struct {
  double scale;
  double sep; /* \tabcolsep in pt */
  const char *cmd;
} ir_tsize;

/* scale: a digit's width relative to 10 pt (cmr9, cmr8 and cmr7 are
 * relatively wider than cmr10: 4.63, 4.25 and 3.98 pt). */
static const ir_tsize ir_tsizes[] = {{1.0, 6, NULL},
                                     {0.93, 6, "\\small"},
                                     {0.85, 5, "\\footnotesize"},
                                     {0.85, 4, "\\footnotesize"},
                                     {0.8, 3, "\\scriptsize"}};

/* Rows shown: all, or m evenly spaced ones with the first and last. */
static size_t ir_shown_row(size_t k, size_t m, size_t n) {
  if (m >= n)
    return k;
  if (m <= 1)
    return 0;
  return (size_t)floor((double)k * (double)(n - 1) / (double)(m - 1) + 0.5);
}

static void ir_tex_header(FILE *fp, const ir_table *t, const ir_tcol *c) {
  const ir_col *k = &t->cols[c->col];
  if (c->kind == IR_K_MEANSTD)
    fputs("\\multicolumn{2}{c}{", fp);
  else if (c->kind == IR_K_NUM)
    fputc('{', fp);
  if (k->tex != NULL)
    fputs(k->tex, fp);
  else
    ir_tex_text(fp, k->name);
  if (c->kind == IR_K_NUM || c->kind == IR_K_MEANSTD)
    fputc('}', fp);
}

static void ir_tex_num_cell(FILE *fp, double v, int sci) {
  char b[IR_NUMBUF];
  if (ir_snum(b, v, sci) == NULL) {
    fputs(ir_nonfinite_tex(v), fp);
    return;
  }
  ir_numfmt dummy = {0}; /* rewrites the exponent as e-3, not e-03 */
  ir_numfmt_add(&dummy, b);
  fputs(b, fp);
}

/* Whether any header needs amsmath (\text and friends) or amssymb. */
static int ir_headers_use(const ir_table *t, const ir_tcol *c, size_t n,
                          const char *const *cmds) {
  for (size_t i = 0; i < n; i++) {
    const char *h = t->cols[c[i].col].tex;
    if (h == NULL)
      continue;
    for (const char *const *k = cmds; *k; k++) {
      const char *p = h;
      size_t l = strlen(*k);
      while ((p = strstr(p, *k)) != NULL) {
        char next = p[l];
        if (!((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z')))
          return 1;
        p += l;
      }
    }
  }
  return 0;
}

/* The label's folder part: dir's last component, in label-safe letters. */
static void ir_tex_folder(const char *dir, char *buf, size_t cap) {
  char *real = realpath(dir, NULL);
  const char *d = real ? real : dir;
  size_t l = strlen(d);
  while (l > 1 && d[l - 1] == '/')
    l--;
  size_t b = l;
  while (b > 0 && d[b - 1] != '/')
    b--;
  /* A run's staging folder: the label is the folder it is published in. */
  const size_t sl = strlen(IR_OUTDIR_STAGE);
  if (l - b == sl && strncmp(d + b, IR_OUTDIR_STAGE, sl) == 0 && b > 1) {
    l = b - 1;
    while (l > 1 && d[l - 1] == '/')
      l--;
    b = l;
    while (b > 0 && d[b - 1] != '/')
      b--;
  }
  size_t k = 0;
  for (size_t i = b; i < l && k + 1 < cap; i++) {
    char c = d[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-';
    buf[k++] = ok ? c : '-';
  }
  if (k == 0 && cap > 4) {
    strcpy(buf, "run");
    k = 3;
  }
  buf[k] = '\0';
  free(real);
}

static void ir_table_tex(const ir_table *t, const char *folder, FILE *fp,
                         ir_tcol *c, size_t nc) {
  size_t n = t->nrows;
  size_t m = t->paper_rows > 0 && n > t->paper_rows ? t->paper_rows : n;
  char b[IR_NUMBUF];

  /* Widths of every column from the cells the paper shows. */
  for (size_t i = 0; i < nc; i++) {
    ir_tcol *k = &c[i];
    k->head = k->kind == IR_K_TEXT || t->cols[k->col].tex == NULL
                  ? (t->cols[k->col].tex ? ir_tex_width(t->cols[k->col].tex)
                                         : ir_text_width(t->cols[k->col].name))
                  : ir_tex_width(t->cols[k->col].tex);
    double other = 0; /* braced NaN/inf cells */
    ir_numfmt fs = {0}, fsds = {0}; /* the layouts in exponent form */
    for (size_t r = 0; r < m; r++) {
      const ir_cell *x = ir_cell_at(t, ir_shown_row(r, m, n), (size_t)k->col);
      if (x == NULL)
        continue;
      if (k->kind == IR_K_TEXT) {
        double w = ir_text_width(x->s);
        if (w > k->body)
          k->body = w;
        w = ir_word_width(x->s);
        if (w > k->word)
          k->word = w;
        continue;
      }
      if (t->cols[k->col].type == IR_COL_INT) {
        snprintf(b, sizeof b, "%ld", x->i);
        ir_numfmt_add(&k->f, b);
        continue;
      }
      if (k->kind == IR_K_RNUM) {
        ir_numfmt one = {0};
        double w = 20;
        if (ir_snum(b, x->v, 0) != NULL) {
          ir_numfmt_add(&one, b);
          w = ir_numfmt_width(&one);
        }
        if (w > other)
          other = w;
        continue;
      }
      if (ir_snum(b, x->v, 0) != NULL) {
        ir_numfmt_add(&k->f, b);
        ir_snum(b, x->v, 1);
        ir_numfmt_add(&fs, b);
      } else if (other < 20) {
        other = 20;
      }
      if (k->kind == IR_K_MEANSTD) {
        if (ir_snum(b, x->sd, 0) != NULL) {
          ir_numfmt_add(&k->fsd, b);
          ir_snum(b, x->sd, 1);
          ir_numfmt_add(&fsds, b);
        } else if (other < 20) {
          other = 20;
        }
      }
    }
    int dbl = t->cols[k->col].type != IR_COL_INT;
    if (dbl && ir_numfmt_width(&fs) < ir_numfmt_width(&k->f)) {
      k->f = fs;
      k->sci = 1;
    }
    if (dbl && ir_numfmt_width(&fsds) < ir_numfmt_width(&k->fsd)) {
      k->fsd = fsds;
      k->scisd = 1;
    }
    if (k->kind == IR_K_NUM)
      k->body = fmax(ir_numfmt_width(&k->f), other);
    else if (k->kind == IR_K_RNUM)
      k->body = other;
    else if (k->kind == IR_K_MEANSTD)
      k->body = ir_numfmt_width(&k->f) + 14.0 + ir_numfmt_width(&k->fsd) +
                other;
  }

  /* The largest size at which the table fits, wrapping long text columns
   * (wider than 60 pt) into paragraphs when that is what it takes. */
  const double avail = 0.98 * ir_textwidth;
  const ir_tsize *size = NULL;
  int shrink = 0;
  for (size_t z = 0; z < sizeof ir_tsizes / sizeof *ir_tsizes; z++) {
    const ir_tsize *s = &ir_tsizes[z];
    double fixed = 0, wrapnat = 0;
    size_t nwrap = 0;
    for (size_t i = 0; i < nc; i++) {
      double pad = 2 * s->sep;
      double nat = fmax(c[i].head, c[i].body) * s->scale;
      c[i].wrap = 0;
      if (c[i].kind == IR_K_TEXT && nat > 60.0) {
        wrapnat += nat;
        nwrap++;
        fixed += pad;
      } else {
        fixed += pad + nat;
      }
    }
    if (fixed + wrapnat <= avail) {
      size = s;
      break;
    }
    /* Wrapped columns: no narrower than 60 pt nor than their widest word
     * (which cannot break); the rest of the room shared in proportion to
     * the natural widths. */
    double room = avail - fixed, need = 0;
    for (size_t i = 0; i < nc; i++)
      if (c[i].kind == IR_K_TEXT &&
          fmax(c[i].head, c[i].body) * s->scale > 60.0)
        need += fmax(60.0, fmax(c[i].word, c[i].head) * s->scale + 2.0);
    if (nwrap > 0 && room >= need) {
      double spare = room - need, tot = 0;
      for (size_t i = 0; i < nc; i++) {
        double nat = fmax(c[i].head, c[i].body) * s->scale;
        if (c[i].kind == IR_K_TEXT && nat > 60.0) {
          double min = fmax(60.0, fmax(c[i].word, c[i].head) * s->scale + 2.0);
          c[i].wrap = min + spare * nat / wrapnat;
          if (c[i].wrap > nat)
            c[i].wrap = nat;
          tot += c[i].wrap;
        }
      }
      (void)tot;
      size = s;
      break;
    }
  }
  /* Lines the rows take, wrapped cells counted by their lines: more than
   * a float holds on a page makes a longtable. */
  double lines = 0;
  for (size_t r = 0; r < m; r++) {
    double most = 1;
    for (size_t i = 0; size != NULL && i < nc; i++) {
      const ir_cell *x;
      if (c[i].wrap > 0 &&
          (x = ir_cell_at(t, ir_shown_row(r, m, n), (size_t)c[i].col)) != NULL)
        most = fmax(most, ceil(1.1 * ir_text_width(x->s) * size->scale /
                               c[i].wrap));
    }
    lines += most;
  }
  int longtab = lines > IR_TEX_ROWS;
  if (size == NULL) {
    /* Too wide at every size: the smallest one, and a float is scaled
     * down to the text width (a longtable cannot be). */
    size = &ir_tsizes[sizeof ir_tsizes / sizeof *ir_tsizes - 1];
    shrink = !longtab;
  }
  int any_s = 0, any_p = 0;
  for (size_t i = 0; i < nc; i++) {
    any_s |= c[i].kind == IR_K_NUM || c[i].kind == IR_K_MEANSTD;
    any_p |= c[i].wrap > 0;
  }
  static const char *const ams[] = {"\\text", "\\tfrac", "\\dfrac",
                                     "\\operatorname", "\\tbinom", NULL};
  static const char *const amssym[] = {"\\mathbb", "\\lesssim", "\\gtrsim",
                                       NULL};

  fputs("% implreg table; needs booktabs", fp);
  if (any_s)
    fputs(", siunitx", fp);
  if (any_p)
    fputs(", array", fp);
  if (longtab)
    fputs(", longtable", fp);
  if (shrink)
    fputs(", graphicx", fp);
  if (ir_headers_use(t, c, nc, ams))
    fputs(", amsmath", fp);
  if (ir_headers_use(t, c, nc, amssym))
    fputs(", amssymb", fp);
  fprintf(fp, "\n%% Written from %s.csv, which has every column and row.\n",
          t->name);

  if (longtab)
    fputs("\\begingroup\n", fp);
  else
    fputs("\\begin{table}[htbp]\n\\centering\n", fp);
  if (size->cmd)
    fprintf(fp, "%s\n", size->cmd);
  /* siunitx would group decimals in threes (0.020 64): not in a table. */
  if (any_s)
    fputs("\\sisetup{group-digits=integer}\n", fp);
  if (size->sep != 6)
    fprintf(fp, "\\setlength{\\tabcolsep}{%gpt}\n", size->sep);

  /* Column specification. */
  char spec[4096];
  size_t sl = 0;
  spec[0] = '\0';
  for (size_t i = 0; i < nc && sl + 128 < sizeof spec; i++) {
    char f1[32], f2[32];
    switch (c[i].kind) {
    case IR_K_TEXT:
      if (c[i].wrap > 0)
        sl += (size_t)snprintf(spec + sl, sizeof spec - sl,
                               ">{\\raggedright\\arraybackslash}p{%.3f\\linewidth}",
                               c[i].wrap / ir_textwidth);
      else
        spec[sl++] = 'l', spec[sl] = '\0';
      break;
    case IR_K_RNUM: spec[sl++] = 'r', spec[sl] = '\0'; break;
    case IR_K_NUM:
      ir_numfmt_spec(&c[i].f, f1, sizeof f1);
      sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "S[table-format=%s]",
                             f1);
      break;
    default:
      ir_numfmt_spec(&c[i].f, f1, sizeof f1);
      ir_numfmt_spec(&c[i].fsd, f2, sizeof f2);
      sl += (size_t)snprintf(spec + sl, sizeof spec - sl,
                             "S[table-format=%s]@{\\,\\(\\pm\\)\\,}"
                             "S[table-format=%s]",
                             f1, f2);
    }
  }
  size_t span = 0;
  for (size_t i = 0; i < nc; i++)
    span += c[i].kind == IR_K_MEANSTD ? 2 : 1;

  const char *cap = t->caption[0] != '\0' ? t->caption : t->name;
  char cut[400] = "";
  if (m < n)
    snprintf(cut, sizeof cut,
             "%zu of the %zu rows, evenly spaced (first and last kept); "
             "every row is in %s.csv.",
             m, n, t->name);

  if (longtab) {
    fprintf(fp, "\\begin{longtable}{%s}\n\\caption[", spec);
    ir_tex_text(fp, cap);
    fputs("]{", fp);
    ir_tex_text(fp, cap);
    for (size_t k = 0; k < t->nnotes; k++) {
      fputs(" \\emph{", fp);
      ir_tex_text(fp, t->notes[k]);
      fputc('}', fp);
    }
    fprintf(fp, "}\\label{tab:%s-%s}\\\\\n", folder, t->name);
  } else {
    fputs("\\caption{", fp);
    ir_tex_text(fp, cap);
    fprintf(fp, "}\n\\label{tab:%s-%s}\n", folder, t->name);
    for (size_t k = 0; k < t->nnotes; k++) {
      fputs("{\\footnotesize\\itshape ", fp);
      ir_tex_text(fp, t->notes[k]);
      fputs("\\par}\n", fp);
    }
    if (cut[0] != '\0') {
      fputs("{\\footnotesize\\itshape ", fp);
      ir_tex_text(fp, cut);
      fputs("\\par}\n", fp);
    }
    if (t->nnotes > 0 || cut[0] != '\0')
      fputs("\\smallskip\n", fp);
    if (shrink)
      fputs("\\resizebox{\\linewidth}{!}{%\n", fp);
    fprintf(fp, "\\begin{tabular}{%s}\n", spec);
  }

  /* Header (repeated on every page of a longtable). */
  for (int rep = 0; rep < (longtab ? 2 : 1); rep++) {
    fputs("\\toprule\n", fp);
    for (size_t i = 0; i < nc; i++) {
      if (i > 0)
        fputs(" & ", fp);
      ir_tex_header(fp, t, &c[i]);
    }
    fputs(" \\\\\n\\midrule\n", fp);
    if (longtab)
      fputs(rep == 0 ? "\\endfirsthead\n" : "\\endhead\n", fp);
  }
  if (longtab)
    fprintf(fp,
            "\\midrule\n\\multicolumn{%zu}{r}{\\footnotesize continued on "
            "the next page}\\\\\n\\endfoot\n\\bottomrule\n\\endlastfoot\n",
            span);

  for (size_t r = 0; r < m; r++) {
    size_t row = ir_shown_row(r, m, n);
    for (size_t i = 0; i < nc; i++) {
      if (i > 0)
        fputs(" & ", fp);
      const ir_cell *x = ir_cell_at(t, row, (size_t)c[i].col);
      if (c[i].kind == IR_K_MEANSTD && x == NULL) {
        fputs(" & ", fp);
        continue;
      }
      if (x == NULL)
        continue;
      switch (c[i].kind) {
      case IR_K_TEXT: {
        /* A row starting with "[" would be read as \\[length]. */
        const char *txt = x->s;
        if (txt[0] == '[') {
          fputs("{[}", fp);
          txt++;
        }
        if (c[i].wrap > 0)
          ir_tex_wrapped(fp, txt);
        else
          ir_tex_text(fp, txt);
        break;
      }
      case IR_K_RNUM:
        fputc('$', fp);
        if (t->cols[c[i].col].type == IR_COL_INT)
          fprintf(fp, "%ld", x->i);
        else
          ir_tex_rnum(fp, x->v);
        fputc('$', fp);
        break;
      case IR_K_NUM:
        if (t->cols[c[i].col].type == IR_COL_INT)
          fprintf(fp, "%ld", x->i);
        else
          ir_tex_num_cell(fp, x->v, c[i].sci);
        break;
      default:
        ir_tex_num_cell(fp, x->v, c[i].sci);
        fputs(" & ", fp);
        ir_tex_num_cell(fp, x->sd, c[i].scisd);
      }
    }
    fputs(" \\\\\n", fp);
  }
  if (longtab) {
    fputs("\\end{longtable}\n", fp);
    if (cut[0] != '\0') {
      fputs("{\\footnotesize\\itshape ", fp);
      ir_tex_text(fp, cut);
      fputs("\\par}\n", fp);
    }
    fputs("\\endgroup\n", fp);
  } else {
    fputs("\\bottomrule\n\\end{tabular}\n", fp);
    if (shrink)
      fputs("}\n", fp);
    fputs("\\end{table}\n", fp);
  }
}

int ir_table_write_tex(const ir_table *t, const char *dir, const char *base) {
  size_t nc = t->paper ? t->npaper : t->ncols;
  ir_tcol *c = calloc(nc + 1, sizeof *c);
  char *path = ir_join(dir, base ? base : t->name, "tex");
  if (c == NULL || path == NULL) {
    free(c);
    free(path);
    return ir_error(IR_ENOMEM, "no memory for %s.tex", t->name);
  }
  for (size_t i = 0; i < nc; i++) {
    c[i].col = t->paper ? t->paper[i] : (int)i;
    int type = t->cols[c[i].col].type;
    c[i].kind = type == IR_COL_STRING    ? IR_K_TEXT
                : type == IR_COL_MEANSTD ? IR_K_MEANSTD
                : t->tex_rnum            ? IR_K_RNUM
                                         : IR_K_NUM;
  }
  char folder[256];
  ir_tex_folder(dir, folder, sizeof folder);
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s == IR_OK) {
    ir_table_tex(t, folder, f.fp, c, nc);
    s = ir_atomic_commit(&f);
  }
  free(path);
  free(c);
  return s;
}
