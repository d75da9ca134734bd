/* test_rng.c — reproducible streams, the splitmix64 mixer, and uniform
 * permutations. */
#include "implreg/rng.h"

#include "testutil.h"

#include <gsl/gsl_cdf.h>
#include <stdint.h>
#include <string.h>

/* Compares 64-bit integers for qsort. */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Returns 1 when the first len outputs of r1 and r2 coincide. */
static int same_sequence(gsl_rng *r1, gsl_rng *r2, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (gsl_rng_get(r1) != gsl_rng_get(r2))
      return 0;
  return 1;
}

/* ---- Streams ------------------------------------------------------------- */

START_TEST(test_same_key_same_sequence) {
  const uint64_t stream = ir_rng_stream(IR_STREAM_SGD, 3, 7);
  gsl_rng *a = ir_rng_alloc(5, stream);
  gsl_rng *b = ir_rng_alloc(5, stream);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  /* The header promises xoshiro256**. */
  ck_assert_str_eq(gsl_rng_name(a), "xoshiro256**");
  ck_assert(same_sequence(a, b, 2000));
  ir_rng_free(a);
  ir_rng_free(b);
}
END_TEST

START_TEST(test_xoshiro_reference) {
  /* Outputs of the reference xoshiro256** (Blackman & Vigna) from the state
   * {1, 2, 3, 4}, computed independently with Python integers. */
  static const uint64_t want[4] = {11520ULL, 0ULL, 1509978240ULL,
                                   1215971899390074240ULL};
  gsl_rng *r = gsl_rng_alloc(ir_rng_xoshiro256);
  ck_assert_ptr_nonnull(r);
  uint64_t *st = (uint64_t *)r->state;
  st[0] = 1;
  st[1] = 2;
  st[2] = 3;
  st[3] = 4;
  for (int i = 0; i < 4; i++)
    ck_assert_uint_eq((uint64_t)gsl_rng_get(r), want[i]);
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_different_keys_differ) {
  const uint64_t s1 = ir_rng_stream(IR_STREAM_SGD, 0, 0);
  const uint64_t s2 = ir_rng_stream(IR_STREAM_SGD, 0, 1);
  /* Each comparison consumes its generators, so each gets fresh ones. */
  gsl_rng *a = ir_rng_alloc(1, s1), *b = ir_rng_alloc(1, s2);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert(!same_sequence(a, b, 16));
  ir_rng_free(a);
  ir_rng_free(b);
  a = ir_rng_alloc(1, s1);
  b = ir_rng_alloc(2, s1);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert(!same_sequence(a, b, 16));
  ir_rng_free(a);
  ir_rng_free(b);
}
END_TEST

START_TEST(test_grid_of_keys_distinct) {
  /* A realistic experiment grid: 20 seeds × 20 × 10 SGD streams = 4000
   * generators.  Their first 64-bit outputs must all differ: with a full
   * 64-bit key two of them agree by chance with probability ≈ 4000²/2⁶⁵. */
  enum { NSEED = 20, NA = 20, NB = 10, N = NSEED * NA * NB };
  static uint64_t first[N];
  /* Hot loops count problems and assert once: every Check assertion costs
   * a message to the runner. */
  size_t k = 0, failed = 0, repeats = 0;
  for (unsigned long seed = 1; seed <= NSEED; seed++)
    for (uint64_t a = 0; a < NA; a++)
      for (uint64_t b = 0; b < NB; b++) {
        gsl_rng *r = ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_SGD, a, b));
        if (r == NULL) {
          failed++;
          first[k++] = 0;
          continue;
        }
        first[k++] = (uint64_t)gsl_rng_get(r);
        ir_rng_free(r);
      }
  ck_assert_uint_eq(failed, 0);
  qsort(first, N, sizeof first[0], cmp_u64);
  for (size_t i = 1; i < N; i++)
    repeats += first[i] == first[i - 1];
  ck_assert_msg(repeats == 0,
                "%zu (seed, stream) pairs of the grid repeat a sequence",
                repeats);
}
END_TEST

START_TEST(test_seed_zero_rejected) {
  ir_error_clear();
  gsl_rng *r = ir_rng_alloc(0, ir_rng_stream(IR_STREAM_DATA, 0, 0));
  ck_assert_ptr_null(r);
  ck_assert_str_ne(ir_error_message(), "");
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "seed"));
}
END_TEST

START_TEST(test_free_null) {
  ir_rng_free(NULL);
}
END_TEST

START_TEST(test_stream_order_matters) {
  /* Swapping a and b, or changing the purpose, gives another id. */
  for (uint64_t a = 0; a < 8; a++)
    for (uint64_t b = 0; b < 8; b++) {
      if (a != b)
        ck_assert(ir_rng_stream(IR_STREAM_SGD, a, b) !=
                  ir_rng_stream(IR_STREAM_SGD, b, a));
      ck_assert(ir_rng_stream(IR_STREAM_SGD, a, b) !=
                ir_rng_stream(IR_STREAM_DATA, a, b));
      /* The id is a pure function of its arguments. */
      ck_assert(ir_rng_stream(IR_STREAM_INIT, a, b) ==
                ir_rng_stream(IR_STREAM_INIT, a, b));
    }
}
END_TEST

/* ---- splitmix64 ---------------------------------------------------------- */

START_TEST(test_mix64_reference) {
  /* splitmix64 started from state 0 (Vigna's reference splitmix64.c) outputs
   * 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f: its k-th
   * output is the finalizer of k·0x9e3779b97f4a7c15, which is mix64 of
   * (k − 1)·0x9e3779b97f4a7c15. */
  const uint64_t golden = 0x9e3779b97f4a7c15ULL;
  ck_assert(ir_rng_mix64(0) == 0xe220a8397b1dcdafULL);
  ck_assert(ir_rng_mix64(golden) == 0x6e789e6aa1b965f4ULL);
  ck_assert(ir_rng_mix64(2 * golden) == 0x06c45d188009454fULL);
}
END_TEST

/* The inverse of an odd 64-bit multiplier modulo 2⁶⁴ by Newton's iteration
 * y ← y(2 − cy), which doubles the number of correct low bits each time
 * (c is its own inverse to 3 bits, so 5 iterations give 96 > 64). */
static uint64_t inverse_odd(uint64_t c) {
  uint64_t y = c;
  for (int i = 0; i < 5; i++)
    y *= 2 - c * y;
  return y;
}

/* The inverse of x ↦ x ^ (x >> s): repeating the xor-shift recovers the
 * high bits first, then the lower ones. */
static uint64_t unxorshift(uint64_t y, int s) {
  uint64_t x = y;
  for (int i = s; i < 64; i += s)
    x = y ^ (x >> s);
  return x;
}

/* Undoes the splitmix64 finalizer step by step, an independent proof that
 * mix64 is injective on every value it is applied to. */
static uint64_t unmix64(uint64_t z) {
  z = unxorshift(z, 31);
  z *= inverse_odd(0x94d049bb133111ebULL);
  z = unxorshift(z, 27);
  z *= inverse_odd(0xbf58476d1ce4e5b9ULL);
  z = unxorshift(z, 30);
  return z - 0x9e3779b97f4a7c15ULL;
}

START_TEST(test_mix64_bijection_sample) {
  /* 1e5 distinct structured inputs (small consecutive integers, the values
   * ir_rng_stream actually sees, then the powers 2¹⁷..2⁶³, all above them):
   * no two outputs collide, and the explicit inverse maps each output back
   * to its input. */
  enum { N = 100000, NPOW = 47, FIRST_POW = 17 };
  static uint64_t out[N];
  size_t not_inverted = 0, collisions = 0;
  for (size_t i = 0; i < N; i++) {
    uint64_t x = i < N - NPOW ? (uint64_t)i
                              : (uint64_t)1 << (FIRST_POW + i - (N - NPOW));
    out[i] = ir_rng_mix64(x);
    not_inverted += unmix64(out[i]) != x;
  }
  ck_assert_uint_eq(not_inverted, 0);
  qsort(out, N, sizeof out[0], cmp_u64);
  for (size_t i = 1; i < N; i++)
    collisions += out[i] == out[i - 1];
  ck_assert_uint_eq(collisions, 0);
}
END_TEST

/* ---- Permutations -------------------------------------------------------- */

/* Returns 1 when perm[0..n) holds each of 0..n-1 exactly once. */
static int is_permutation(const size_t *perm, size_t n) {
  char *seen = calloc(n + 1, 1);
  int ok = 1;
  for (size_t i = 0; i < n && ok; i++) {
    if (perm[i] >= n || seen[perm[i]])
      ok = 0;
    else
      seen[perm[i]] = 1;
  }
  free(seen);
  return ok;
}

START_TEST(test_permutation_valid) {
  gsl_rng *r = ir_rng_alloc(3, ir_rng_stream(IR_STREAM_TEST, 1, 0));
  ck_assert_ptr_nonnull(r);
  const size_t sizes[] = {1, 2, 3, 10, 257};
  size_t perm[257];
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int rep = 0; rep < 20; rep++) {
      memset(perm, 0xff, sizeof perm);
      ir_rng_permutation(r, perm, sizes[s]);
      ck_assert(is_permutation(perm, sizes[s]));
    }
  /* n = 0 is an empty permutation: nothing is written. */
  perm[0] = 12345;
  ir_rng_permutation(r, perm, 0);
  ck_assert_uint_eq(perm[0], 12345);
  ir_rng_free(r);
}
END_TEST

/* The rank of a permutation of 0..3 in 0..23 (Lehmer code). */
static size_t perm4_rank(const size_t *p) {
  size_t rank = 0;
  for (size_t i = 0; i < 4; i++) {
    size_t smaller = 0;
    for (size_t j = i + 1; j < 4; j++)
      if (p[j] < p[i])
        smaller++;
    rank = rank * (4 - i) + smaller;
  }
  return rank;
}

START_TEST(test_permutation_uniform_chi2) {
  /* 24000 permutations of 4 elements: each of the 24 should appear 1000
   * times.  Under uniformity Pearson's statistic Σ(O − E)²/E is
   * asymptotically χ² with 23 degrees of freedom (E = 1000 ≫ 5, so the
   * approximation is accurate); exceeding its 99.9% quantile (≈ 49.7) has
   * probability 1e-3 for a correct shuffle, while the classic wrong
   * shuffle (j drawn from 0..n-1 at every step, 4⁴ equally likely paths)
   * gives an expected statistic of about 715 at this N. */
  enum { N = 24000, NPERM = 24 };
  gsl_rng *r = ir_rng_alloc(11, ir_rng_stream(IR_STREAM_TEST, 2, 0));
  ck_assert_ptr_nonnull(r);
  size_t count[NPERM] = {0};
  size_t perm[4];
  for (size_t i = 0; i < N; i++) {
    ir_rng_permutation(r, perm, 4);
    count[perm4_rank(perm)]++;
  }
  ir_rng_free(r);
  const double expected = (double)N / NPERM;
  double chi2 = 0;
  for (size_t k = 0; k < NPERM; k++) {
    double d = (double)count[k] - expected;
    chi2 += d * d / expected;
  }
  const double bound = gsl_cdf_chisq_Qinv(1e-3, NPERM - 1);
  ck_assert_msg(chi2 <= bound, "chi2 = %g > %g (99.9%% quantile, 23 df)", chi2,
                bound);
}
END_TEST

START_TEST(test_uniform_mean) {
  /* The mean of N uniforms on [0, 1) has standard error √(1/12)/√N; a
   * correct generator lands beyond 4 standard errors with probability
   * 6e-5. */
  enum { N = 100000 };
  gsl_rng *r = ir_rng_alloc(1, ir_rng_stream(IR_STREAM_DATA, 0, 0));
  ck_assert_ptr_nonnull(r);
  double sum = 0;
  size_t outside = 0;
  for (size_t i = 0; i < N; i++) {
    double u = gsl_rng_uniform(r);
    outside += !(u >= 0 && u < 1);
    sum += u;
  }
  ir_rng_free(r);
  ck_assert_uint_eq(outside, 0);
  const double se = sqrt(1.0 / 12.0 / N);
  ck_assert_msg(fabs(sum / N - 0.5) <= 4 * se, "mean %.17g, 4 SE = %g", sum / N,
                4 * se);
}
END_TEST

static Suite *rng_suite(void) {
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("streams");
  tcase_add_test(tc, test_same_key_same_sequence);
  tcase_add_test(tc, test_xoshiro_reference);
  tcase_add_test(tc, test_different_keys_differ);
  tcase_add_test(tc, test_grid_of_keys_distinct);
  tcase_add_test(tc, test_seed_zero_rejected);
  tcase_add_test(tc, test_free_null);
  tcase_add_test(tc, test_stream_order_matters);
  suite_add_tcase(s, tc);

  tc = tcase_create("mix64");
  tcase_add_test(tc, test_mix64_reference);
  tcase_add_test(tc, test_mix64_bijection_sample);
  suite_add_tcase(s, tc);

  tc = tcase_create("distribution");
  tcase_add_test(tc, test_permutation_valid);
  tcase_add_test(tc, test_permutation_uniform_chi2);
  tcase_add_test(tc, test_uniform_mean);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(rng_suite());
}
