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

/* xoshiro256** (Blackman & Vigna 2018) as a GSL generator type, so that all
 * of GSL's distributions can draw from it.  Unlike MT19937, whose seed is 32
 * bits, it is seeded with the full 64-bit stream key (expanded to 256 bits of
 * state by splitmix64), so distinct (seed, stream) pairs of a large grid do
 * not collide (for 10⁴ streams, 32-bit seeds collide with probability ~1%). */
typedef struct {
  uint64_t s[4];
} ir_xoshiro_state;

static inline uint64_t ir_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static unsigned long ir_xoshiro_get(void *vstate) {
  ir_xoshiro_state *st = vstate;
  uint64_t *s = st->s;
  const uint64_t out = ir_rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ir_rotl(s[3], 45);
  return (unsigned long)out;
}

static double ir_xoshiro_get_double(void *vstate) {
  /* The top 53 bits give a uniform double in [0, 1). */
  return (double)(ir_xoshiro_get(vstate) >> 11) * 0x1.0p-53;
}

static void ir_xoshiro_set(void *vstate, unsigned long seed) {
  ir_xoshiro_state *st = vstate;
  uint64_t x = (uint64_t)seed;
  for (int i = 0; i < 4; i++) {
    x += 0x9e3779b97f4a7c15ULL;
    st->s[i] = ir_rng_mix64(x);
  }
}

static const gsl_rng_type ir_xoshiro_type = {"xoshiro256**",
                                             (unsigned long)UINT64_MAX,
                                             0,
                                             sizeof(ir_xoshiro_state),
                                             ir_xoshiro_set,
                                             ir_xoshiro_get,
                                             ir_xoshiro_get_double};

const gsl_rng_type *ir_rng_xoshiro256 = &ir_xoshiro_type;

gsl_rng *ir_rng_alloc(unsigned long seed, uint64_t stream) {
  if (seed == 0) {
    ir_error(IR_EINVAL, "seed 0 is not allowed (seeds start at 1)");
    return NULL;
  }
  gsl_rng *r = gsl_rng_alloc(ir_rng_xoshiro256);
  if (r == NULL) {
    ir_error(IR_ENOMEM, "cannot allocate a random generator");
    return NULL;
  }
  gsl_rng_set(
      r, (unsigned long)ir_rng_mix64(ir_rng_mix64((uint64_t)seed) ^ stream));
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
