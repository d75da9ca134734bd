/* rng.c — reproducible random streams keyed by (seed, stream id). */
#include "implreg/rng.h"

#include "implreg/status.h"

uint64_t ir_rng_mix64(uint64_t x) {
  /* splitmix64 (Steele, Lea, Flood 2014): increment then finalize. */
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t ir_rng_stream(uint64_t purpose, uint64_t a, uint64_t b) {
  return ir_rng_mix64(ir_rng_mix64(ir_rng_mix64(purpose) ^ a) ^ b);
}

gsl_rng *ir_rng_alloc(unsigned long seed, uint64_t stream) {
  if (seed == 0) {
    ir_error(IR_EINVAL, "seed 0 is not allowed (seeds start at 1)");
    return NULL;
  }
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (r == NULL) {
    ir_error(IR_ENOMEM, "cannot allocate a random generator");
    return NULL;
  }
  uint64_t key = ir_rng_mix64(ir_rng_mix64((uint64_t)seed) ^ stream);
  /* MT19937 takes a 32-bit seed; fold the key and avoid 0 (GSL's default). */
  unsigned long s = (unsigned long)((key ^ (key >> 32)) & 0xffffffffUL);
  gsl_rng_set(r, s == 0 ? 1UL : s);
  return r;
}

void ir_rng_free(gsl_rng *r) {
  if (r != NULL)
    gsl_rng_free(r);
}

void ir_rng_permutation(gsl_rng *r, size_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)gsl_rng_uniform_int(r, (unsigned long)i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}
