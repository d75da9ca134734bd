/* report_format.c — the output-format list and the small text helpers every
 * writer shares: numbers with a chosen precision, file names, paths, and the
 * escaping of text for CSV, Markdown and LaTeX.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------- */

char *ir_strdup0(const char *s) {
  if (s == NULL)
    s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

/* Grows an array of `size`-byte elements to hold at least `need` of them;
 * returns the (possibly moved) array, or NULL with p and *cap unchanged. */
void *ir_grow(void *p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return p;
  size_t nc = *cap ? *cap : 8;
  while (nc < need) {
    if (nc > SIZE_MAX / 2)
      return NULL;
    nc *= 2;
  }
  if (nc > SIZE_MAX / size)
    return NULL;
  void *q = realloc(p, nc * size);
  if (q == NULL)
    return NULL;
  *cap = nc;
  return q;
}

/* File base names end up in shell-free gnuplot scripts and in paths: keep
 * them to a portable character set and forbid hidden or relative names. */
int ir_valid_name(const char *s) {
  if (s == NULL || s[0] == '\0' || s[0] == '.')
    return 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
             c == '+';
    if (!ok)
      return 0;
  }
  return 1;
}

/* "dir/base.ext" (ext may be NULL), malloc'ed; NULL on no memory. */
char *ir_join(const char *dir, const char *base, const char *ext) {
  size_t ld = strlen(dir), lb = strlen(base), le = ext ? strlen(ext) : 0;
  char *p = malloc(ld + lb + le + 3);
  if (p == NULL)
    return NULL;
  size_t k = 0;
  memcpy(p, dir, ld);
  k = ld;
  if (ld > 0 && dir[ld - 1] != '/')
    p[k++] = '/';
  memcpy(p + k, base, lb);
  k += lb;
  if (ext != NULL) {
    p[k++] = '.';
    memcpy(p + k, ext, le);
    k += le;
  }
  p[k] = '\0';
  return p;
}

/* v with `prec` significant digits, or inf/-inf/nan (glibc would print
 * "-nan" for some NaNs; one spelling is easier to parse). */
const char *ir_num(char *buf, int prec, double v) {
  if (isnan(v))
    return "nan";
  if (isinf(v))
    return v > 0 ? "inf" : "-inf";
  snprintf(buf, IR_NUMBUF, "%.*g", prec, v);
  return buf;
}

/* Display width of UTF-8 text in a fixed-width terminal: one column per code
 * point (continuation bytes 10xxxxxx do not count). */
size_t ir_utf8_width(const char *s) {
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80)
      w++;
  return w;
}

void ir_pad(FILE *fp, size_t n) {
  while (n-- > 0)
    fputc(' ', fp);
}

/* Text on one terminal line: control characters become spaces. */
void ir_put_line_text(FILE *fp, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(*p < 0x20 ? ' ' : *p, fp);
}

int ir_stream_status(FILE *fp, const char *what) {
  if (ferror(fp))
    return ir_error(IR_EIO, "%s: write error on the output stream", what);
  return IR_OK;
}

/* ---- formats ------------------------------------------------------------- */

static int ir_word_eq(const char *w, size_t n, const char *lit) {
  return strlen(lit) == n && strncmp(w, lit, n) == 0;
}

int ir_report_parse_formats(const char *list, int *mask) {
  if (list == NULL || mask == NULL)
    return ir_error(IR_EINVAL, "ir_report_parse_formats: NULL argument");
  int m = 0;
  const char *p = list;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t')
      p++;
    const char *w = p;
    while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
      p++;
    size_t n = (size_t)(p - w);
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != '\0' && *p != ',') {
      /* Two words without a comma between them, e.g. "csv md". */
      const char *e = p;
      while (*e != '\0' && *e != ',')
        e++;
      return ir_error(IR_EINVAL,
                      "unknown format '%.*s' (expected csv, md, tex, json or "
                      "all)",
                      (int)(e - w), w);
    }
    if (*p == ',')
      p++;
    if (n == 0)
      continue;
    if (ir_word_eq(w, n, "csv"))
      m |= IR_FMT_CSV;
    else if (ir_word_eq(w, n, "md"))
      m |= IR_FMT_MD;
    else if (ir_word_eq(w, n, "tex"))
      m |= IR_FMT_TEX;
    else if (ir_word_eq(w, n, "json"))
      m |= IR_FMT_JSON;
    else if (ir_word_eq(w, n, "all"))
      m |= IR_FMT_ALL;
    else
      return ir_error(IR_EINVAL,
                      "unknown format '%.*s' (expected csv, md, tex, json or "
                      "all)",
                      (int)n, w);
  }
  if (m == 0)
    return ir_error(IR_EINVAL,
                    "empty format list '%s' (expected csv, md, "
                    "tex, json or all)",
                    list);
  *mask = m;
  return IR_OK;
}

/* ---- escaping ------------------------------------------------------------ */

/* Writes s followed by suffix as one field, quoted only when it contains a
 * comma, a double quote or a line break (quotes doubled inside). */
void ir_csv_field(FILE *fp, const char *s, const char *suffix) {
  int q = strpbrk(s, ",\"\r\n") != NULL || strpbrk(suffix, ",\"\r\n") != NULL;
  if (!q) {
    fputs(s, fp);
    fputs(suffix, fp);
    return;
  }
  fputc('"', fp);
  for (int part = 0; part < 2; part++)
    for (const char *p = part ? suffix : s; *p; p++) {
      if (*p == '"')
        fputc('"', fp);
      fputc(*p, fp);
    }
  fputc('"', fp);
}

/* Backslash-escapes the characters that would start emphasis, code, links
 * or HTML, or end a table cell (CommonMark allows escaping any ASCII
 * punctuation); line breaks become spaces so a cell stays on its line. */
void ir_md_text(FILE *fp, const char *s) {
  for (const char *p = s; *p; p++) {
    if (strchr("\\`*_|[]<>", *p) != NULL)
      fputc('\\', fp);
    fputc(*p == '\n' || *p == '\r' ? ' ' : *p, fp);
  }
}

/* Escapes LaTeX's special characters so that s prints literally in text
 * mode; line breaks become spaces. */
void ir_tex_text(FILE *fp, const char *s) {
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '_': fputs("\\_", fp); break;
    case '%': fputs("\\%", fp); break;
    case '&': fputs("\\&", fp); break;
    case '#': fputs("\\#", fp); break;
    case '$': fputs("\\$", fp); break;
    case '{': fputs("\\{", fp); break;
    case '}': fputs("\\}", fp); break;
    case '~': fputs("\\textasciitilde{}", fp); break;
    case '^': fputs("\\textasciicircum{}", fp); break;
    case '\\': fputs("\\textbackslash{}", fp); break;
    case '\n':
    case '\r': fputc(' ', fp); break;
    default: fputc(*p, fp);
    }
  }
}

/* v in math mode (without the dollars): %.4g, with "1.5e-07" rendered as
 * 1.5 \times 10^{-7}. */
void ir_tex_num(FILE *fp, double v) {
  if (isnan(v)) {
    fputs("\\mathrm{NaN}", fp);
    return;
  }
  if (isinf(v)) {
    fputs(v > 0 ? "\\infty" : "-\\infty", fp);
    return;
  }
  char b[IR_NUMBUF];
  snprintf(b, sizeof b, "%.*g", IR_PREC_PAPER, v);
  char *e = strchr(b, 'e');
  if (e == NULL) {
    fputs(b, fp);
    return;
  }
  *e = '\0';
  long k = strtol(e + 1, NULL, 10);
  if (strcmp(b, "1") == 0)
    fprintf(fp, "10^{%ld}", k);
  else if (strcmp(b, "-1") == 0)
    fprintf(fp, "-10^{%ld}", k);
  else
    fprintf(fp, "%s \\times 10^{%ld}", b, k);
}
