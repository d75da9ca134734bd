/* implreg/collect.h — reading finished runs back: one table across several
 * runs' folders, one figure's series from several runs in one figure.
 *
 * A paper compares runs: the sharpness of three step sizes in one figure,
 * one table across seeds or data sets.  Every analysis writes its tables as
 * DIR/<name>.csv (header row, RFC 4180 quoting) and its figures as
 * DIR/<name>.dat (one block per series, "# index i: label" above each) and
 * DIR/<name>.gp; this module reads those files, so it works on any run of
 * any analysis, old or new, without re-running anything.
 *
 * Cost: linear in the size of the files read.  Ownership: the returned
 * table/figure belongs to the caller (ir_table_free / ir_figure_free);
 * inputs are borrowed.  Errors name the file and what is wrong with it
 * (IR_EIO for a missing file, IR_EFORMAT for a malformed one).
 */
#ifndef IMPLREG_COLLECT_H
#define IMPLREG_COLLECT_H

#include <stddef.h>

#include "implreg/report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a CSV table written by implreg (or any CSV with a header row).  A
 * column is numeric (IR_COL_DOUBLE) when every non-empty cell reads as a
 * number ("nan" and "inf" included), otherwise IR_COL_STRING.  The table is
 * called `name` with `caption`. */
int ir_collect_read_table(const char *path, const char *name,
                          const char *caption, ir_table **out);

/* Table `name` of nrun >= 1 runs (dirs[i]/name.csv) stacked into one: a
 * first column "run" holding labels[i], then the union of the runs'
 * columns in order of first appearance (a column a run lacks is empty in
 * its rows; a column that is text in any run is text).  Cost: the files'
 * size. */
int ir_collect_tables(const char *const *dirs, const char *const *labels,
                      size_t nrun, const char *name, ir_table **out);

/* Figure `name` of nrun >= 1 runs overlaid: every series of
 * dirs[i]/name.dat (only those labelled `series` when it is not NULL),
 * labelled "labels[i]" when the run has one series, else
 * "labels[i]: <series>".  Title, axis labels and log scales come from the
 * first run's name.gp (title may override the title).  The figure is
 * called `name`. */
int ir_collect_figure(const char *const *dirs, const char *const *labels,
                      size_t nrun, const char *name, const char *series,
                      const char *title, ir_figure **out);

#ifdef __cplusplus
}
#endif
#endif
