/* implreg/mlp.h — fully connected networks on the model interface.
 *
 * A network d → H₁ → … → K: linear layers with biases, an activation after
 * every layer but the last.  One hidden layer is the two-layer net; no
 * hidden layer with cross-entropy is (multinomial) logistic regression.
 *
 * Parameters θ are one flat vector in PyTorch's order and layout: for each
 * linear layer, its weight (out × in, row-major) then its bias — exactly
 *   torch.cat([p.detach().flatten() for p in net.parameters()])
 * for net = torch.nn.Sequential(Linear(d, H₁), act, …, Linear(H_L, K)).
 *
 * Losses (m = samples in the batch, K outputs, f_i the network output):
 *   IR_LOSS_MSE       (1/(mK)) Σ_i ‖f_i − y_i‖²   torch.nn.MSELoss()
 *   IR_LOSS_HALF_SSE  (1/(2m)) Σ_i ‖f_i − y_i‖²   docs/theory.md's ½·mean (§1,
 * §7) IR_LOSS_CE        (1/m) Σ_i Σ_k y_ik (logsumexp(f_i) − f_ik)
 *                     torch.nn.CrossEntropyLoss() for one-hot rows y_i
 *                     (soft targets allowed; labels go in as one-hot rows)
 *
 * Activations: ReLU (derivative 0 at 0, as torch), tanh, softplus
 * log(1 + eᶻ) computed stably (torch's Softplus returns z itself beyond
 * z > 20, a relative difference below 2e-9), GELU z·Φ(z) (torch's default,
 * exact erf form), and the identity (a linear network, for tests).
 *
 * Gradients are exact (backpropagation) and Hessian-vector products exact
 * (Pearlmutter's R-operator), both batched over samples with dgemm: rows
 * are samples throughout.  Cost on a batch of m rows, in flops, for a layer
 * with f = in·out weights: forward 2mf; gradient 2mf more (4mf for every
 * layer but the first, whose input gradient is never formed); HVP 4mf for
 * the first layer and 8mf for the others (R-forward and R-backward).  For
 * 784-64-10 the first layer dominates, so a gradient and an HVP each cost
 * about two dgemms of 2m·784·64 flops.  The HVP reuses the forward and
 * backward pass of the last call when θ and the batch are the same (the
 * Lanczos case: many HVPs at one θ), so a Hessian-vector product there
 * costs the R-passes only.  (To know θ again the model keeps a copy of it;
 * gradient calls make that copy only once the model has served a
 * second-order call, so plain training does not pay it, and the first HVP
 * after a gradient at the same θ then redoes the two passes once.)
 *
 * Mini-batches: the rows are gathered into a buffer, except when the
 * indices are one run of consecutive rows (i, i+1, …), which is read in
 * place as a strided view of X (same numbers, no copy).  The ReLU Hessian is the generalized one (σ'' = 0
 * away from the kink), which is what autograd computes.
 *
 * The dense Hessian, eigenvalues, trace and density: curvature.h, through
 * ir_linop_hessian.
 *
 * Small networks.  Below IR_MLP_SMALL_FLOPS flops per forward pass
 * (2·m·Σ in_l·out_l on a batch of m >= IR_MLP_SMALL_MIN_ROWS rows) the
 * loss, gradient and HVP (and
 * ir_model_hvp_many, one vector at a time) go through fused kernels
 * without any BLAS call (src/mlp_small.c): every product runs along the
 * samples on vectors of 8 doubles (GCC/clang vector extensions, compiled
 * for AVX-512, AVX2 and the baseline where the compiler supports
 * target_clones), with activations stored unit-major, bias and activation
 * applied over whole layers, and the workspace held by the model (no
 * allocation per call once the largest batch has been seen: about
 * (d + 6K + maxw + 8·ΣH_l)·m doubles over the hidden widths H_l, m rounded
 * up to 8).  A BLAS call costs ~0.2–1 µs of fixed overhead here, which is
 * most of a 4-32-1 network's step (4-32-1, n = 64, one thread: GD step
 * 5.1 → 2.0 µs, HVP 3.9 → 1.6 µs, tanh included); BLAS wins once a product
 * is large enough to amortize its packing.  The results equal the BLAS
 * path's to rounding (the order of the sums differs; tests/test_mlp.c
 * compares them).  Quadratic forms
 * (ir_model_quad_many) always take the BLAS path.  The threshold was chosen
 * by timing both paths on a grid of shapes (bench/bench_mlp_paths.c, see
 * bench/README.md): see IR_MLP_SMALL_FLOPS.
 *
 * Memory: the model borrows X (n×d) and Y (n×K) and keeps activations for
 * the largest batch seen: about (2·ΣH_l + 2K)·m doubles plus the same again
 * for the HVP, and (d + K)·m for the largest gathered mini-batch.
 */
#ifndef IMPLREG_MLP_H
#define IMPLREG_MLP_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>

#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IR_MLP_MAX_LAYERS 16 /* linear layers */

typedef enum {
  IR_ACT_RELU = 0,
  IR_ACT_TANH = 1,
  IR_ACT_SOFTPLUS = 2,
  IR_ACT_GELU = 3,
  IR_ACT_IDENTITY = 4
} ir_act;

typedef enum {
  IR_LOSS_MSE = 0,      /* torch MSELoss: mean over all m·K elements */
  IR_LOSS_HALF_SSE = 1, /* ½·mean over samples of the sum over outputs */
  IR_LOSS_CE = 2        /* softmax cross-entropy, mean over samples */
} ir_loss;

typedef struct {
  size_t nlayers;                      /* linear layers L >= 1 */
  size_t width[IR_MLP_MAX_LAYERS + 1]; /* d, H₁, …, H_{L−1}, K */
  ir_act act;
  ir_loss loss;
} ir_mlp_arch;

/* Parses "784-64-10" (d-H₁-…-K, at least two numbers) into arch->width and
 * nlayers; act and loss are left unchanged.  IR_EINVAL with a message naming
 * the bad token. */
int ir_mlp_arch_parse(const char *spec, ir_mlp_arch *arch);

/* Parse/print the names used on the command line and in table headers:
 * "relu", "tanh", "softplus", "gelu", "identity"; "mse", "half-mse", "ce". */
int ir_act_parse(const char *name, ir_act *act);
int ir_loss_parse(const char *name, ir_loss *loss);
const char *ir_act_name(ir_act act);
const char *ir_loss_name(ir_loss loss);
/* The loss written out, for table headers, e.g.
 * "L = (1/(mK)) sum ||f(x_i) - y_i||^2 (torch MSELoss)". */
const char *ir_loss_formula(ir_loss loss);

/* Number of parameters: Σ_l (in_l·out_l + out_l). */
size_t ir_mlp_nparams(const ir_mlp_arch *arch);

/* Offsets of layer l's (0-based) weight and bias inside θ. */
size_t ir_mlp_weight_offset(const ir_mlp_arch *arch, size_t l);
size_t ir_mlp_bias_offset(const ir_mlp_arch *arch, size_t l);

/* The network on X (n×d) and targets Y (n×K), both BORROWED.  For
 * IR_LOSS_CE, Y holds one-hot (or probability) rows.  NULL on failure
 * (bad shapes, non-finite entries in X or Y, out of memory: message
 * recorded). */
ir_model *ir_model_mlp_alloc(const ir_mlp_arch *arch, const gsl_matrix *X,
                             const gsl_matrix *Y);

/* Multinomial logistic regression: the network d → K with cross-entropy. */
ir_model *ir_model_logistic_alloc(const gsl_matrix *X, const gsl_matrix *Y);

/* The path of the products (see "Small networks" above). */
typedef enum {
  IR_MLP_KERNELS_AUTO = 0,  /* small at or below IR_MLP_SMALL_FLOPS with
                               >= IR_MLP_SMALL_MIN_ROWS rows, else BLAS */
  IR_MLP_KERNELS_BLAS = 1,  /* always BLAS (dgemm) */
  IR_MLP_KERNELS_SMALL = 2  /* always the fused kernels (any size; slow on
                               large layers) */
} ir_mlp_kernels;

/* AUTO takes the fused kernels for a call on m rows when its forward pass
 * costs at most IR_MLP_SMALL_FLOPS flops (2·m·Σ in_l·out_l) and m >=
 * IR_MLP_SMALL_MIN_ROWS, else BLAS.  How it was chosen
 * (bench/bench_mlp_paths.c, 2026-12-05, one thread, two runs, on a shared
 * 2-core machine at load average 8–10, so only large ratios count): the
 * fused path won in most cases for 4-H-1 networks (H = 32…128) at m >= 64
 * (BLAS time / fused time 0.9–2.7 on the GD step, 0.7–10 on the HVP; the
 * 4-32-1 network at m = 64: 1.2–2.7 and 1.4–1.5), but lost on 16-row
 * batches of wider networks (10-32-10, 32-32-1, 4-32-32-1: 0.3–0.6×),
 * where too few sample vectors leave its products latency-bound, and on
 * wide inputs at any size (784-16-10 at 0.4 MFLOP: 0.05×).  Between 0.1
 * and 1 MFLOP the measurements did not show a consistent winner.  So the
 * threshold sits at 0.1 MFLOP with at least 32 rows: the 4-32-1 network of
 * the analyses (n = 64, 0.02 MFLOP) is inside, and no shape measured to
 * lose by more than noise is. */
#define IR_MLP_SMALL_FLOPS 1.0e5
#define IR_MLP_SMALL_MIN_ROWS 32

/* Forces a path for m's later calls (the default is AUTO); for tests and
 * benchmarks.  IR_EINVAL if m is not a network model. */
int ir_model_mlp_set_kernels(ir_model *m, ir_mlp_kernels k);
/* The path the last loss, gradient or HVP call of m took (BLAS or SMALL;
 * AUTO before the first call or if m is not a network model). */
ir_mlp_kernels ir_model_mlp_last_kernels(const ir_model *m);

/* The architecture of an MLP model (NULL if m is another kind of model). */
const ir_mlp_arch *ir_model_mlp_arch(const ir_model *m);

/* PyTorch's default initialization for nn.Linear (weights and biases
 * uniform on ±1/√in), drawn from r in θ's order. */
void ir_mlp_init_torch(const ir_mlp_arch *arch, gsl_rng *r, gsl_vector *theta);

/* The pieces of the forward pass, for code that forms a layer's
 * pre-activations its own way (landscape.h's batched slices):
 * a = σ(z) elementwise (a may be z), with the model's own arithmetic; and
 * the loss of outputs F (m×K, row-major) against targets Y (m rows,
 * leading dimension ldy) as the model defines it. */
void ir_mlp_activate(ir_act act, const double *z, double *a, size_t len);
double ir_mlp_output_loss(ir_loss loss, const double *F, size_t m, size_t K,
                          const double *Y, size_t ldy);

/* Fraction of rows whose largest output is in the column of the largest
 * target (classification accuracy for one-hot Y) at θ on X, Y. */
int ir_mlp_accuracy(ir_model *m, const gsl_vector *theta, const gsl_matrix *X,
                    const gsl_matrix *Y, double *acc);

#ifdef __cplusplus
}
#endif
#endif
