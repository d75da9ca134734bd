/* stats.c — aggregation over seeds: summaries, confidence intervals and
 * fitted slopes with standard errors. */
#include "implreg/stats.h"

#include "implreg/status.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ir_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int ir_stats_summary(const double *x, size_t n, double level, ir_summary *out) {
  if (x == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_stats_summary: NULL argument");
  if (n == 0)
    return ir_error(IR_EINVAL, "ir_stats_summary: no values (n = 0)");
  if (!(level > 0.0 && level < 1.0))
    return ir_error(IR_EINVAL,
                    "ir_stats_summary: confidence level %g is not in (0, 1)",
                    level);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return ir_error(IR_EINVAL, "ir_stats_summary: value %zu is %g", i, x[i]);

  /* The median needs a sorted copy; take it before touching out, so that a
   * failure leaves out unchanged. */
  double *s = malloc(n * sizeof *s);
  if (s == NULL)
    return ir_error(IR_ENOMEM, "ir_stats_summary: no memory for %zu values", n);
  memcpy(s, x, n * sizeof *s);
  qsort(s, n, sizeof *s, ir_cmp_double);
  double median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  double lo = s[0], hi = s[n - 1];
  free(s);

  /* Two passes: the mean first, then squared deviations from it.  The
   * second sum of plain deviations is zero in exact arithmetic; subtracting
   * its square corrects the rounding error of the mean (Chan, Golub and
   * LeVeque 1983, "corrected two-pass algorithm"). */
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += x[i];
  double mean = sum / (double)n;
  double ss = 0.0, sd = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - mean;
    ss += d * d;
    sd += d;
  }
  double var = 0.0;
  if (n > 1) {
    var = (ss - sd * sd / (double)n) / (double)(n - 1);
    if (var < 0.0)
      var = 0.0;
  }
  double std = sqrt(var);
  double sem = std / sqrt((double)n);
  double half = 0.0;
  if (n > 1) {
    /* Two-sided interval: the (1 + level)/2 quantile of Student's t with
     * n − 1 degrees of freedom. */
    double t = gsl_cdf_tdist_Pinv(0.5 + 0.5 * level, (double)(n - 1));
    half = t * sem;
  }

  out->n = n;
  out->mean = mean;
  out->std = std;
  out->sem = sem;
  out->ci_lo = mean - half;
  out->ci_hi = mean + half;
  out->median = median;
  out->min = lo;
  out->max = hi;
  return IR_OK;
}

int ir_stats_linfit(const double *x, const double *y, size_t n, double *b,
                    double *b_se, double *a, double *a_se) {
  if (x == NULL || y == NULL)
    return ir_error(IR_EINVAL, "ir_stats_linfit: NULL data");
  if (n < 2)
    return ir_error(
        IR_EINVAL, "ir_stats_linfit: %zu point(s), a line needs at least 2", n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]) || !isfinite(y[i]))
      return ir_error(IR_EINVAL, "ir_stats_linfit: point %zu is (%g, %g)", i,
                      x[i], y[i]);
  int spread = 0;
  for (size_t i = 1; i < n && !spread; i++)
    spread = x[i] != x[0];
  if (!spread)
    return ir_error(IR_EDOM,
                    "ir_stats_linfit: all %zu x values equal %g, the slope is "
                    "undefined",
                    n, x[0]);

  double c0, c1, cov00, cov01, cov11, sumsq;
  int gs =
      gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
  if (gs != 0)
    return ir_error(ir_status_from_gsl(gs),
                    "ir_stats_linfit: gsl_fit_linear failed (GSL error %d)",
                    gs);
  /* GSL scales the covariance by the residual variance sumsq/(n − 2); with
   * two points the line is exact and that estimate is undefined, so the
   * standard errors are reported as 0 (the header's contract). */
  double se_b = 0.0, se_a = 0.0;
  if (n > 2) {
    se_b = sqrt(cov11 > 0.0 ? cov11 : 0.0);
    se_a = sqrt(cov00 > 0.0 ? cov00 : 0.0);
  }
  if (b != NULL)
    *b = c1;
  if (b_se != NULL)
    *b_se = se_b;
  if (a != NULL)
    *a = c0;
  if (a_se != NULL)
    *a_se = se_a;
  return IR_OK;
}

int ir_stats_loglog_slope(const double *x, const double *y, size_t n,
                          double *slope, double *slope_se) {
  if (x == NULL || y == NULL)
    return ir_error(IR_EINVAL, "ir_stats_loglog_slope: NULL data");
  if (n < 2)
    return ir_error(IR_EINVAL,
                    "ir_stats_loglog_slope: %zu point(s), a slope needs at "
                    "least 2",
                    n);
  for (size_t i = 0; i < n; i++)
    if (!(x[i] > 0.0 && y[i] > 0.0 && isfinite(x[i]) && isfinite(y[i])))
      return ir_error(IR_EDOM,
                      "ir_stats_loglog_slope: point %zu is (%g, %g), both "
                      "coordinates must be positive and finite",
                      i, x[i], y[i]);
  double *lx = malloc(2 * n * sizeof *lx);
  if (lx == NULL)
    return ir_error(IR_ENOMEM,
                    "ir_stats_loglog_slope: no memory for %zu "
                    "points",
                    n);
  double *ly = lx + n;
  for (size_t i = 0; i < n; i++) {
    lx[i] = log(x[i]);
    ly[i] = log(y[i]);
  }
  int s = ir_stats_linfit(lx, ly, n, slope, slope_se, NULL, NULL);
  free(lx);
  if (s != IR_OK)
    return ir_error_context(s, "ir_stats_loglog_slope");
  return IR_OK;
}

int ir_stats_kendall_tau(const double *x, const double *y, size_t n,
                         double *tau, double *z) {
  if (x == NULL || y == NULL || tau == NULL)
    return ir_error(IR_EINVAL, "ir_stats_kendall_tau: NULL argument");
  if (n < 2)
    return ir_error(IR_EINVAL, "ir_stats_kendall_tau: %zu pair(s), need 2", n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]) || !isfinite(y[i]))
      return ir_error(IR_EINVAL, "ir_stats_kendall_tau: pair %zu is (%g, %g)",
                      i, x[i], y[i]);
  double C = 0, D = 0, Tx = 0, Ty = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0)
        continue;
      if (dx == 0)
        Tx++;
      else if (dy == 0)
        Ty++;
      else if ((dx > 0) == (dy > 0))
        C++;
      else
        D++;
    }
  const double den = sqrt((C + D + Tx) * (C + D + Ty));
  if (!(den > 0))
    return ir_error(IR_EINVAL, "ir_stats_kendall_tau: x or y is constant");
  *tau = (C - D) / den;
  if (z != NULL) {
    const double dn = (double)n;
    *z = *tau / sqrt(2 * (2 * dn + 5) / (9 * dn * (dn - 1)));
  }
  return IR_OK;
}

int ir_stats_kendall_tau_ci(const double *x, const double *y, size_t n,
                            double level, double *tau, double *se, double *lo,
                            double *hi) {
  if (se == NULL || lo == NULL || hi == NULL)
    return ir_error(IR_EINVAL, "ir_stats_kendall_tau_ci: NULL argument");
  if (n < 3)
    return ir_error(IR_EINVAL,
                    "ir_stats_kendall_tau_ci: %zu pair(s), need 3 for a "
                    "variance",
                    n);
  if (!(level > 0 && level < 1))
    return ir_error(IR_EINVAL, "ir_stats_kendall_tau_ci: level %g not in (0, 1)",
                    level);
  int s = ir_stats_kendall_tau(x, y, n, tau, NULL);
  if (s != IR_OK)
    return s;
  double *row = calloc(n, sizeof(double));
  if (row == NULL)
    return ir_error(IR_ENOMEM, "ir_stats_kendall_tau_ci: out of memory");
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      const double t = (double)((dx > 0) - (dx < 0)) * ((dy > 0) - (dy < 0));
      row[i] += t;
      row[j] += t;
      sum += t;
    }
  /* Jackknife over samples: leaving sample i out removes its n − 1 pairs,
   * τ_(−i) = (Σ t − row_i)/(P − (n − 1)), P = n(n − 1)/2 pairs, and
   * se² = ((n − 1)/n) Σ_i (τ_(−i) − mean)².  For a U-statistic this is
   * Hoeffding's variance estimated with a slight upward bias; the plug-in
   * of the decomposition was 6% high, and removing the row means' own
   * noise 5% low (n = 40, ρ = 0.5, measured against the sampling sd). */
  const double dn = (double)n, npair = dn * (dn - 1) / 2;
  double jm = 0;
  for (size_t i = 0; i < n; i++) {
    row[i] = (sum - row[i]) / (npair - (dn - 1));
    jm += row[i];
  }
  jm /= dn;
  double jv = 0;
  for (size_t i = 0; i < n; i++)
    jv += (row[i] - jm) * (row[i] - jm);
  free(row);
  *se = sqrt((dn - 1) / dn * jv);
  /* The interval on the arctanh scale (delta method: se/(1 − τ²)), mapped
   * back: τ̂ is skewed towards 0 near ±1, and a symmetric interval there
   * both undercovers and leaves [−1, 1] (at n = 40, ρ = 0.5 the symmetric
   * one covered 92.2% of the time, measured). */
  const double zq = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
  if (fabs(*tau) >= 1 || *se == 0) {
    *lo = *hi = *tau;
  } else {
    const double a = atanh(*tau), sa = *se / (1 - *tau * *tau);
    *lo = tanh(a - zq * sa);
    *hi = tanh(a + zq * sa);
  }
  return IR_OK;
}

int ir_stats_sign_test(size_t k, size_t m, double *p) {
  if (m == 0 || k > m || m > 1000000000)
    return ir_error(IR_EINVAL, "sign test: %zu of %zu pairs (need 0 <= k <= "
                               "m, m >= 1)", k, m);
  const size_t lo = k < m - k ? k : m - k;
  *p = fmin(1.0, 2.0 * gsl_cdf_binomial_P((unsigned)lo, 0.5, (unsigned)m));
  return IR_OK;
}
