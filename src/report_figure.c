/* report_figure.c — gnuplot figures: the data (.dat), the script (.gp), and
 * the PNG/PDF gnuplot renders from them under temporary names.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- figures ------------------------------------------------------------- */

typedef struct {
  char *label, *style;
  double *x, *y;
  double *e; /* standard errors (error bars or a band), or NULL */
  size_t m;
} ir_series;

typedef struct {
  double x;
  char *label;
} ir_vline;

struct ir_figure {
  char *name, *title, *xlabel, *ylabel;
  int logx, logy;
  char key[32]; /* gnuplot key position, e.g. "top right" */
  ir_series *s;
  size_t ns, cs;
  ir_vline *v;
  size_t nv, cv;
  /* A map z(x_i, y_j) drawn as a heat map with contour lines instead of
   * series (ir_figure_set_map); mz NULL when none. */
  double *mx, *my, *mz;
  size_t mnx, mny;
  int mlogz;
  char *mzlabel;
};

ir_figure *ir_figure_alloc(const char *name, const char *title,
                           const char *xlabel, const char *ylabel) {
  if (!ir_valid_name(name)) {
    ir_error(IR_EINVAL,
             "ir_figure_alloc: figure name '%s' is not a plain file base name "
             "(letters, digits, '_', '-', '.', '+')",
             name ? name : "(null)");
    return NULL;
  }
  ir_figure *f = calloc(1, sizeof *f);
  if (f != NULL)
    snprintf(f->key, sizeof f->key, "below");
  if (f == NULL) {
    ir_error(IR_ENOMEM, "ir_figure_alloc: no memory for figure %s", name);
    return NULL;
  }
  f->name = ir_strdup0(name);
  f->title = ir_strdup0(title);
  f->xlabel = ir_strdup0(xlabel);
  f->ylabel = ir_strdup0(ylabel);
  if (!f->name || !f->title || !f->xlabel || !f->ylabel) {
    ir_figure_free(f);
    ir_error(IR_ENOMEM, "ir_figure_alloc: no memory for figure %s", name);
    return NULL;
  }
  return f;
}

void ir_figure_free(ir_figure *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->ns; i++) {
    free(f->s[i].label);
    free(f->s[i].style);
    free(f->s[i].x);
  }
  free(f->s);
  for (size_t i = 0; i < f->nv; i++)
    free(f->v[i].label);
  free(f->v);
  free(f->mx);
  free(f->my);
  free(f->mz);
  free(f->mzlabel);
  free(f->name);
  free(f->title);
  free(f->xlabel);
  free(f->ylabel);
  free(f);
}

int ir_figure_set_log(ir_figure *f, int logx, int logy) {
  if (f == NULL)
    return ir_error(IR_EINVAL, "ir_figure_set_log: NULL figure");
  f->logx = logx != 0;
  f->logy = logy != 0;
  return IR_OK;
}

int ir_figure_set_key(ir_figure *f, const char *position) {
  static const char *const allowed[] = {
      "below",       "top right", "top left", "bottom right",
      "bottom left", "outside",   "off"};
  if (f == NULL || position == NULL)
    return ir_error(IR_EINVAL, "ir_figure_set_key: NULL argument");
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    if (strcmp(position, allowed[i]) == 0) {
      snprintf(f->key, sizeof f->key, "%s", position);
      return IR_OK;
    }
  return ir_error(IR_EINVAL, "ir_figure_set_key: unknown position '%s'",
                  position);
}

int ir_figure_add_series(ir_figure *f, const char *label, const double *x,
                         const double *y, size_t m, const char *style) {
  return ir_figure_add_series_err(f, label, x, y, NULL, m, style);
}

int ir_figure_add_series_err(ir_figure *f, const char *label, const double *x,
                             const double *y, const double *err, size_t m,
                             const char *style) {
  if (f == NULL || (m > 0 && (x == NULL || y == NULL)))
    return ir_error(IR_EINVAL, "ir_figure_add_series: NULL figure or data");
  if (style == NULL || style[0] == '\0')
    style = "lines";
  /* The style is pasted into the script after "with": refuse anything that
   * could end the command or open a string. */
  if (strpbrk(style, "\"'\\;#\n\r`") != NULL)
    return ir_error(IR_EINVAL,
                    "ir_figure_add_series: style '%s' of figure "
                    "%s is not a plain gnuplot style",
                    style, f->name);
  if (m > SIZE_MAX / (3 * sizeof(double)))
    return ir_error(IR_ENOMEM, "ir_figure_add_series: %zu points", m);
  ir_series *s = ir_grow(f->s, &f->cs, f->ns + 1, sizeof *s);
  if (s == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_series: no memory (figure %s)",
                    f->name);
  f->s = s;
  ir_series *k = &s[f->ns];
  k->label = ir_strdup0(label);
  k->style = ir_strdup0(style);
  size_t cols = err != NULL ? 3 : 2;
  k->x = malloc((m > 0 ? cols * m : 1) * sizeof(double));
  if (!k->label || !k->style || !k->x) {
    free(k->label);
    free(k->style);
    free(k->x);
    return ir_error(IR_ENOMEM,
                    "ir_figure_add_series: no memory for %zu "
                    "points (figure %s)",
                    m, f->name);
  }
  k->y = k->x + m;
  k->e = err != NULL ? k->x + 2 * m : NULL;
  if (m > 0) {
    memcpy(k->x, x, m * sizeof(double));
    memcpy(k->y, y, m * sizeof(double));
  }
  /* A missing or meaningless error is drawn as none. */
  for (size_t i = 0; k->e != NULL && i < m; i++)
    k->e[i] = isfinite(err[i]) && err[i] > 0 ? err[i] : 0.0;
  k->m = m;
  f->ns++;
  return IR_OK;
}

int ir_figure_add_vline(ir_figure *f, double x, const char *label) {
  if (f == NULL)
    return ir_error(IR_EINVAL, "ir_figure_add_vline: NULL figure");
  ir_vline *v = ir_grow(f->v, &f->cv, f->nv + 1, sizeof *v);
  if (v == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_vline: no memory (figure %s)",
                    f->name);
  f->v = v;
  v[f->nv].x = x;
  v[f->nv].label = ir_strdup0(label);
  if (v[f->nv].label == NULL)
    return ir_error(IR_ENOMEM, "ir_figure_add_vline: no memory (figure %s)",
                    f->name);
  f->nv++;
  return IR_OK;
}

int ir_figure_set_map(ir_figure *f, const double *x, size_t nx,
                      const double *y, size_t ny, const double *z, int logz,
                      const char *zlabel) {
  if (f == NULL || x == NULL || y == NULL || z == NULL || nx < 2 || ny < 2)
    return ir_error(IR_EINVAL, "ir_figure_set_map: a map needs at least 2 x "
                               "2 points");
  if (f->ns > 0)
    return ir_error(IR_EINVAL, "ir_figure_set_map: figure %s already has "
                               "series", f->name);
  double *mx = malloc(nx * sizeof(double)), *my = malloc(ny * sizeof(double)),
         *mz = malloc(nx * ny * sizeof(double));
  char *lab = ir_strdup0(zlabel ? zlabel : "");
  if (!mx || !my || !mz || !lab) {
    free(mx);
    free(my);
    free(mz);
    free(lab);
    return ir_error(IR_ENOMEM, "ir_figure_set_map: no memory");
  }
  memcpy(mx, x, nx * sizeof(double));
  memcpy(my, y, ny * sizeof(double));
  memcpy(mz, z, nx * ny * sizeof(double));
  free(f->mx);
  free(f->my);
  free(f->mz);
  free(f->mzlabel);
  f->mx = mx;
  f->my = my;
  f->mz = mz;
  f->mzlabel = lab;
  f->mnx = nx;
  f->mny = ny;
  f->mlogz = logz != 0;
  return IR_OK;
}

/* The map's grid: one block per x (gnuplot's grid format for pm3d), points
 * that cannot be drawn (non-finite, or not positive on a log scale) as
 * NaN, which pm3d leaves blank. */
static void ir_fig_map_dat(const ir_figure *f, FILE *fp) {
  char b[IR_NUMBUF];
  fprintf(fp, "# %s.dat: the grid of %s.gp, x y z, one block per x\n",
          f->name, f->name);
  for (size_t i = 0; i < f->mnx; i++) {
    if (i > 0)
      fputc('\n', fp);
    for (size_t j = 0; j < f->mny; j++) {
      const double z = f->mz[i * f->mny + j];
      const int ok = isfinite(z) && (!f->mlogz || z > 0);
      fputs(ir_num(b, IR_PREC_EXACT, f->mx[i]), fp);
      fputc(' ', fp);
      fputs(ir_num(b, IR_PREC_EXACT, f->my[j]), fp);
      fputc(' ', fp);
      fputs(ok ? ir_num(b, IR_PREC_EXACT, z) : "NaN", fp);
      fputc('\n', fp);
    }
  }
}

/* Whether (x, y) can be drawn: finite, and positive on a log axis. */
static int ir_fig_keep(const ir_figure *f, double x, double y) {
  return isfinite(x) && isfinite(y) && (!f->logx || x > 0) &&
         (!f->logy || y > 0);
}

static size_t ir_fig_points(const ir_figure *f, const ir_series *s) {
  size_t n = 0;
  for (size_t i = 0; i < s->m; i++)
    n += ir_fig_keep(f, s->x[i], s->y[i]);
  return n;
}

/* A gnuplot double-quoted string: backslash and quote escaped, line breaks
 * as \n (which gnuplot turns back into line breaks). */
/* s as a double-quoted gnuplot string whose enhanced-text rendering is s
 * itself: the enhanced-text specials _ ^ @ & ~ { } (subscript,
 * superscript, phantom, spacer, overprint, grouping) get a backslash for
 * the text processor, written as \\ inside the quotes; a literal
 * backslash needs two of each. */
static void ir_gp_string(FILE *fp, const char *s) {
  fputc('"', fp);
  for (const char *p = s; *p; p++) {
    if (*p == '\n') {
      fputs("\\n", fp);
      continue;
    }
    if (*p == '\r')
      continue;
    if (*p == '"')
      fputs("\\\"", fp);
    else if (*p == '\\')
      fputs("\\\\\\\\", fp);
    else if (strchr("_^@&~{}", *p) != NULL)
      fprintf(fp, "\\\\%c", *p);
    else
      fputc(*p, fp);
  }
  fputc('"', fp);
}

/* Series with no drawable point get no block: gnuplot's "index" would
 * otherwise have to count empty blocks, which it does not do reliably. */
static void ir_fig_dat(const ir_figure *f, FILE *fp) {
  char b[IR_NUMBUF];
  if (f->mz != NULL) {
    ir_fig_map_dat(f, fp);
    return;
  }
  fprintf(fp,
          "# %s.dat: the data of %s.gp, one block per series, selected with\n"
          "# gnuplot's \"index\" (blocks are separated by two blank lines).\n",
          f->name, f->name);
  size_t block = 0;
  for (size_t i = 0; i < f->ns; i++) {
    const ir_series *s = &f->s[i];
    if (ir_fig_points(f, s) == 0)
      continue;
    if (block > 0)
      fputs("\n\n", fp);
    fprintf(fp, "# index %zu: ", block);
    ir_put_line_text(fp, s->label);
    fputs(s->e ? "\n# x y se\n" : "\n# x y\n", fp);
    for (size_t k = 0; k < s->m; k++) {
      if (!ir_fig_keep(f, s->x[k], s->y[k]))
        continue;
      fputs(ir_num(b, IR_PREC_EXACT, s->x[k]), fp);
      fputc(' ', fp);
      fputs(ir_num(b, IR_PREC_EXACT, s->y[k]), fp);
      if (s->e) {
        fputc(' ', fp);
        fputs(ir_num(b, IR_PREC_EXACT, s->e[k]), fp);
      }
      fputc('\n', fp);
    }
    block++;
  }
}

/* The data's extent on one axis (y: with the error bars); 0 when none. */
static int ir_fig_extent(const ir_figure *f, int yaxis, double *lo,
                         double *hi) {
  int any = 0;
  for (size_t i = 0; i < f->ns; i++) {
    const ir_series *s = &f->s[i];
    for (size_t k = 0; k < s->m; k++) {
      if (!ir_fig_keep(f, s->x[k], s->y[k]))
        continue;
      double a = yaxis ? s->y[k] : s->x[k], b = a;
      if (yaxis && s->e) {
        b = a + s->e[k];
        if (!f->logy || a - s->e[k] > 0)
          a -= s->e[k];
      }
      if (!any || a < *lo)
        *lo = a;
      if (!any || b > *hi)
        *hi = b;
      any = 1;
    }
  }
  return any;
}

/* Ticks a reader can read: "%g" (no 100.0000000, no 1x10^6 where 10^6
 * fits), powers of ten as 10^{n} on a log axis spanning two decades or
 * more; a log axis spans the data, not the decades around them. */
static void ir_fig_axes(const ir_figure *f, FILE *fp) {
  char b1[IR_NUMBUF], b2[IR_NUMBUF];
  for (int y = 0; y < 2; y++) {
    int logax = y ? f->logy : f->logx;
    char ax = y ? 'y' : 'x';
    double lo = 0, hi = 0;
    int any = ir_fig_extent(f, y, &lo, &hi);
    if (!logax) {
      fprintf(fp, "set format %c \"%%g\"\n", ax);
      continue;
    }
    fprintf(fp, "set logscale %c 10\n", ax);
    if (any && hi / lo >= 100)
      fprintf(fp, "set format %c \"10^{%%T}\"\n", ax);
    else
      fprintf(fp, "set format %c \"%%g\"\n", ax);
    if (!any)
      continue;
    if (hi == lo) {
      lo /= 2;
      hi *= 2;
    }
    /* x exactly the data; y with 4% of the span (in logs) above and below,
     * so that no point sits on the frame. */
    double pad = y ? pow(hi / lo, 0.04) : 1.0;
    fprintf(fp, "set %crange [%s:%s]\n", ax, ir_num(b1, IR_PREC_EXACT, lo / pad),
            ir_num(b2, IR_PREC_EXACT, hi * pad));
  }
}

static void ir_fig_gp(const ir_figure *f, FILE *fp) {
  const char *n = f->name;
  char b[IR_NUMBUF];
  fprintf(fp,
          "# %s.gp: written by implreg.  Run it in its directory:\n"
          "#   gnuplot %s.gp\n"
          "# to render %s.png (pngcairo, or png when gnuplot has no cairo)\n"
          "# and %s.pdf (pdfcairo).  The variables ir_png and ir_pdf name\n"
          "# other outputs: implreg renders into temporary files and renames\n"
          "# them only when gnuplot succeeded, so no half-written image\n"
          "# appears.\n",
          n, n, n, n);
  fprintf(fp, "if (!exists(\"ir_png\")) ir_png = \"%s.png\"\n", n);
  fprintf(fp, "if (!exists(\"ir_pdf\")) ir_pdf = \"%s.pdf\"\n", n);
  fputs("set encoding utf8\n", fp);
  if (f->title[0] != '\0') {
    fputs("set title ", fp);
    ir_gp_string(fp, f->title);
    fputc('\n', fp);
  }
  fputs("set xlabel ", fp);
  ir_gp_string(fp, f->xlabel);
  fputs("\nset ylabel ", fp);
  ir_gp_string(fp, f->ylabel);
  /* The key beside the plot (the default, "below" the data in the sense
   * of never over it: gnuplot reserves the right margin for it) covers no
   * data, marker label or axis label; inside the plot it is opaque and
   * boxed. */
  if (strcmp(f->key, "off") == 0)
    fputs("\nset grid\nset key off\n", fp);
  else if (strcmp(f->key, "below") == 0)
    fputs("\nset grid\nset key outside right top vertical box opaque\n",
          fp);
  else
    fprintf(fp, "\nset grid\nset key %s box opaque\n", f->key);
  if (f->mz != NULL) {
    /* A heat map with black contour lines, the colour box labelled. */
    char b1[IR_NUMBUF], b2[IR_NUMBUF];
    fprintf(fp, "set xrange [%s:%s]\n", ir_num(b1, IR_PREC_EXACT, f->mx[0]),
            ir_num(b2, IR_PREC_EXACT, f->mx[f->mnx - 1]));
    fprintf(fp, "set yrange [%s:%s]\n", ir_num(b1, IR_PREC_EXACT, f->my[0]),
            ir_num(b2, IR_PREC_EXACT, f->my[f->mny - 1]));
    fputs("set format x \"%g\"\nset format y \"%g\"\n"
          "set view map\nset pm3d at b interpolate 4,4\n"
          "set palette defined (0 \"#440154\", 0.25 \"#3b528b\", "
          "0.5 \"#21918c\", 0.75 \"#5ec962\", 1 \"#fde725\")\n"
          "set contour base\nset cntrparam levels 12\n"
          "unset surface\nset key off\n", fp);
    /* A log scale as log10 of the data: contour levels then fall evenly
     * in the logarithm, which gnuplot's "logscale cb" does not do. */
    fputs("set cblabel ", fp);
    if (f->mlogz) {
      char *lab = malloc(strlen(f->mzlabel) + 16);
      if (lab)
        sprintf(lab, "log10 %s", f->mzlabel);
      ir_gp_string(fp, lab ? lab : f->mzlabel);
      free(lab);
    } else {
      ir_gp_string(fp, f->mzlabel);
    }
    fputc('\n', fp);
  } else {
    ir_fig_axes(f, fp);
  }
  for (size_t i = 0; i < f->nv; i++) {
    double x = f->v[i].x;
    if (!isfinite(x) || (f->logx && !(x > 0)))
      continue;
    const char *xs = ir_num(b, IR_PREC_EXACT, x);
    fprintf(fp,
            "set arrow from first %s, graph 0 to first %s, graph 1 nohead "
            "dashtype 2 linecolor rgb \"#505050\" front\n",
            xs, xs);
    if (f->v[i].label[0] != '\0') {
      fputs("set label ", fp);
      ir_gp_string(fp, f->v[i].label);
      fprintf(fp,
              " at first %s, graph 0.96 offset character 0.5, 0 left "
              "textcolor rgb \"#505050\" front\n",
              xs);
    }
  }

  /* The PNG terminal is chosen before the first plot: the default terminal
   * may be an interactive one that would open a window. */
  fputs("\nif (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
        "  set terminal pngcairo size 900,600 enhanced font \"sans,11\"\n"
        "} else {\n"
        "  set terminal png size 900,600 enhanced\n"
        "}\n"
        "set output ir_png\n",
        fp);
  size_t nplot = 0;
  for (size_t i = 0; i < f->ns; i++)
    nplot += ir_fig_points(f, &f->s[i]) > 0;
  if (f->mz != NULL) {
    /* pm3d draws the colours; the contours (the surface is off) are drawn
     * from a second pass as black lines. */
    const char *z = f->mlogz ? "(log10($3))" : "3";
    fprintf(fp,
            "splot \"%s.dat\" using 1:2:%s with pm3d notitle, \\\n"
            "      \"%s.dat\" using 1:2:%s with lines linecolor rgb "
            "\"black\" nosurface notitle\n",
            n, z, n, z);
  } else if (nplot == 0) {
    /* Nothing drawable: gnuplot refuses to autoscale an empty plot, so fix
     * the ranges and say so on the canvas. */
    fprintf(fp, "set xrange [%s]\nset yrange [%s]\n", f->logx ? "1:10" : "0:1",
            f->logy ? "1:10" : "0:1");
    fputs("set label \"no finite data\" at graph 0.5, graph 0.5 center\n"
          "plot NaN notitle\n",
          fp);
  } else {
    fputs("plot ", fp);
    size_t block = 0;
    for (size_t i = 0; i < f->ns; i++) {
      const ir_series *s = &f->s[i];
      if (ir_fig_points(f, s) == 0)
        continue;
      if (block > 0)
        fputs(", \\\n     ", fp);
      /* Standard errors: a translucent band under a dense series, error
       * bars on a sparse one, in the series' colour (line type block+1). */
      if (s->e != NULL) {
        const char *lower = f->logy ? "($2-$3 > 0 ? $2-$3 : $2/10)" : "($2-$3)";
        if (ir_fig_points(f, s) > 30)
          fprintf(fp,
                  "\"%s.dat\" index %zu using 1:%s:($2+$3) with filledcurves "
                  "fillstyle transparent solid 0.25 noborder linecolor %zu "
                  "notitle, \\\n     ",
                  n, block, lower, block + 1);
        else
          fprintf(fp,
                  "\"%s.dat\" index %zu using 1:2:%s:($2+$3) with yerrorbars "
                  "pointtype -1 linecolor %zu notitle, \\\n     ",
                  n, block, lower, block + 1);
      }
      fprintf(fp, "\"%s.dat\" index %zu using 1:2 with %s ", n, block,
              s->style);
      if (s->e != NULL && strstr(s->style, "linecolor") == NULL &&
          strstr(s->style, " lc ") == NULL)
        fprintf(fp, "linecolor %zu ", block + 1);
      if (s->label[0] != '\0') {
        fputs("title ", fp);
        ir_gp_string(fp, s->label);
      } else {
        fputs("notitle", fp);
      }
      block++;
    }
    fputc('\n', fp);
  }
  /* Closing the output finishes the file; the PDF replays the same plot. */
  fputs("unset output\n"
        "if (strstrt(GPVAL_TERMINALS, \"pdfcairo\") > 0) {\n"
        "  set terminal pdfcairo size 6in,4in enhanced font \"sans,10\"\n"
        "  set output ir_pdf\n"
        "  replot\n"
        "  unset output\n"
        "} else {\n",
        fp);
  fprintf(fp,
          "  print \"%s.gp: this gnuplot has no pdfcairo terminal, no "
          "PDF made\"\n}\n",
          n);
}

/* Creates an empty, uniquely named "<dir>/<name>.<ext>.tmp.XXXXXX" for
 * gnuplot to fill; returns the malloc'ed path or NULL (status in *s). */
static char *ir_fig_tmp(const ir_figure *f, const char *dir, const char *ext,
                        int *s) {
  char *base = ir_join(dir, f->name, ext);
  char *p = base ? malloc(strlen(base) + 12) : NULL;
  if (p == NULL) {
    free(base);
    *s = ir_error(IR_ENOMEM, "no memory for the paths of figure %s", f->name);
    return NULL;
  }
  sprintf(p, "%s.tmp.XXXXXX", base);
  free(base);
  int fd = mkstemp(p);
  if (fd < 0) {
    int e = errno;
    *s = ir_error(IR_EIO, "cannot create a temporary file for %s: %s", p,
                  strerror(e));
    free(p);
    return NULL;
  }
  /* mkstemp creates mode 0600; gnuplot keeps the mode when it truncates
   * the file, and images are meant to be shared like every other output. */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  close(fd);
  *s = IR_OK;
  return p;
}

/* Whether an executable file `prog` is in a directory of $PATH (execvp's
 * search; with PATH unset, glibc's default /bin:/usr/bin).  Looking first
 * spares a fork when gnuplot is absent, the common case on servers. */
static int ir_on_path(const char *prog) {
  const char *path = getenv("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  size_t lp = strlen(prog);
  char *buf = malloc(strlen(path) + lp + 3);
  if (buf == NULL)
    return 1; /* cannot tell: let execvp decide */
  int found = 0;
  for (const char *d = path; !found;) {
    const char *e = strchr(d, ':');
    size_t n = e ? (size_t)(e - d) : strlen(d);
    /* An empty entry means the current directory. */
    if (n == 0) {
      buf[0] = '.';
      n = 1;
    } else {
      memcpy(buf, d, n);
    }
    buf[n] = '/';
    memcpy(buf + n + 1, prog, lp + 1);
    struct stat st;
    found =
        stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0;
    if (e == NULL)
      break;
    d = e + 1;
  }
  free(buf);
  return found;
}

/* How the child reports a failure before gnuplot runs: which step failed
 * and errno. */
enum { IR_CHILD_CHDIR = 1, IR_CHILD_EXEC = 2 };

/* One rendering: gnuplot running (or about to) on name.gp in dir, writing
 * the two temporary images that become name.png and name.pdf.  Split into
 * a start and a finish so that several figures render at once
 * (ir_figures_write). */
typedef struct {
  char *png_tmp, *pdf_tmp; /* full paths of the temporary images */
  char *gp, *png, *pdf;    /* script base name, final image paths */
  char *vars;              /* gnuplot's -e argument */
  pid_t pid;               /* > 0 while the child runs */
  int pipe_rd;             /* the exec-failure pipe, -1 when closed */
} ir_fig_job;

static void ir_fig_job_free(ir_fig_job *j) {
  free(j->png_tmp);
  free(j->pdf_tmp);
  free(j->gp);
  free(j->png);
  free(j->pdf);
  free(j->vars);
  memset(j, 0, sizeof *j);
  j->pipe_rd = -1;
}

/* Starts `gnuplot -e "ir_png='...'; ir_pdf='...'" name.gp` in dir with all
 * standard streams on /dev/null (the images' base names: gnuplot runs
 * inside dir). */
static int ir_gnuplot_start(const char *dir, ir_fig_job *j) {
  const char *png_base = strrchr(j->png_tmp, '/');
  const char *pdf_base = strrchr(j->pdf_tmp, '/');
  png_base = png_base ? png_base + 1 : j->png_tmp;
  pdf_base = pdf_base ? pdf_base + 1 : j->pdf_tmp;
  size_t len = strlen(png_base) + strlen(pdf_base) + 32;
  j->vars = malloc(len);
  if (j->vars == NULL)
    return ir_error(IR_ENOMEM, "no memory to run gnuplot");
  snprintf(j->vars, len, "ir_png='%s'; ir_pdf='%s'", png_base, pdf_base);
  char *argv[] = {"gnuplot", "-e", j->vars, j->gp, NULL};

  /* A close-on-exec pipe tells the parent whether exec succeeded: it is
   * closed unread on success and carries the error otherwise. */
  int pfd[2];
  if (pipe(pfd) != 0) {
    int e = errno;
    return ir_error(IR_EIO, "cannot run gnuplot: pipe: %s", strerror(e));
  }
  fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(pfd[0]);
    close(pfd[1]);
    return ir_error(IR_EIO, "cannot run gnuplot: fork: %s", strerror(e));
  }
  if (pid == 0) {
    /* Child: only async-signal-safe calls until exec. */
    int report[2];
#ifdef __linux__
    /* gnuplot dies with implreg (an interrupt, kill -9): kept across exec. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
#endif
    close(pfd[0]);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
      dup2(nul, 2);
      if (nul > 2)
        close(nul);
    }
    report[0] = IR_CHILD_CHDIR;
    if (chdir(dir) == 0) {
      execvp("gnuplot", argv);
      report[0] = IR_CHILD_EXEC;
    }
    report[1] = errno;
    ssize_t w = write(pfd[1], report, sizeof report);
    (void)w;
    _exit(127);
  }
  close(pfd[1]);
  j->pid = pid;
  j->pipe_rd = pfd[0];
  return IR_OK;
}

/* Waits for the gnuplot of j.  *found is 0 when gnuplot could not be
 * executed at all. */
static int ir_gnuplot_finish(const char *dir, ir_fig_job *j, int *found) {
  *found = 1;
  int report[2] = {0, 0};
  ssize_t got;
  do
    got = read(j->pipe_rd, report, sizeof report);
  while (got < 0 && errno == EINTR);
  close(j->pipe_rd);
  j->pipe_rd = -1;
  int wst = 0;
  pid_t r;
  do
    r = waitpid(j->pid, &wst, 0);
  while (r < 0 && errno == EINTR);
  j->pid = 0;
  if (got == (ssize_t)sizeof report) {
    if (report[0] == IR_CHILD_EXEC) {
      *found = 0;
      return IR_OK;
    }
    return ir_error(IR_EIO, "cannot run gnuplot in %s: %s", dir,
                    strerror(report[1]));
  }
  if (r < 0) {
    int e = errno;
    return ir_error(IR_EIO, "cannot wait for gnuplot: %s", strerror(e));
  }
  if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0)
    return IR_OK;
  if (WIFEXITED(wst))
    return ir_error(IR_EIO,
                    "gnuplot failed on %s/%s (exit status %d); run "
                    "`cd %s && gnuplot %s` to see why",
                    dir, j->gp, WEXITSTATUS(wst), dir, j->gp);
  return ir_error(IR_EIO, "gnuplot was killed by signal %d on %s/%s",
                  WIFSIGNALED(wst) ? WTERMSIG(wst) : 0, dir, j->gp);
}

/* Size of the file at path, or -1. */
static long long ir_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Creates the temporary images of f and starts gnuplot on them (gnuplot
 * is known to be on PATH).  On failure nothing is left behind. */
static int ir_fig_render_start(const ir_figure *f, const char *dir,
                               ir_fig_job *j) {
  int s;
  j->pipe_rd = -1;
  j->png_tmp = ir_fig_tmp(f, dir, "png", &s);
  if (j->png_tmp != NULL)
    j->pdf_tmp = ir_fig_tmp(f, dir, "pdf", &s);
  if (j->png_tmp != NULL && j->pdf_tmp != NULL) {
    j->gp = malloc(strlen(f->name) + 4);
    j->png = ir_join(dir, f->name, "png");
    j->pdf = ir_join(dir, f->name, "pdf");
    if (j->gp == NULL || j->png == NULL || j->pdf == NULL) {
      s = ir_error(IR_ENOMEM, "no memory to render figure %s", f->name);
    } else {
      sprintf(j->gp, "%s.gp", f->name);
      s = ir_gnuplot_start(dir, j);
    }
  }
  if (s != IR_OK) {
    if (j->png_tmp)
      unlink(j->png_tmp);
    if (j->pdf_tmp)
      unlink(j->pdf_tmp);
    ir_fig_job_free(j);
  }
  return s;
}

/* Waits for j's gnuplot and publishes its images: the PNG (required) and
 * the PDF (when this gnuplot made one); whatever remains under a temporary
 * name is removed, and j is freed. */
static int ir_fig_render_finish(const char *dir, ir_fig_job *j,
                                int *rendered) {
  int found = 0;
  int s = ir_gnuplot_finish(dir, j, &found);
  int png_done = 0, pdf_done = 0;
  if (s == IR_OK && found) {
    if (ir_file_size(j->png_tmp) <= 0)
      s = ir_error(IR_EIO, "gnuplot made no image from %s/%s", dir, j->gp);
    else if (rename(j->png_tmp, j->png) != 0)
      s = ir_error(IR_EIO, "cannot rename onto %s: %s", j->png,
                   strerror(errno));
    else
      png_done = 1, ir_atomic_note(j->png);
    /* An empty PDF means this gnuplot lacks pdfcairo (the script says so);
     * the PNG alone still counts as rendered. */
    if (s == IR_OK && ir_file_size(j->pdf_tmp) > 0) {
      if (rename(j->pdf_tmp, j->pdf) != 0)
        s = ir_error(IR_EIO, "cannot rename onto %s: %s", j->pdf,
                     strerror(errno));
      else
        pdf_done = 1, ir_atomic_note(j->pdf);
    }
    if (s == IR_OK)
      *rendered = 1;
  }
  if (!png_done)
    unlink(j->png_tmp);
  if (!pdf_done)
    unlink(j->pdf_tmp);
  ir_fig_job_free(j);
  return s;
}

typedef void (*ir_fig_writer)(const ir_figure *f, FILE *fp);

static int ir_fig_write_file(const ir_figure *f, const char *dir,
                             const char *ext, ir_fig_writer w) {
  char *path = ir_join(dir, f->name, ext);
  if (path == NULL)
    return ir_error(IR_ENOMEM, "no memory for the path of %s.%s", f->name, ext);
  ir_atomic_file a;
  int s = ir_atomic_open(&a, path);
  if (s == IR_OK) {
    w(f, a.fp);
    s = ir_atomic_commit(&a);
  }
  free(path);
  return s;
}

int ir_figure_write(const ir_figure *f, const char *dir, int render,
                    int *rendered) {
  size_t n = 0;
  int s = ir_figures_write(&f, 1, dir, render, &n);
  if (rendered != NULL)
    *rendered = n == 1;
  return s;
}

/* At most this many gnuplot processes at once: one per online processor
 * (a rendering is one busy process), and never more than 8. */
static size_t ir_fig_parallel(void) {
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c < 1 ? 1 : c > 8 ? 8 : (size_t)c;
}

int ir_figures_write(const ir_figure *const *figs, size_t nfigs,
                     const char *dir, int render, size_t *nrendered) {
  if (nrendered != NULL)
    *nrendered = 0;
  if ((figs == NULL && nfigs > 0) || dir == NULL)
    return ir_error(IR_EINVAL, "ir_figures_write: NULL argument");
  for (size_t i = 0; i < nfigs; i++)
    if (figs[i] == NULL)
      return ir_error(IR_EINVAL, "ir_figures_write: figure %zu is NULL", i);
  int s = IR_OK;
  for (size_t i = 0; i < nfigs && s == IR_OK; i++) {
    s = ir_fig_write_file(figs[i], dir, "dat", ir_fig_dat);
    if (s == IR_OK)
      s = ir_fig_write_file(figs[i], dir, "gp", ir_fig_gp);
  }
  if (s != IR_OK || !render || nfigs == 0 || !ir_on_path("gnuplot"))
    return s;
  /* Rendering is a separate process per figure and the figures are
   * independent: up to ir_fig_parallel() run at once, each finished in
   * the order started.  After a failure no new one starts; those running
   * are still waited for and cleaned up, and the first error is kept. */
  const size_t P = ir_fig_parallel();
  ir_fig_job *jobs = calloc(P, sizeof *jobs);
  if (jobs == NULL)
    return ir_error(IR_ENOMEM, "no memory to render %zu figures", nfigs);
  size_t next = 0, done = 0, count = 0;
  while (done < next || (s == IR_OK && next < nfigs)) {
    while (s == IR_OK && next < nfigs && next - done < P) {
      s = ir_fig_render_start(figs[next], dir, &jobs[next % P]);
      if (s == IR_OK)
        next++;
    }
    if (done < next) {
      int r = 0;
      int t = ir_fig_render_finish(dir, &jobs[done % P], &r);
      if (s == IR_OK)
        s = t;
      count += (size_t)r;
      done++;
    }
  }
  free(jobs);
  if (nrendered != NULL)
    *nrendered = count;
  return s;
}
