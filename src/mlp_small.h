/* mlp_small.h — internal: the fused kernels of small networks (mlp_small.c)
 * and the pieces of mlp.c they share.  Not installed; the public
 * description is in include/implreg/mlp.h ("Small networks").
 *
 * Layout: unit-major ("transposed"): every per-sample quantity of a layer
 * with w units is a w × mp array, row j holding unit j for the mp samples,
 * mp = m rounded up to a multiple of IR_MLPS_LANES.  The padding samples
 * carry zero inputs and zero output gradients, so they add nothing to any
 * sum; the loss skips them. */
#ifndef IMPLREG_MLP_SMALL_H
#define IMPLREG_MLP_SMALL_H

#include <stddef.h>

#include "implreg/mlp.h"

#define IR_MLPS_LANES 8

typedef struct {
  ir_mlp_arch a;
  size_t L, K, maxw;
  size_t cap;   /* padded samples every buffer holds (multiple of LANES) */
  size_t m, mp; /* samples of the current state, padded */
  double *mem;  /* one 64-byte aligned block holding everything below */
  double *X0, *Y0; /* the batch, d × mp and K × mp */
  /* where X0, Y0 were loaded from (ir_mlps_load's reuse; NULL: not held) */
  const double *src_x, *src_y;
  size_t src_ldx, src_ldy;
  double *Z[IR_MLP_MAX_LAYERS], *A[IR_MLP_MAX_LAYERS], *S1[IR_MLP_MAX_LAYERS],
      *S2[IR_MLP_MAX_LAYERS], *G[IR_MLP_MAX_LAYERS];
  /* (S2 holds D ⊙ σ'' after ir_mlps_second, S1 σ' for every activation) */
  double *P; /* softmax of the output (CE), K × mp */
  double *RZ[IR_MLP_MAX_LAYERS], *RA[IR_MLP_MAX_LAYERS], *RG[IR_MLP_MAX_LAYERS],
      *RD;
} ir_mlps;

/* Forward-pass flops of arch on m samples, 2·m·Σ in_l·out_l: what the
 * threshold compares. */
double ir_mlps_flops(const ir_mlp_arch *a, size_t m);

/* Buffers for m samples (kept when large enough).  IR_OK or IR_ENOMEM. */
int ir_mlps_reserve(ir_mlps *s, const ir_mlp_arch *a, size_t m);
void ir_mlps_free(ir_mlps *s);

/* Loads the batch: m rows of X (leading dimension ldx) and Y (ldy).  With
 * reuse, a batch loaded from the same X, Y, m and leading dimensions is
 * kept as it is (the caller promises the rows have not changed: the
 * model's own data, which it borrows unchanged, not a gathered copy). */
void ir_mlps_load(ir_mlps *s, size_t m, const double *X, size_t ldx,
                  const double *Y, size_t ldy, int reuse);

/* Forward pass at θ: the loss; with want_grad also σ', ∂L/∂F (and P). */
double ir_mlps_forward(ir_mlps *s, const double *theta, int want_grad);
/* Backward pass after ir_mlps_forward(…, 1): every G_l and (grad != NULL)
 * the gradient. */
void ir_mlps_backward(ir_mlps *s, const double *theta, double *grad);
/* The state of the HVP (after forward and backward at the same θ): σ'
 * where the forward pass left it out, and D_l ⊙ σ'' in S2 for the smooth
 * activations (D_l = W_{l+1}ᵀ G_{l+1}, formed here). */
void ir_mlps_second(ir_mlps *s, const double *theta);
/* H v at the state's θ (after forward, backward and second). */
void ir_mlps_hvp(ir_mlps *s, const double *theta, const double *v, double *hv);

/* mlp.c's elementwise activation code, shared so that both paths compute
 * σ, σ' and σ'' with the same arithmetic. */
void ir_mlp_act_eval(ir_act act, const double *z, double *a, double *s1,
                     size_t len);
void ir_mlp_act_second(ir_act act, const double *z, const double *a,
                       const double *s1, double *s2, size_t len);
int ir_mlp_act_is_smooth(ir_act act);

#endif
