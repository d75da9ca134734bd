/* implreg/report.h — result tables, theory checks, manifests, figures.
 *
 * Everything an analysis writes goes through this module, and every file is
 * written atomically (temporary file + rename): a run that fails or is
 * interrupted leaves no partial file.  Numbers in CSV and JSON are printed
 * with %.17g (round-trip exact); Markdown, LaTeX and terminal output use a
 * readable number of significant digits.  Non-finite numbers are written as
 * "inf"/"-inf"/"nan" in CSV and text, as null in JSON.
 *
 * Ownership: every object here (ir_table, ir_checks, ir_json, ir_figure)
 * copies the strings and arrays it is given; the caller keeps its own and
 * frees the object with its _free function (NULL is a no-op).  Nothing is
 * shared between objects, so objects may be used from different threads,
 * but one object from one thread at a time.
 *
 * Cost: building is O(1) amortized per cell, check, JSON token or point
 * (arrays grow by doubling); writing is linear in the cells or points, one
 * pass per format.  ir_figure_write with render runs gnuplot as a child
 * process (tens of milliseconds per figure), the only slow call here.
 *
 * Sources, one per concern: src/report_format.c (format list, text helpers,
 * escaping), report_table.c, report_checks.c, report_json.c, report_env.c
 * (environment, clock), report_figure.c.
 */
#ifndef IMPLREG_REPORT_H
#define IMPLREG_REPORT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Output formats, combined as a bit mask. */
enum {
  IR_FMT_CSV = 1,
  IR_FMT_MD = 2,
  IR_FMT_TEX = 4,
  IR_FMT_JSON = 8,
  IR_FMT_ALL = 15
};

/* Parses "csv,md,tex,json" (any subset, "all") into a mask; IR_EINVAL
 * naming the unknown word otherwise. */
int ir_report_parse_formats(const char *list, int *mask);

/* ---- Tables ---------------------------------------------------------------
 */

/* Column types. A MEANSTD column holds mean and standard deviation: CSV gets
 * two columns "<name>" and "<name>_std", JSON an object {"mean", "std"};
 * Markdown and LaTeX print "mean ± std" (booktabs: $\pm$). */
enum { IR_COL_DOUBLE, IR_COL_INT, IR_COL_STRING, IR_COL_MEANSTD };

typedef struct ir_table ir_table;

/* A table named `name` (the file base name: name.csv, name.md, ...; only
 * [A-Za-z0-9._+-], not starting with '.'), with a caption printed above
 * Markdown/LaTeX/terminal output and stored in JSON.  NULL on no memory or a
 * bad name. The table owns copies of all strings. */
ir_table *ir_table_alloc(const char *name, const char *caption);
void ir_table_free(ir_table *t); /* NULL is a no-op */

/* Adds a column; returns its index (>= 0) or -1 (no memory, unknown type,
 * or a name already taken, including a MEANSTD column's "_std"). description
 * (may be NULL) goes into the JSON output and the Markdown legend. */
int ir_table_add_column(ir_table *t, const char *name, int type,
                        const char *description);

/* Index of the column called name, or -1. */
int ir_table_column(const ir_table *t, const char *name);

/* A free-form note (e.g. "loss L = (1/2n)||Xw - y||^2"), printed under the
 * caption in Markdown, LaTeX and the terminal, stored in JSON.  Several
 * notes may be added. */
int ir_table_add_note(ir_table *t, const char *note);

/* Starts a new row; its cells are empty until set. */
int ir_table_add_row(ir_table *t);

/* Set a cell of the last row. IR_EINVAL when col is out of range, the type
 * does not match the column, or there is no row yet. */
int ir_table_set_double(ir_table *t, int col, double v);
int ir_table_set_int(ir_table *t, int col, long v);
int ir_table_set_string(ir_table *t, int col, const char *s);
int ir_table_set_meanstd(ir_table *t, int col, double mean, double std);

size_t ir_table_nrows(const ir_table *t);
size_t ir_table_ncols(const ir_table *t);
/* The double (or mean) value of a cell; NAN when empty or not numeric. */
double ir_table_get(const ir_table *t, size_t row, int col);

/* ---- Tables in a paper (the .tex) ----
 *
 * The .tex of a table compiles in a plain article with the packages its
 * first line names ("% implreg table; needs booktabs, siunitx, ..."):
 * booktabs rules, numbers in siunitx S columns aligned on the decimal point
 * (MEANSTD as two S columns around \pm), text escaped (_ ^ & % # ~ \ { }
 * | < > and the Unicode the captions use), the label tab:<folder>-<name>
 * with <folder> the output folder's last component (results/<analysis> by
 * default, so labels are unique within a run).  The font size, column
 * separation and the wrapping of long text columns are chosen from an
 * estimate of the width so that the table fits an article's \textwidth; a
 * table of more than 30 shown rows becomes a longtable.  The CSV, Markdown
 * and JSON always keep every column and row. */

/* The columns the paper shows, in order, and optionally their LaTeX
 * headers: "N=$N$,test_mse=$\mathrm{MSE}_\text{test}$,norm" (entries split
 * at commas outside braces; a header is raw LaTeX, copied as is; \text and
 * friends add amsmath to the needed packages; "?name" is a column the table
 * may lack, skipped then).  Undeclared columns are left
 * out; without a declaration every column is shown under its escaped name.
 * NULL or "" restores that default.  IR_EINVAL (and no change) when a name
 * is not a column or is named twice. */
int ir_table_set_paper(ir_table *t, const char *spec);
/* The declaration for this table from a NULL-terminated list of
 * "table: spec" strings (an analysis keeps its tables' declarations in one
 * array); no entry for the table's name leaves it unchanged. */
int ir_table_set_paper_from(ir_table *t, const char *const *specs);
/* The LaTeX header of one column (raw LaTeX; NULL: the escaped name). */
int ir_table_set_tex_header(ir_table *t, int col, const char *tex);
/* At most max rows in the .tex (default 30): a longer table shows max rows
 * evenly spaced, first and last included, and says so in a note.  0 shows
 * every row (a longtable when more than 30). */
int ir_table_set_paper_rows(ir_table *t, size_t max);

/* Writes dir/name.csv, .md, .tex, .json for the formats in mask.  dir must
 * exist. */
int ir_table_write(const ir_table *t, const char *dir, int formats);

/* Prints the caption, notes and an aligned text table to fp. */
int ir_table_print(const ir_table *t, FILE *fp);

/* ---- Theory checks ----------------------------------------------------------
 */

/* One row per claim: claim, source, predicted, measured, tolerance, verdict
 * (PASS/FAIL). */
typedef struct ir_checks ir_checks;

ir_checks *ir_checks_alloc(void);
void ir_checks_free(ir_checks *c);

/* Adds a claim with a verdict decided by the caller. */
int ir_checks_add(ir_checks *c, const char *claim, const char *source,
                  double predicted, double measured, double tolerance,
                  int pass);
/* Adds a claim that passes iff |measured − predicted| <= tolerance (finite
 * numbers only: a NaN or Inf measurement fails). Returns the status. */
int ir_checks_add_abs(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance);
/* Passes iff |measured − predicted| <= tolerance·|predicted|. */
int ir_checks_add_rel(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance);
/* Passes iff measured <= tolerance (predicted is printed as given, often 0). */
int ir_checks_add_max(ir_checks *c, const char *claim, const char *source,
                      double predicted, double measured, double tolerance);

size_t ir_checks_count(const ir_checks *c);
size_t ir_checks_failed(const ir_checks *c);

/* Appends all rows of src to dst (used by `implreg all` to collect). */
int ir_checks_merge(ir_checks *dst, const ir_checks *src, const char *prefix);

/* Writes dir/checks.csv, dir/checks.md and dir/checks.tex (always: every
 * check, a longtable when many) and checks.json when the mask has
 * IR_FMT_JSON: {"total", "passed", "failed", "checks": [{claim,
 * source, predicted, measured, tolerance, verdict}]}. */
int ir_checks_write(const ir_checks *c, const char *dir, int formats);
int ir_checks_print(const ir_checks *c, FILE *fp);

/* ---- JSON
 * ----------------------------------------------------------------------- */

/* A streaming JSON builder into memory. In an object, every value needs a
 * key; in an array (or at top level) key must be NULL.  Misuse (unbalanced
 * begin/end, a missing key) is recorded and reported by ir_json_write. */
typedef struct ir_json ir_json;

ir_json *ir_json_alloc(void);
void ir_json_free(ir_json *j);
void ir_json_begin_object(ir_json *j, const char *key);
void ir_json_end_object(ir_json *j);
void ir_json_begin_array(ir_json *j, const char *key);
void ir_json_end_array(ir_json *j);
void ir_json_string(ir_json *j, const char *key, const char *value);
void ir_json_number(ir_json *j, const char *key,
                    double value); /* %.17g; null if not finite */
void ir_json_int(ir_json *j, const char *key, long value);
void ir_json_bool(ir_json *j, const char *key, int value);
void ir_json_null(ir_json *j, const char *key);
/* The text built so far (valid until the next call on j). */
const char *ir_json_text(const ir_json *j);
/* Writes the document (must be complete) to path, atomically, with a final
 * newline. */
int ir_json_write(const ir_json *j, const char *path);

/* Adds, inside the current object, "environment": { implreg version, GSL
 * version, OpenBLAS version/config (openblas_get_config), BLAS threads
 * (openblas_get_num_threads), FFTW version, host name, compiler, start time
 * (ISO 8601 UTC) }. */
void ir_report_environment(ir_json *j);

/* Seconds since an arbitrary origin (CLOCK_MONOTONIC). */
double ir_wall_time(void);

/* ---- Output folders ---------------------------------------------------------
 *
 * A rerun into an existing folder must not leave the previous run's files
 * beside the new ones, nor delete anything else: the manifest lists the
 * files a run wrote, and the next run removes exactly those of them it did
 * not rewrite.  Every file the library commits (tables, checks, JSON,
 * figures and their images) is recorded in a process-wide list. */
typedef struct ir_outdir ir_outdir;

/* Starts the record of a run into dir: files written under dir from now on
 * are this run's; the "files" of dir/manifest.json, when implreg wrote it,
 * are the previous run's.  NULL on no memory. */
ir_outdir *ir_outdir_open(const char *dir);
void ir_outdir_free(ir_outdir *o);
/* The folder o records ("" for NULL). */
const char *ir_outdir_dir(const ir_outdir *o);
/* Adds "files": [this run's files under dir, relative, sorted] to the
 * current JSON object (the manifest itself is not listed). */
void ir_outdir_list(const ir_outdir *o, ir_json *j);
/* The name of a run's staging folder inside its output folder (labels of
 * tables written there name the output folder, not this). */
#define IR_OUTDIR_STAGE ".implreg-staging"

/* Staging: the run writes its files into `stage` (a folder inside dir)
 * and ir_outdir_publish moves them into dir under the same names; until
 * then dir holds the previous run's results, whole.  Files written
 * directly into dir (outside stage) are this run's as well. */
int ir_outdir_stage(ir_outdir *o, const char *stage);
/* Renames every file this run wrote into the staging folder onto its name
 * in dir (creating subfolders).  IR_EIO naming the file that could not be
 * moved.  A no-op without a staging folder. */
int ir_outdir_publish(const ir_outdir *o);
/* Removes the previous run's listed files that this run did not rewrite:
 * only regular files, only plain relative names inside dir.  *removed (may
 * be NULL) gets the count. */
int ir_outdir_clean(const ir_outdir *o, size_t *removed);

/* ---- Figures
 * ------------------------------------------------------------------ */

typedef struct ir_figure ir_figure;

/* A 2-D line/point figure with a title and axis labels (gnuplot enhanced
 * text). */
ir_figure *ir_figure_alloc(const char *name, const char *title,
                           const char *xlabel, const char *ylabel);
void ir_figure_free(ir_figure *f);
int ir_figure_set_log(ir_figure *f, int logx, int logy);
/* Where the key goes: "below" (default: outside the plot, in a right
 * margin gnuplot reserves for it, where it covers no data nor any label),
 * "top right", "top left", "bottom right", "bottom left" (inside,
 * boxed and opaque), "outside" or "off".
 *
 * Every title, label and legend is printed literally: gnuplot's enhanced
 * text specials (_ ^ @ & ~ { }) are escaped.  Ticks read "%g", and powers
 * of ten as 10^n on a log axis spanning two decades or more; a log axis
 * spans the data (x exactly, y with a small margin), not whole decades. */
int ir_figure_set_key(ir_figure *f, const char *position);
/* Adds a series of m points (copied); style is a gnuplot style such as
 * "lines", "points", "linespoints" or "lines dashtype 2".  Points that are
 * not finite (or not positive on a log axis) are dropped when written. */
int ir_figure_add_series(ir_figure *f, const char *label, const double *x,
                         const double *y, size_t m, const char *style);
/* The same with a standard error per point (err may be NULL; a
 * non-finite or negative error draws as none): the .dat gets a third
 * column, the plot a translucent band (more than 30 points) or error bars
 * in the series' colour; on a log y axis the lower edge is clipped at y/10.
 * Analyses run with --seeds > 1 pass the standard error of the mean. */
int ir_figure_add_series_err(ir_figure *f, const char *label, const double *x,
                             const double *y, const double *err, size_t m,
                             const char *style);
/* Makes the figure a map instead of a line plot: z[i·ny + j] at (x[i],
 * y[j]) (x and y increasing, nx, ny >= 2) drawn as a heat map with contour
 * lines, the colour scale logarithmic when logz (non-positive values then
 * left blank) and labelled zlabel.  A figure is either a map or series:
 * IR_EINVAL when it has series already (and adding series to a map is not
 * drawn).  The .dat holds the grid, one block per x. */
int ir_figure_set_map(ir_figure *f, const double *x, size_t nx,
                      const double *y, size_t ny, const double *z, int logz,
                      const char *zlabel);
/* A vertical marker line at x (e.g. the interpolation threshold). */
int ir_figure_add_vline(ir_figure *f, double x, const char *label);
/* Writes dir/name.dat (one block per series) and dir/name.gp; when render
 * is non-zero and gnuplot is on PATH, runs it to make dir/name.png and
 * dir/name.pdf (a missing gnuplot is not an error: *rendered is set to 0). */
int ir_figure_write(const ir_figure *f, const char *dir, int render,
                    int *rendered);
/* ir_figure_write for nfigs figures, rendered concurrently (one gnuplot
 * process per figure, at most one per online processor at a time: a
 * figure takes 50–100 ms of gnuplot).  The files are those of
 * ir_figure_write; *nrendered (may be NULL) counts the figures that got a
 * PNG.  On an error the figures already rendered stay, the others get no
 * image, and the first error is returned. */
int ir_figures_write(const ir_figure *const *figs, size_t nfigs,
                     const char *dir, int render, size_t *nrendered);

#ifdef __cplusplus
}
#endif
#endif
