/* implreg/stats.h — aggregation over seeds and fitted slopes.
 *
 * Pure functions of their inputs; no allocation beyond O(n) scratch.
 */
#ifndef IMPLREG_STATS_H
#define IMPLREG_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t n;
  double mean;
  double std;   /* sample standard deviation (n − 1); 0 when n == 1 */
  double sem;   /* std / sqrt(n) */
  double ci_lo; /* Student-t confidence interval for the mean at `level` */
  double ci_hi;
  double median;
  double min, max;
} ir_summary;

/* Summary of x[0..n) (n >= 1, all finite) with a two-sided confidence
 * interval at level (e.g. 0.95). IR_EINVAL on n == 0, level outside (0, 1)
 * or a non-finite value. */
int ir_stats_summary(const double *x, size_t n, double level, ir_summary *out);

/* Ordinary least squares y ≈ a + b·x with standard errors of a and b
 * (n >= 3 for standard errors; with n == 2 they are 0).  Any output pointer
 * may be NULL. */
int ir_stats_linfit(const double *x, const double *y, size_t n, double *b,
                    double *b_se, double *a, double *a_se);

/* Slope of log y against log x (x, y > 0), e.g. an error order in the step
 * size, with its standard error. */
int ir_stats_loglog_slope(const double *x, const double *y, size_t n,
                          double *slope, double *slope_se);

/* Kendall's rank correlation τ_b of the pairs (x_i, y_i), ties counted as
 * in τ_b: (C − D)/√((C + D + T_x)(C + D + T_y)), C and D the concordant and
 * discordant pairs, T_x (T_y) the pairs tied in x (y) only.  *z (may be
 * NULL) receives the normal approximation of its test statistic under
 * independence, τ/√(2(2n + 5)/(9n(n − 1))) (no tie correction).  O(n²).
 * IR_EINVAL for n < 2, non-finite values, or x or y constant. */
int ir_stats_kendall_tau(const double *x, const double *y, size_t n,
                         double *tau, double *z);

/* τ_b as above with a confidence interval at `level` (e.g. 0.95) that does
 * not assume independence.  se is the jackknife standard error over
 * samples of the sign-product U-statistic (leave one sample out: its n − 1
 * pairs go), which estimates Hoeffding's variance (Hoeffding 1948; Cliff &
 * Charlin 1991 for Kendall's τ); the interval is tanh(atanh τ ± z·se/(1 −
 * τ²)), inside [−1, 1] and skewed like τ̂ near ±1.  n >= 3.  O(n²).
 * What a claim "measure A predicts the gap" needs: a direction with its
 * uncertainty, not only a test against zero. */
int ir_stats_kendall_tau_ci(const double *x, const double *y, size_t n,
                            double level, double *tau, double *se, double *lo,
                            double *hi);

/* Two-sided sign test: k of m paired differences (ties left out) are
 * positive; *p = P(|K − m/2| >= |k − m/2|) for K ~ Bin(m, 1/2), i.e.
 * 2·min(P(K <= k), P(K >= k)) capped at 1.  IR_EINVAL for m = 0 or k > m.
 * The direction of an effect with its strength when the pairs are few and
 * their differences not normal (large- vs small-batch runs from the same
 * initialization). */
int ir_stats_sign_test(size_t k, size_t m, double *p);

#ifdef __cplusplus
}
#endif
#endif
