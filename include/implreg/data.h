/* implreg/data.h — data sets, file formats, synthetic generators, transforms.
 *
 * Matrices are gsl_matrix (row-major doubles), one sample per row.  Readers
 * validate everything (shape, dtype, finiteness) and fail with IR_EFORMAT,
 * IR_EBADDATA or IR_EIO and a one-line message naming the file and, for text
 * formats, the line and column.  Writers are atomic: they write to a
 * temporary file in the same directory and rename it, so an interrupted or
 * failed write leaves no partial file.
 */
#ifndef IMPLREG_DATA_H
#define IMPLREG_DATA_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A data set: X (n×d) inputs, Y (n×K) targets; labels[i] in 0..nclasses-1
 * when the task is classification (labels == NULL, nclasses == 0 otherwise).
 * The data set owns X, Y and labels. */
typedef struct {
  size_t n, d, K;
  gsl_matrix *X;
  gsl_matrix *Y;
  size_t *labels;
  size_t nclasses;
} ir_dataset;

/* Allocates a data set with X n×d and Y n×K, both zeroed (n, d, K >= 1:
 * GSL has no empty matrices) and, when nclasses > 0, a label array.  NULL on
 * failure (message recorded). */
ir_dataset *ir_dataset_alloc(size_t n, size_t d, size_t K, size_t nclasses);
void ir_dataset_free(ir_dataset *ds); /* NULL is a no-op */

/* ---- Matrix files ------------------------------------------------------ */

/* Reads a matrix; the format is chosen by extension: ".csv" (or anything
 * not ".npy") is CSV, ".npy" is NumPy.  *out is allocated by the reader and
 * owned by the caller.  A 1-D array or a single CSV column gives an n×1
 * matrix. */
int ir_data_read_matrix(const char *path, gsl_matrix **out);

/* Writes a matrix as CSV (%.17g, comma-separated, no header unless header
 * is non-NULL: then it is written as the first line verbatim) or .npy
 * (<f8, C order, version 1.0) by extension. Atomic.  Non-finite values are
 * written as they are (nan, inf), although the readers refuse them. */
int ir_data_write_matrix(const char *path, const gsl_matrix *m,
                         const char *header);

/* CSV: comma-separated numbers, optional header line (detected when the
 * first line has a non-numeric field), blank lines and trailing '\r'
 * ignored. Ragged rows, empty or non-numeric cells, NaN and Inf are errors
 * naming path:line:column. An empty file is an error. */
int ir_data_read_csv(const char *path, gsl_matrix **out);
int ir_data_write_csv(const char *path, const gsl_matrix *m,
                      const char *header);

/* NumPy .npy, versions 1.0, 2.0, 3.0; dtypes <f8, <f4, <i4, <i8, <u1, |u1,
 * |b1 (all converted to double), 1-D or 2-D, C or Fortran order.  Truncated
 * files, other dtypes, 3-D+ arrays, non-finite values: IR_EFORMAT /
 * IR_EBADDATA. */
int ir_data_read_npy(const char *path, gsl_matrix **out);
int ir_data_write_npy(const char *path, const gsl_matrix *m);

/* IDX (MNIST format), raw or gzip-compressed (detected by magic bytes, not
 * by name; inflated whole by libdeflate up to 1 GiB of data, streamed
 * through zlib beyond or where libdeflate cannot read the file exactly).  Unsigned-byte data only (type 0x08), 1 to 3
 * dimensions; an image file of n×r×c gives an n×(r·c) matrix with the raw
 * byte values 0..255.  max_rows > 0 reads only the first max_rows items (0:
 * all).  Wrong magic, wrong type, truncated data: IR_EFORMAT. */
int ir_data_read_idx(const char *path, size_t max_rows, gsl_matrix **out);

/* ---- Fashion-MNIST --------------------------------------------------------
 */

/* Loads n images of Fashion-MNIST from dir (the Debian package
 * dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist;
 * NULL means that directory).  split: 0 = train (60000 images), 1 = test
 * (10000).  Pixels are scaled to [0, 1] (divided by 255), Y is one-hot
 * (K = 10), labels are set.  When n is smaller than the split, the images are
 * a uniformly random subset (without replacement, in random order) drawn
 * with r; r may be NULL only when n equals the split size (then the file
 * order is kept and r is not used).  IR_EIO with "install
 * dataset-fashion-mnist" in the message when the files are missing; IR_EINVAL
 * when n exceeds the split. */
int ir_data_fashion_mnist(const char *dir, int split, size_t n, gsl_rng *r,
                          ir_dataset **out);

/* True (1) when the Fashion-MNIST files are present in dir (NULL: default). */
int ir_data_fashion_mnist_available(const char *dir);

/* ---- Synthetic data -------------------------------------------------------
 */

/* Linear teacher y = xᵀβ + σ·ε with x ~ N(0, I_d) (or x ~ N(0, diag(spectrum))
 * when spectrum != NULL, spectrum of length d, all >= 0), ε ~ N(0, 1), and β
 * a fixed vector of norm sqrt(r2) (uniform direction, drawn from r first).
 * beta (length d) receives β when non-NULL.  The training set (n rows) and
 * the test set (ntest rows, noiseless targets xᵀβ when test_noise == 0) are
 * drawn from r in that order. K = 1.  Every row draws its noise term, so X
 * and β depend only on r, not on sigma2 or test_noise.  ntest == 0 sets
 * *test to NULL. */
typedef struct {
  size_t n, ntest, d;
  double r2;              /* ‖β‖² */
  double sigma2;          /* noise variance */
  const double *spectrum; /* covariance eigenvalues, or NULL for I */
  int test_noise;         /* add noise to the test targets too */
} ir_teacher_params;

int ir_data_linear_teacher(const ir_teacher_params *p, gsl_rng *r,
                           ir_dataset **train, ir_dataset **test, double *beta);

/* The linear target of Mei & Montanari (arXiv:1908.05355) on the sphere:
 * x uniform on the sphere of radius √d, y = ⟨β, x⟩ + τε with ‖β‖ = F1
 * (uniform direction, drawn first), ε ~ N(0, 1); test targets are the
 * noiseless ⟨β, x⟩, so the test MSE is the excess risk.  Draw order: β,
 * then the training rows, then the test rows. K = 1. */
int ir_data_sphere_teacher(size_t n, size_t ntest, size_t d, double F1,
                           double tau2, gsl_rng *r, ir_dataset **train,
                           ir_dataset **test);

/* 1-D regression: x ~ U[−1, 1], y = sin(2πx) + σε, ε ~ N(0, 1) (the test
 * targets are noiseless when test_noise == 0), drawn from r in that order
 * (train, then test).  The curve of the classical bias–variance U-curve and
 * its second descent with polynomial features.  d = K = 1. */
int ir_data_curve_1d(size_t n, size_t ntest, double sigma, int test_noise,
                     gsl_rng *r, ir_dataset **train, ir_dataset **test);

/* The noiseless target of ir_data_curve_1d, sin(2πx). */
double ir_data_curve_1d_f(double x);

/* The same draws (x ~ U[−1, 1], then ε, train then test) with the step
 * target y = sign(x) + σε (sign(0) = +1): a target outside the span of any
 * finite Fourier or polynomial basis, so that a fit with N < n features
 * keeps a bias (Gibbs oscillation) that only more features remove — the
 * misspecified setting in which the second descent of min-norm fits goes
 * below the classical U-curve (docs/theory.md §3).  d = K = 1. */
int ir_data_step_1d(size_t n, size_t ntest, double sigma, int test_noise,
                    gsl_rng *r, ir_dataset **train, ir_dataset **test);

/* The noiseless target of ir_data_step_1d: −1 for x < 0, +1 otherwise. */
double ir_data_step_1d_f(double x);

/* ---- Transforms -----------------------------------------------------------
 */

/* Appends a column of ones to X (d grows by one): the intercept, penalized
 * like every other coordinate. Replaces ds->X. */
int ir_data_append_ones(ir_dataset *ds);

/* Same for a bare matrix: *m is replaced by an n×(d+1) matrix. */
int ir_matrix_append_ones(gsl_matrix **m);

/* A new data set made of the rows idx[0..m) of ds (copies). */
int ir_data_subset(const ir_dataset *ds, const size_t *idx, size_t m,
                   ir_dataset **out);

/* Standardizes columns of train->X to mean 0 and variance 1 (constant
 * columns are only centered) and applies the same affine map to test->X
 * (test may be NULL). */
int ir_data_standardize(ir_dataset *train, ir_dataset *test);

/* Replaces a fraction frac (0 <= frac <= 1) of the labels, chosen at random
 * (exactly round(frac·n) of them), by a uniformly random *different* class,
 * and rewrites the rows of Y (which must be n×nclasses) as one-hot.  Needs
 * labels. */
int ir_data_label_noise(ir_dataset *ds, double frac, gsl_rng *r);

/* Checks that every entry of m is finite; IR_EBADDATA naming what (e.g.
 * "X") and the first bad row and column (1-based) otherwise. */
int ir_matrix_check_finite(const gsl_matrix *m, const char *what);

#ifdef __cplusplus
}
#endif
#endif
