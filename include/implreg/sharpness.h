/* implreg/sharpness.h — flatness measures of a minimum beyond the Hessian:
 * Keskar et al.'s ε-sharpness, and the layer rescaling of Dinh et al. that
 * changes such measures without changing the function.
 *
 * ε-sharpness (Keskar, Mudigere, Nocedal, Smelyanskiy, Tang 2017,
 * arXiv:1609.04836, Metric 2.1; docs/theory.md §9): for a loss f at x ∈ R^p
 * and a p×r matrix A,
 *
 *   φ(ε, A) = 100 · [max_{y ∈ C_ε} f(x + A y) − f(x)] / (1 + f(x)),
 *   C_ε = {y ∈ R^r : |y_i| <= ε(|(A⁺x)_i| + 1)},
 *
 * with A = I (r = p, the full space) or a random Gaussian p×r matrix (a
 * random r-dimensional subspace; Keskar et al. use r = 100).  The maximum is
 * not computable exactly; Keskar et al. take a few L-BFGS-B iterations.
 * implreg uses projected gradient ascent with an Armijo rule along the
 * projection arc (Bertsekas 1976), which needs only the loss and gradient
 * and reports how many it took.  It starts at a random feasible point: at an
 * exact minimum the gradient at y = 0 is zero and an ascent from there never
 * moves (docs/theory.md §9).  The value is a lower bound on the true
 * maximum (every iterate is feasible), so φ is reported as such.
 *
 * Cost: iterations × (1 + backtracking steps) loss-and-gradient evaluations
 * on the batch, plus for a random A one p×r QR (2pr² flops) for A⁺x and two
 * p×r products per evaluation.  Memory: the p×r matrix A and O(p + r).
 * Randomness (A and the start) from (seed, stream): reproducible.
 */
#ifndef IMPLREG_SHARPNESS_H
#define IMPLREG_SHARPNESS_H

#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double eps;         /* ε > 0 (Keskar et al.: 1e-3 and 5e-4) */
  size_t rank;        /* 0: A = I; r >= 1: A random p×r, N(0, 1) entries */
  size_t max_iter;    /* ascent iterations (>= 1) */
  unsigned long seed; /* >= 1: A and the random start */
  uint64_t stream;
} ir_sharpness_params;

/* Defaults: eps 1e-3, rank 0 (A = I), max_iter 50, seed 1,
 * stream ir_rng_stream(IR_STREAM_PROBE, 90, 0). */
void ir_sharpness_params_default(ir_sharpness_params *p);

typedef struct {
  double phi;       /* 100·(fmax − f0)/(1 + f0) */
  double f0;        /* f(x) */
  double fmax;      /* the largest f(x + A y) found, y ∈ C_ε */
  size_t nevals;    /* loss-and-gradient evaluations (f0 included) */
  size_t iters;     /* ascent iterations done */
  double at_bound;  /* fraction of the y_i on a face of the box at the end
                       (a convex f is maximized at a vertex: 1) */
  int stationary;   /* 1: stopped because the projected step vanished */
} ir_sharpness_result;

/* ε-sharpness of model m at θ on a batch (idx == NULL: all samples).
 * IR_EINVAL for bad parameters; model errors pass through. */
int ir_sharpness_eps(ir_model *m, const gsl_vector *theta, const size_t *idx,
                     size_t nb, const ir_sharpness_params *p,
                     ir_sharpness_result *out);

#ifdef __cplusplus
}
#endif
#endif
