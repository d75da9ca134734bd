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

/* The non-ASCII characters implreg's captions and notes use, as LaTeX that
 * a plain article (utf8 input, OT1 fonts) typesets; pdflatex stops with an
 * error on a Unicode character it has no definition for. */
static const struct {
  unsigned cp;
  const char *tex;
} ir_tex_unicode[] = {
    {0x00A7, "\\S{}"},
    {0x00B1, "\\ensuremath{\\pm}"},
    {0x00B2, "\\textsuperscript{2}"},
    {0x00B3, "\\textsuperscript{3}"},
    {0x00B7, "\\ensuremath{\\cdot}"},
    {0x00BD, "\\ensuremath{\\frac{1}{2}}"},
    {0x00D7, "\\ensuremath{\\times}"},
    {0x0393, "\\ensuremath{\\Gamma}"},
    {0x0394, "\\ensuremath{\\Delta}"},
    {0x039B, "\\ensuremath{\\Lambda}"},
    {0x03A3, "\\ensuremath{\\Sigma}"},
    {0x03A6, "\\ensuremath{\\Phi}"},
    {0x03A8, "\\ensuremath{\\Psi}"},
    {0x03A9, "\\ensuremath{\\Omega}"},
    {0x03B1, "\\ensuremath{\\alpha}"},
    {0x03B2, "\\ensuremath{\\beta}"},
    {0x03B3, "\\ensuremath{\\gamma}"},
    {0x03B4, "\\ensuremath{\\delta}"},
    {0x03B5, "\\ensuremath{\\varepsilon}"},
    {0x03B6, "\\ensuremath{\\zeta}"},
    {0x03B7, "\\ensuremath{\\eta}"},
    {0x03B8, "\\ensuremath{\\theta}"},
    {0x03BA, "\\ensuremath{\\kappa}"},
    {0x03BB, "\\ensuremath{\\lambda}"},
    {0x03BC, "\\ensuremath{\\mu}"},
    {0x03BD, "\\ensuremath{\\nu}"},
    {0x03BE, "\\ensuremath{\\xi}"},
    {0x03C0, "\\ensuremath{\\pi}"},
    {0x03C1, "\\ensuremath{\\rho}"},
    {0x03C3, "\\ensuremath{\\sigma}"},
    {0x03C4, "\\ensuremath{\\tau}"},
    {0x03C6, "\\ensuremath{\\varphi}"},
    {0x03C7, "\\ensuremath{\\chi}"},
    {0x03C8, "\\ensuremath{\\psi}"},
    {0x03C9, "\\ensuremath{\\omega}"},
    {0x1D40, "\\ensuremath{^{\\top}}"},
    {0x2013, "--"},
    {0x2014, "---"},
    {0x2016, "\\ensuremath{\\|}"},
    {0x2026, "\\dots{}"},
    {0x2070, "\\textsuperscript{0}"},
    {0x2074, "\\textsuperscript{4}"},
    {0x2075, "\\textsuperscript{5}"},
    {0x2076, "\\textsuperscript{6}"},
    {0x207A, "\\ensuremath{^{+}}"},
    {0x207B, "\\ensuremath{^{-}}"},
    {0x2080, "\\ensuremath{_{0}}"},
    {0x2081, "\\ensuremath{_{1}}"},
    {0x2082, "\\ensuremath{_{2}}"},
    {0x2113, "\\ensuremath{\\ell}"},
    {0x2190, "\\ensuremath{\\leftarrow}"},
    {0x2192, "\\ensuremath{\\to}"},
    {0x2202, "\\ensuremath{\\partial}"},
    {0x2207, "\\ensuremath{\\nabla}"},
    {0x2212, "\\ensuremath{-}"},
    {0x221A, "\\ensuremath{\\surd}"},
    {0x221E, "\\ensuremath{\\infty}"},
    {0x2248, "\\ensuremath{\\approx}"},
    {0x2260, "\\ensuremath{\\neq}"},
    {0x2264, "\\ensuremath{\\leq}"},
    {0x2265, "\\ensuremath{\\geq}"},
    {0x2299, "\\ensuremath{\\odot}"},
    {0x2308, "\\ensuremath{\\lceil}"},
    {0x2309, "\\ensuremath{\\rceil}"},
    {0x230A, "\\ensuremath{\\lfloor}"},
    {0x230B, "\\ensuremath{\\rfloor}"},
    {0x27E8, "\\ensuremath{\\langle}"},
    {0x27E9, "\\ensuremath{\\rangle}"},
};

/* Decodes one UTF-8 code point at p; *len gets its length (1 for a stray
 * byte, which decodes as U+FFFD). */
static unsigned ir_utf8_next(const unsigned char *p, size_t *len) {
  unsigned c = p[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4 : 0;
  if (n == 0) {
    *len = 1;
    return 0xFFFD;
  }
  unsigned v = n == 1 ? c : c & (0x7Fu >> n);
  for (size_t k = 1; k < n; k++) {
    if ((p[k] & 0xC0) != 0x80) {
      *len = 1;
      return 0xFFFD;
    }
    v = (v << 6) | (p[k] & 0x3Fu);
  }
  *len = n;
  return v;
}

/* Escapes LaTeX's special characters so that s prints literally in text
 * mode, in any font encoding: "|", "<" and ">" would print as other glyphs
 * in OT1, so they become commands too, and "||" (a norm in a note) prints
 * as \|.  Non-ASCII characters are mapped by the table above; combining
 * accents are dropped and any other character prints as "?" rather than
 * stop pdflatex.  Line breaks become spaces. */
void ir_tex_text(FILE *fp, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p >= 0x80) {
      size_t n;
      unsigned cp = ir_utf8_next(p, &n);
      p += n;
      if (cp >= 0x0300 && cp <= 0x036F)
        continue;
      const char *tex = "?";
      for (size_t k = 0; k < sizeof ir_tex_unicode / sizeof *ir_tex_unicode;
           k++)
        if (ir_tex_unicode[k].cp == cp)
          tex = ir_tex_unicode[k].tex;
      fputs(tex, fp);
      continue;
    }
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
    case '<': fputs("\\textless{}", fp); break;
    case '>': fputs("\\textgreater{}", fp); break;
    case '|':
      if (p[1] == '|') {
        fputs("\\ensuremath{\\|}", fp);
        p++;
      } else {
        fputs("\\textbar{}", fp);
      }
      break;
    case '\n':
    case '\r':
    case '\t': fputc(' ', fp); break;
    default: fputc(*p < 0x20 ? ' ' : *p, fp);
    }
    p++;
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
