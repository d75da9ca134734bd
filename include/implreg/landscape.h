/* implreg/landscape.h — pictures of the loss around minima, and the layer
 * rescalings that change curvature without changing the function.
 *
 * - Directions: Gaussian, then filter-normalized (Li, Xu, Taylor, Studer,
 *   Goldstein 2018, arXiv:1712.09913, §4): for a network, each row of each
 *   weight matrix of the direction (the weights into one unit — the "filter"
 *   of a fully connected layer) is scaled to the norm of the same row of θ,
 *   and the biases' components are set to 0, so that a slice's scale is the
 *   network's own and does not depend on how its layers happen to be scaled.
 *   For a model without layers the whole direction gets the norm of θ.
 * - Slices: L(θ + t d) on a list of t, and L(θ + s d₁ + t d₂) on a grid.
 * - Paths: L((1 − t)θ_a + tθ_b) between two minima, and its barrier
 *   max_t [L(t) − ((1 − t)L(0) + tL(1))] (the height above the straight line
 *   between the ends; Frankle et al. 2020, arXiv:1912.05671, use the same).
 * - Rescaling (Dinh, Pascanu, Bengio, Bengio 2017, arXiv:1703.04933): for a
 *   positively homogeneous activation (ReLU, identity), multiplying layer l's
 *   weights and bias by α > 0 and layer l+1's weights by 1/α leaves the
 *   network's function unchanged while λ_max, the trace and ε-sharpness
 *   change (docs/theory.md §9).  Balancing — the rescaling that gives every
 *   layer the same norm ‖(W_l, b_l)‖ — maps all of a network's rescalings to
 *   one point, so a measure taken after balancing is invariant to them.
 *
 * Cost: one loss evaluation per slice point (no gradients); O(p) for
 * directions and rescalings.  Ownership: outputs are caller-allocated.
 */
#ifndef IMPLREG_LANDSCAPE_H
#define IMPLREG_LANDSCAPE_H

#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/mlp.h"
#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* d = a Gaussian direction from (seed, stream), filter-normalized against
 * θ: by rows of each weight matrix when arch != NULL (biases 0), else as a
 * whole.  Rows (or θ) that are zero give zero.  d and θ have length p. */
int ir_landscape_direction(const ir_mlp_arch *arch, const gsl_vector *theta,
                           unsigned long seed, uint64_t stream, gsl_vector *d);

/* Filter-normalizes a given direction in place (e.g. a Hessian
 * eigenvector), as ir_landscape_direction does. */
int ir_landscape_normalize(const ir_mlp_arch *arch, const gsl_vector *theta,
                           gsl_vector *d);

/* loss[i] = L(θ + t[i]·d) on the batch (idx == NULL: all samples). */
int ir_landscape_slice(ir_model *m, const gsl_vector *theta,
                       const gsl_vector *d, const size_t *idx, size_t nb,
                       const double *t, size_t nt, double *loss);

/* loss[i·nt + j] = L(θ + s[i]·d1 + t[j]·d2). */
int ir_landscape_slice2(ir_model *m, const gsl_vector *theta,
                        const gsl_vector *d1, const gsl_vector *d2,
                        const size_t *idx, size_t nb, const double *s,
                        size_t ns, const double *t, size_t nt, double *loss);

/* The slices of a network on its data X (n×d), Y (n×K) (both borrowed,
 * the model's training set), batched over the points: loss[i·nt + j] =
 * L(θ + s[i]·d1 + t[j]·d2) as ir_landscape_slice2, or, when d2 == NULL
 * (then t == NULL, nt == 0), loss[i] = L(θ + s[i]·d1) as
 * ir_landscape_slice.  The first layer's pre-activations are affine in
 * the point,
 *   X(W₁ + s D₁ + t D₂)ᵀ = XW₁ᵀ + s·XD₁ᵀ + t·XD₂ᵀ,
 * so they come from one dgemm of X with the three stacked H₁×d matrices
 * (2n·d·3H₁ flops) instead of one n×d×H₁ dgemm per point; each point then
 * costs O(n·H₁) for the combination plus the later layers' forward pass
 * (weights formed as ir_landscape_slice2 forms them).  For a network whose
 * first layer dominates (784-32-10: 99% of the flops) a 21×21 grid costs
 * about 3 points' worth of products.  The values equal the per-point ones
 * up to rounding (the first layer's sums are reassociated).  Memory:
 * 3·n·H₁ + 2·n·max H + 3·p doubles.  IR_EINVAL/IR_ESHAPE for bad
 * arguments. */
int ir_landscape_slice_mlp(const ir_mlp_arch *arch, const gsl_matrix *X,
                           const gsl_matrix *Y, const gsl_vector *theta,
                           const gsl_vector *d1, const gsl_vector *d2,
                           const double *s, size_t ns, const double *t,
                           size_t nt, double *loss);

/* loss[i] = L((1 − t_i)θ_a + t_i θ_b), t_i = i/(npts − 1), npts >= 2;
 * *barrier = max_i [loss[i] − ((1 − t_i)loss[0] + t_i loss[npts−1])] (>= 0
 * since the ends give 0). */
int ir_landscape_path(ir_model *m, const gsl_vector *theta_a,
                      const gsl_vector *theta_b, const size_t *idx, size_t nb,
                      size_t npts, double *loss, double *barrier);

/* out = θ with layer l's weights and bias times alpha and layer l+1's
 * weights divided by it (0 <= l < nlayers − 1, alpha > 0).  IR_EINVAL for
 * an activation that is not positively homogeneous (tanh, softplus, GELU:
 * the function would change).  out may be θ. */
int ir_mlp_rescale(const ir_mlp_arch *arch, const gsl_vector *theta, size_t l,
                   double alpha, gsl_vector *out);

/* out = the rescaling of θ (a product of ir_mlp_rescale steps, so the same
 * function) whose weight matrices all have the Frobenius norm
 * g = (Π_l ‖W_l‖)^(1/L): layer l's weights are multiplied by c_l = g/‖W_l‖
 * and its bias by c_0·…·c_l (Π_l c_l = 1, so the output layer's scale is
 * kept).  Every rescaling of θ balances to the same point.  Same conditions
 * as ir_mlp_rescale; a zero weight matrix is IR_EDOM.  out may be θ. */
int ir_mlp_balance(const ir_mlp_arch *arch, const gsl_vector *theta,
                   gsl_vector *out);

#ifdef __cplusplus
}
#endif
#endif
