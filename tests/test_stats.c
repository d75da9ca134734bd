/* test_stats.c — summaries, t intervals and fitted slopes against values
 * computed by hand or from closed forms. */
#include "implreg/stats.h"

#include "testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

/* t_{0.975, 3}, the two-sided 95% quantile with 3 degrees of freedom, from
 * standard tables (e.g. Abramowitz & Stegun table 26.10). */
#define T975_3 3.182446305284263

START_TEST(test_summary_small) {
  const double x[] = {4.0, 1.0, 3.0, 2.0};
  ir_summary s;
  IR_ASSERT_OK(ir_stats_summary(x, 4, 0.95, &s));
  ck_assert_uint_eq(s.n, 4);
  /* The mean 2.5 and the squared deviations 2.25, 0.25, 0.25, 2.25 are
   * exact in binary, so the mean is exact and the variance 5/3 is within
   * one rounding. */
  ck_assert(s.mean == 2.5);
  IR_ASSERT_CLOSE(s.std, sqrt(5.0 / 3.0), 1e-15, 0.0);
  IR_ASSERT_CLOSE(s.sem, sqrt(5.0 / 3.0) / 2.0, 1e-15, 0.0);
  ck_assert(s.median == 2.5);
  ck_assert(s.min == 1.0);
  ck_assert(s.max == 4.0);
  double half = T975_3 * sqrt(5.0 / 3.0) / 2.0;
  IR_ASSERT_CLOSE(s.ci_lo, 2.5 - half, 1e-12, 0.0);
  IR_ASSERT_CLOSE(s.ci_hi, 2.5 + half, 1e-12, 0.0);
}
END_TEST

START_TEST(test_summary_odd_median) {
  const double x[] = {7.0, -1.0, 3.0, 10.0, 0.5};
  ir_summary s;
  IR_ASSERT_OK(ir_stats_summary(x, 5, 0.9, &s));
  ck_assert(s.median == 3.0);
  ck_assert(s.min == -1.0);
  ck_assert(s.max == 10.0);
  ck_assert(s.mean == 3.9);
}
END_TEST

START_TEST(test_summary_single) {
  const double x[] = {-3.25};
  ir_summary s;
  IR_ASSERT_OK(ir_stats_summary(x, 1, 0.95, &s));
  ck_assert(s.mean == -3.25);
  ck_assert(s.std == 0.0);
  ck_assert(s.sem == 0.0);
  ck_assert(s.ci_lo == -3.25);
  ck_assert(s.ci_hi == -3.25);
  ck_assert(s.median == -3.25);
}
END_TEST

START_TEST(test_summary_offset) {
  /* A large common offset: a one-pass sum of squares loses every digit of
   * the variance here (1e18 against 1.67), the two-pass method keeps it. */
  const double x[] = {1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0, 1e9 + 4.0};
  ir_summary s;
  IR_ASSERT_OK(ir_stats_summary(x, 4, 0.95, &s));
  ck_assert(s.mean == 1e9 + 2.5);
  IR_ASSERT_CLOSE(s.std, sqrt(5.0 / 3.0), 1e-15, 0.0);
}
END_TEST

START_TEST(test_summary_constant) {
  const double x[] = {0.1, 0.1, 0.1};
  ir_summary s;
  IR_ASSERT_OK(ir_stats_summary(x, 3, 0.95, &s));
  ck_assert(s.std >= 0.0);
  ck_assert(s.std < 1e-17);
  IR_ASSERT_CLOSE(s.ci_lo, 0.1, 1e-15, 0.0);
}
END_TEST

START_TEST(test_summary_errors) {
  const double x[] = {1.0, NAN, 2.0};
  ir_summary s;
  ck_assert_int_eq(ir_stats_summary(x, 0, 0.95, &s), IR_EINVAL);
  ck_assert_int_eq(ir_stats_summary(x, 1, 0.0, &s), IR_EINVAL);
  ck_assert_int_eq(ir_stats_summary(x, 1, 1.0, &s), IR_EINVAL);
  ck_assert_int_eq(ir_stats_summary(x, 1, NAN, &s), IR_EINVAL);
  ck_assert_int_eq(ir_stats_summary(x, 3, 0.95, &s), IR_EINVAL);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "value 1"));
  ck_assert_int_eq(ir_stats_summary(NULL, 3, 0.95, &s), IR_EINVAL);
}
END_TEST

START_TEST(test_linfit_exact) {
  double x[6], y[6];
  for (int i = 0; i < 6; i++) {
    x[i] = 0.5 * i - 1.0;
    y[i] = 2.0 - 3.0 * x[i];
  }
  double b, bse, a, ase;
  IR_ASSERT_OK(ir_stats_linfit(x, y, 6, &b, &bse, &a, &ase));
  IR_ASSERT_CLOSE(b, -3.0, 1e-14, 0.0);
  IR_ASSERT_CLOSE(a, 2.0, 1e-14, 0.0);
  ck_assert(bse < 1e-14);
  ck_assert(ase < 1e-14);
}
END_TEST

START_TEST(test_linfit_noisy) {
  /* Noisy data; the reference is the textbook closed form
   *   b = Sxy/Sxx, a = ȳ − b x̄, s² = RSS/(n − 2),
   *   se(b) = sqrt(s²/Sxx), se(a) = sqrt(s² (1/n + x̄²/Sxx)),
   * evaluated here independently of GSL. */
  enum { N = 40 };
  double x[N], y[N];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  for (int i = 0; i < N; i++) {
    x[i] = 0.25 * i + gsl_rng_uniform(r);
    y[i] = 1.5 + 0.75 * x[i] + gsl_ran_gaussian(r, 0.3);
  }
  gsl_rng_free(r);
  double mx = 0, my = 0;
  for (int i = 0; i < N; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= N;
  my /= N;
  double sxx = 0, sxy = 0;
  for (int i = 0; i < N; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  double bref = sxy / sxx, aref = my - bref * mx, rss = 0;
  for (int i = 0; i < N; i++) {
    double e = y[i] - aref - bref * x[i];
    rss += e * e;
  }
  double s2 = rss / (N - 2);
  double bse_ref = sqrt(s2 / sxx);
  double ase_ref = sqrt(s2 * (1.0 / N + mx * mx / sxx));

  double b, bse, a, ase;
  IR_ASSERT_OK(ir_stats_linfit(x, y, N, &b, &bse, &a, &ase));
  IR_ASSERT_CLOSE(b, bref, 1e-12, 0.0);
  IR_ASSERT_CLOSE(a, aref, 1e-12, 0.0);
  IR_ASSERT_CLOSE(bse, bse_ref, 1e-10, 0.0);
  IR_ASSERT_CLOSE(ase, ase_ref, 1e-10, 0.0);
  /* The fit recovers the generating line to within a few standard errors. */
  ck_assert(fabs(b - 0.75) < 4 * bse);
}
END_TEST

START_TEST(test_linfit_two_points_and_nulls) {
  const double x[] = {1.0, 3.0}, y[] = {2.0, 6.0};
  double b = -1, bse = -1, a = -1, ase = -1;
  IR_ASSERT_OK(ir_stats_linfit(x, y, 2, &b, &bse, &a, &ase));
  IR_ASSERT_CLOSE(b, 2.0, 1e-15, 0.0);
  IR_ASSERT_CLOSE(a, 0.0, 0.0, 1e-15);
  ck_assert(bse == 0.0);
  ck_assert(ase == 0.0);
  b = 0;
  IR_ASSERT_OK(ir_stats_linfit(x, y, 2, &b, NULL, NULL, NULL));
  IR_ASSERT_CLOSE(b, 2.0, 1e-15, 0.0);
  IR_ASSERT_OK(ir_stats_linfit(x, y, 2, NULL, NULL, NULL, NULL));
}
END_TEST

START_TEST(test_linfit_errors) {
  const double x[] = {1.0, 1.0, 1.0}, y[] = {1.0, 2.0, 3.0};
  const double xn[] = {1.0, INFINITY, 2.0};
  double b;
  ck_assert_int_eq(ir_stats_linfit(x, y, 1, &b, NULL, NULL, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_stats_linfit(x, y, 3, &b, NULL, NULL, NULL), IR_EDOM);
  ck_assert_int_eq(ir_stats_linfit(xn, y, 3, &b, NULL, NULL, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_stats_linfit(NULL, y, 3, &b, NULL, NULL, NULL),
                   IR_EINVAL);
}
END_TEST

START_TEST(test_loglog_power_law) {
  double x[8], y[8];
  for (int i = 0; i < 8; i++) {
    x[i] = ldexp(1.0, -i); /* step sizes 1, 1/2, ..., 1/128 */
    y[i] = 3.0 * x[i] * x[i];
  }
  double p, pse;
  IR_ASSERT_OK(ir_stats_loglog_slope(x, y, 8, &p, &pse));
  IR_ASSERT_CLOSE(p, 2.0, 1e-14, 0.0);
  ck_assert(pse < 1e-13);
}
END_TEST

START_TEST(test_loglog_errors) {
  const double x[] = {1.0, 2.0, 0.0}, y[] = {1.0, 2.0, 3.0};
  const double yneg[] = {1.0, -2.0, 3.0}, xok[] = {1.0, 2.0, 4.0};
  double p;
  ck_assert_int_eq(ir_stats_loglog_slope(x, y, 3, &p, NULL), IR_EDOM);
  ck_assert_int_eq(ir_stats_loglog_slope(xok, yneg, 3, &p, NULL), IR_EDOM);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "point 1"));
  ck_assert_int_eq(ir_stats_loglog_slope(xok, y, 1, &p, NULL), IR_EINVAL);
}
END_TEST

/* Kendall's tau-b against hand counts (and scipy.stats.kendalltau's
 * values: 0.8 with ties, 2/3 without). */
/* The sign test against exact binomial sums: 9 of 9 gives 2/512, 7 of 8
 * gives 2·9/256, symmetric in k and m − k, 1 at the centre. */
START_TEST(test_sign_test) {
  double p;
  IR_ASSERT_OK(ir_stats_sign_test(9, 9, &p));
  IR_ASSERT_CLOSE(p, 2.0 / 512, 1e-14, 0);
  IR_ASSERT_OK(ir_stats_sign_test(0, 9, &p));
  IR_ASSERT_CLOSE(p, 2.0 / 512, 1e-14, 0);
  IR_ASSERT_OK(ir_stats_sign_test(7, 8, &p));
  IR_ASSERT_CLOSE(p, 2.0 * 9 / 256, 1e-14, 0);
  IR_ASSERT_OK(ir_stats_sign_test(4, 8, &p));
  IR_ASSERT_CLOSE(p, 1.0, 0, 0);
  IR_ASSERT_OK(ir_stats_sign_test(1, 1, &p));
  IR_ASSERT_CLOSE(p, 1.0, 0, 0);
  ck_assert_int_eq(ir_stats_sign_test(0, 0, &p), IR_EINVAL);
  ck_assert_int_eq(ir_stats_sign_test(5, 4, &p), IR_EINVAL);
}
END_TEST

START_TEST(test_kendall_tau) {
  const double x[] = {1, 2, 3, 4, 5}, up[] = {2, 4, 6, 8, 10},
               down[] = {5, 4, 3, 2, 1};
  double t, z;
  IR_ASSERT_OK(ir_stats_kendall_tau(x, up, 5, &t, &z));
  IR_ASSERT_CLOSE(t, 1.0, 0, 1e-15);
  IR_ASSERT_OK(ir_stats_kendall_tau(x, down, 5, &t, &z));
  IR_ASSERT_CLOSE(t, -1.0, 0, 1e-15);
  /* z = τ/√(2(2n + 5)/(9n(n − 1))) = −1/√(30/180). */
  IR_ASSERT_CLOSE(z, -1.0 / sqrt(30.0 / 180.0), 1e-14, 0);
  /* One discordant pair of six: (5 − 1)/6. */
  const double a[] = {1, 2, 3, 4}, b[] = {1, 3, 2, 4};
  IR_ASSERT_OK(ir_stats_kendall_tau(a, b, 4, &t, NULL));
  IR_ASSERT_CLOSE(t, 4.0 / 6.0, 1e-15, 0);
  /* Ties: C = 4, D = 0, one pair tied in x only, one in y only:
   * 4/√(5·5). */
  const double tx[] = {1, 1, 2, 3}, ty[] = {1, 2, 2, 3};
  IR_ASSERT_OK(ir_stats_kendall_tau(tx, ty, 4, &t, NULL));
  IR_ASSERT_CLOSE(t, 0.8, 1e-15, 0);
  /* Errors: one pair, a constant, a NaN. */
  const double cst[] = {2, 2, 2, 2}, nan4[] = {1, NAN, 3, 4};
  ck_assert_int_eq(ir_stats_kendall_tau(x, up, 1, &t, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_stats_kendall_tau(a, cst, 4, &t, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_stats_kendall_tau(a, nan4, 4, &t, NULL), IR_EINVAL);
}
END_TEST

/* The interval of τ against the sampling distribution itself: 4000
 * samples of n = 40 pairs from a bivariate normal with ρ = 0.5 (population
 * τ = (2/π) arcsin ρ = 1/3).  The mean jackknife se must match the observed
 * spread of τ̂ within 7% (the jackknife runs about 4% high here; the
 * Monte-Carlo error of an sd from 4000 draws is about 1.1%), and 95%
 * intervals must cover 1/3 in 95 ± 1.5% of the samples (binomial sd
 * 0.34%; a numpy replay of this estimator gave 94.8%).  The symmetric
 * interval with the plug-in of Hoeffding's formula, minus the row means'
 * noise, covered 92%; the independence formula overstates the spread by
 * 15% (both measured). */
START_TEST(test_kendall_tau_interval) {
  const size_t n = 40, reps = 4000;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 11);
  double x[40], y[40], sum = 0, sum2 = 0, sesum = 0;
  size_t cover = 0;
  for (size_t k = 0; k < reps; k++) {
    for (size_t i = 0; i < n; i++) {
      double a = gsl_ran_gaussian(r, 1.0), b = gsl_ran_gaussian(r, 1.0);
      x[i] = a;
      y[i] = 0.5 * a + sqrt(0.75) * b;
    }
    double t, se, lo, hi;
    IR_ASSERT_OK(ir_stats_kendall_tau_ci(x, y, n, 0.95, &t, &se, &lo, &hi));
    sum += t;
    sum2 += t * t;
    sesum += se;
    cover += lo <= 1.0 / 3 && 1.0 / 3 <= hi;
    ck_assert(lo <= t && t <= hi && lo >= -1 && hi <= 1);
  }
  const double mean = sum / reps, sd = sqrt(sum2 / reps - mean * mean);
  IR_ASSERT_CLOSE(mean, 1.0 / 3, 0, 0.005);
  IR_ASSERT_CLOSE(sesum / reps, sd, 0.07, 0);
  const double cov = (double)cover / reps;
  ck_assert_msg(fabs(cov - 0.95) <= 0.015, "coverage %.4f", cov);
  /* Perfect agreement: se 0, the interval is the point 1. */
  for (size_t i = 0; i < n; i++)
    x[i] = y[i] = (double)i;
  double t, se, lo, hi;
  IR_ASSERT_OK(ir_stats_kendall_tau_ci(x, y, n, 0.95, &t, &se, &lo, &hi));
  ck_assert(t == 1 && se == 0 && lo == 1 && hi == 1);
  ck_assert_int_eq(ir_stats_kendall_tau_ci(x, y, 2, 0.95, &t, &se, &lo, &hi),
                   IR_EINVAL);
  ck_assert_int_eq(ir_stats_kendall_tau_ci(x, y, n, 1.0, &t, &se, &lo, &hi),
                   IR_EINVAL);
  gsl_rng_free(r);
}
END_TEST

static Suite *stats_suite(void) {
  Suite *s = suite_create("stats");
  TCase *tc = tcase_create("summary");
  tcase_add_test(tc, test_summary_small);
  tcase_add_test(tc, test_summary_odd_median);
  tcase_add_test(tc, test_summary_single);
  tcase_add_test(tc, test_summary_offset);
  tcase_add_test(tc, test_summary_constant);
  tcase_add_test(tc, test_summary_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("fit");
  tcase_add_test(tc, test_linfit_exact);
  tcase_add_test(tc, test_linfit_noisy);
  tcase_add_test(tc, test_linfit_two_points_and_nulls);
  tcase_add_test(tc, test_linfit_errors);
  tcase_add_test(tc, test_loglog_power_law);
  tcase_add_test(tc, test_loglog_errors);
  tcase_add_test(tc, test_kendall_tau);
  tcase_add_test(tc, test_sign_test);
  tcase_add_test(tc, test_kendall_tau_interval);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(stats_suite());
}
