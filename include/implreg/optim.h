/* implreg/optim.h — first-order optimizers on the model interface.
 *
 * Gradient descent (full batch), SGD (mini-batches with or without
 * replacement) and heavy-ball momentum (v ← βv + g, θ ← θ − ηv; with β = 0 it
 * is plain GD/SGD), from a caller-given θ₀.  Divergence is a result, not a
 * crash: when the loss becomes non-finite or exceeds diverge_ratio times the
 * initial loss, the run stops with result.diverged = 1 and θ holds an
 * iterate whose full loss is finite: for GD the last one; for mini-batches
 * the iterate of the last epoch end, or θ₀ if that one's full loss is not
 * finite (see ir_optim_run for when each loss is looked at).
 *
 * Mini-batch order comes from the stream (seed, stream) of rng.h, so a run
 * is reproducible bit for bit for a given BLAS thread count.
 */
#ifndef IMPLREG_OPTIM_H
#define IMPLREG_OPTIM_H

#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double lr;        /* step size η > 0 */
  double momentum;  /* heavy-ball β in [0, 1); 0 for GD/SGD */
  double egr;       /* explicit gradient regularization μ >= 0: descend on
                       L_B + μ‖∇L_B‖² (L_B the batch loss); its gradient
                       g + 2μ·H g costs one extra HVP per step. 0: off */
  size_t batch;     /* mini-batch size; 0 or >= n: full batch (GD) */
  int replacement;  /* SGD: sample each batch with replacement */
  size_t max_steps; /* number of iterations (parameter updates) */
  double loss_goal; /* stop once the full-batch loss is <= this (< 0: off) */
  double diverge_ratio; /* diverged when loss > ratio·max(|L₀|, tiny); 1e8 */
  unsigned long seed;   /* >= 1 */
  uint64_t stream;      /* random stream id for batch order */
} ir_optim_params;

/* Defaults: lr 0 (must be set), β 0, no EGR, full batch, no replacement, 1000
 * steps, no loss goal, diverge_ratio 1e8, seed 1, stream
 * ir_rng_stream(IR_STREAM_SGD, 0, 0). */
void ir_optim_params_default(ir_optim_params *p);

/* Checks a parameter set; IR_EINVAL with a message naming the bad field. */
int ir_optim_params_check(const ir_optim_params *p);

enum {
  IR_OPTIM_MAX_STEPS = 0, /* ran all steps */
  IR_OPTIM_GOAL = 1,      /* reached the loss goal */
  IR_OPTIM_DIVERGED = 2,  /* loss exploded or became non-finite */
  IR_OPTIM_STOPPED = 3    /* the observer asked to stop */
};

typedef struct {
  size_t steps;        /* updates performed */
  int reason;          /* IR_OPTIM_* */
  int diverged;        /* 1 when reason == IR_OPTIM_DIVERGED */
  size_t diverged_at;  /* step at which divergence was detected */
  double initial_loss; /* full-batch loss at θ₀ */
  double final_loss;   /* full-batch loss at the returned θ */
} ir_optim_result;

/* Called with θ_t after step t (t = 0 is θ₀, before any update).  Return
 * non-zero to stop the run.  May be NULL. */
typedef int (*ir_optim_observer)(void *ctx, size_t step,
                                 const gsl_vector *theta);

/* Runs the optimizer on model m from theta (overwritten with the final
 * iterate).  Cost per step: one gradient on a batch (plus one HVP with
 * EGR); per run, the full-batch loss at θ₀ and at the returned θ.
 *
 * Divergence checks.  Full batch: the loss of every iterate (it comes with
 * the gradient).  Mini-batches: every step, the batch loss and the gradient
 * must be finite; at every epoch end (every ceil(n/batch) steps) the mean
 * of the epoch's batch losses, weighted by batch size, must be <= the limit
 * — the batch losses are computed anyway, so the check is free; the full
 * loss is evaluated at epoch ends only when a loss goal is set (it then
 * decides the goal and must be finite and <= the limit too); and the full
 * loss of the returned θ is checked at the end of the run.  (A full loss
 * at every epoch end would cost a forward pass over all n samples, half as
 * much again as the epoch's gradients.) */
int ir_optim_run(ir_model *m, const ir_optim_params *p, gsl_vector *theta,
                 ir_optim_observer observe, void *ctx, ir_optim_result *res);

#ifdef __cplusplus
}
#endif
#endif
