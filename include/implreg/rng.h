/* implreg/rng.h — reproducible random streams.
 *
 * A stream is named by (seed, stream id).  The generator state is a pure
 * function of that pair (splitmix64 mixing of both into a 64-bit key that
 * seeds xoshiro256**, wrapped as a GSL generator type), so the numbers a grid
 * cell draws do not depend on which thread or process computes it, nor on the
 * order of the cells.  Stream ids are built from small integers with
 * ir_rng_stream(), e.g. ir_rng_stream(IR_STREAM_SGD, seed_index, batch_size).
 */
#ifndef IMPLREG_RNG_H
#define IMPLREG_RNG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Purposes of random streams; part of every stream id so that, e.g., the
 * data draw and the SGD shuffles of one seed are independent. */
enum {
  IR_STREAM_DATA = 1,     /* synthetic data, subsets, label noise */
  IR_STREAM_INIT = 2,     /* initial parameters */
  IR_STREAM_SGD = 3,      /* mini-batch order */
  IR_STREAM_FEATURES = 4, /* random feature draws */
  IR_STREAM_PROBE = 5,    /* probe vectors (Hutchinson, Lanczos starts) */
  IR_STREAM_TEST = 6      /* test-set draws */
};

/* splitmix64 finalizer: a bijection of 64-bit integers with full avalanche. */
uint64_t ir_rng_mix64(uint64_t x);

/* A stream id from a purpose and two integers (order matters). */
uint64_t ir_rng_stream(uint64_t purpose, uint64_t a, uint64_t b);

/* The xoshiro256** generator type (Blackman & Vigna 2018, 2^256 − 1 period),
 * usable with any GSL distribution; gsl_rng_set seeds it with a full 64-bit
 * value. */
extern const gsl_rng_type *ir_rng_xoshiro256;

/* Allocates a generator whose state depends only on (seed, stream).
 * seed must be >= 1 (gsl_rng_set treats 0 as "default"; implreg seeds start
 * at 1).  Returns NULL (and records a message) on a zero seed or no memory.
 * The caller frees it with ir_rng_free. Cost: O(1). */
gsl_rng *ir_rng_alloc(unsigned long seed, uint64_t stream);

/* Frees a generator; NULL is a no-op. */
void ir_rng_free(gsl_rng *r);

/* Fills perm[0..n) with a uniformly random permutation of 0..n-1
 * (Fisher–Yates on r). */
void ir_rng_permutation(gsl_rng *r, size_t *perm, size_t n);

#ifdef __cplusplus
}
#endif
#endif
