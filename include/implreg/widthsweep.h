/* implreg/widthsweep.h — model-wise and epoch-wise double descent of
 * two-layer networks (Belkin et al. 2019, arXiv:1812.11118; Nakkiran et
 * al. 2019, arXiv:1912.02292).
 *
 * The pieces of a width sweep, each a pure function of its arguments so
 * that a sweep can run as independent cells (cells.h):
 *  - input preparation: k×k average pooling of square images;
 *  - label noise (Nakkiran): a copy of a classification data set with
 *    exactly round(f·n) labels replaced by a random *incorrect* class,
 *    drawn from the stream (seed, ir_rng_stream(IR_STREAM_DATA,
 *    round(1000 f), 7)) — one draw per (noise level, seed), shared by every
 *    width; and a recount of the changed rows from the targets themselves;
 *  - the width grid: hidden widths whose parameter counts span [lo, hi]·nK
 *    geometrically, with extra points near nK;
 *  - training one network d → H → K (ReLU or another activation, squared
 *    or cross-entropy loss) with GD/heavy ball/SGD towards a loss goal with
 *    a step cap, from PyTorch's initialization drawn from (seed,
 *    ir_rng_stream(IR_STREAM_INIT, H, loss)) or from a smaller network's
 *    weights (Belkin's reuse), recording test error along the way on
 *    request (the epoch-wise curve);
 *  - the effective model complexity (Nakkiran et al. §3): the largest n
 *    whose first n training samples the procedure fits to training error
 *    <= ε, by bisection on a grid of n;
 *  - the peak of a test-error curve over widths and its height per seed.
 *
 * Cost: one training is max_steps gradients of the network on n rows
 * (about 4·n·P flops each for P parameters, mlp.h) plus one forward pass
 * on the test set; an EMC search is about log2((nmax − nmin)/step) + 2
 * trainings.  Nothing here prints; fallible functions return an IR_*
 * status with a message (status.h).
 */
#ifndef IMPLREG_WIDTHSWEEP_H
#define IMPLREG_WIDTHSWEEP_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>
#include <stddef.h>
#include <stdint.h>

#include "implreg/data.h"
#include "implreg/mlp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- data ------------------------------------------------------------------
 */

/* k×k average pooling of square side×side images (rows of X, row-major
 * pixels): *out is n × (side/k)², allocated here.  k must divide side;
 * k == 1 copies X.  IR_EINVAL / IR_ESHAPE otherwise. */
int ir_widthsweep_pool(const gsl_matrix *X, size_t side, size_t k,
                       gsl_matrix **out);

/* The label-noise stream of noise level frac: ir_rng_stream(IR_STREAM_DATA,
 * round(1000·frac), 7). */
uint64_t ir_widthsweep_noise_stream(double frac);

/* A copy of ds (which needs labels and one-hot Y) with label noise frac
 * (ir_data_label_noise) drawn from (seed, ir_widthsweep_noise_stream(frac)).
 * *out is owned by the caller. */
int ir_widthsweep_noisy_copy(const ir_dataset *ds, double frac,
                             unsigned long seed, ir_dataset **out);

/* Recount from the targets: *changed = rows of Y (n×K) whose largest entry
 * is not in the column of clean[i]; *bad = rows that are not one-hot (all
 * entries 0 except a single 1).  What a label-noise check counts. */
int ir_widthsweep_count_changed(const gsl_matrix *Y, const size_t *clean,
                                size_t *changed, size_t *bad);

/* ---- the width grid
 * ---------------------------------------------------------- */

/* Parameters of d → H → K with biases: H(d + 1) + K(H + 1). */
size_t ir_widthsweep_nparams(size_t d, size_t H, size_t K);

/* Hidden widths H >= 1, increasing and distinct, whose parameter counts
 * are about lo·nK … hi·nK geometrically (npts points, npts >= 2), plus the
 * widths nearest 0.7, 0.85, 1, 1.2 and 1.4 · nK.  widths must hold
 * npts + 5 entries; *m receives how many were written. */
int ir_widthsweep_widths(size_t d, size_t K, size_t n, double lo, double hi,
                         size_t npts, size_t *widths, size_t *m);

/* ---- training one network ---------------------------------------------------
 */

typedef struct {
  size_t width;     /* hidden units H >= 1 */
  ir_act act;       /* default ReLU */
  ir_loss loss;     /* IR_LOSS_HALF_SSE (squared, one-hot) or IR_LOSS_CE */
  double lr;        /* step size (> 0) */
  double momentum;  /* heavy ball β in [0, 1) */
  size_t batch;     /* 0: full batch */
  size_t max_steps; /* the step cap */
  double loss_goal; /* stop at training loss <= goal (< 0: off) */
} ir_widthsweep_params;

/* Defaults: width 1, ReLU, squared loss, lr 0, no momentum, full batch,
 * 1000 steps, no goal. */
void ir_widthsweep_params_default(ir_widthsweep_params *p);

typedef struct {
  size_t nparams;
  size_t steps;      /* updates done */
  int reason;        /* IR_OPTIM_* of optim.h */
  int reached_goal;  /* reason == IR_OPTIM_GOAL */
  double init_loss;  /* training loss at θ₀ */
  double train_loss; /* training loss at the returned θ */
  double train_err;  /* fraction of training rows misclassified (argmax
                        against the targets trained on) */
  double test_loss;  /* same loss on the test set (NAN without one) */
  double test_err;   /* fraction of test rows misclassified */
  double theta_norm; /* ‖θ‖₂ */
} ir_widthsweep_result;

/* The epoch-wise record: at each of the ncurve steps curve_steps (strictly
 * increasing), the test error and training loss; entries for steps the run
 * did not reach are NAN. */
typedef struct {
  const size_t *steps;
  size_t n;
  double *test_err;
  double *train_loss;
} ir_widthsweep_curve;

/* Trains d → H → K on X (n×d) and one-hot Y (n×K), evaluating on Xt, Yt
 * (may be NULL).  θ₀ is theta0 when given (length ir_widthsweep_nparams),
 * else PyTorch's initialization from (seed, ir_rng_stream(IR_STREAM_INIT,
 * H, loss)); SGD batches come from (seed, ir_rng_stream(IR_STREAM_SGD, H,
 * loss)).  theta_out (may be NULL) receives the final θ (allocated here,
 * owned by the caller); curve may be NULL.  Divergence is a result
 * (reason IR_OPTIM_DIVERGED), not an error. */
int ir_widthsweep_train(const gsl_matrix *X, const gsl_matrix *Y,
                        const gsl_matrix *Xt, const gsl_matrix *Yt,
                        const ir_widthsweep_params *p, unsigned long seed,
                        const gsl_vector *theta0, gsl_vector **theta_out,
                        ir_widthsweep_curve *curve, ir_widthsweep_result *res);

/* Belkin et al.'s weight reuse: θ of the wider net d → Hb → K from θ_s of
 * d → Hs → K (Hs <= Hb): the first Hs hidden units keep their incoming
 * weights, biases and outgoing weights, the output biases are kept, and
 * the new weights are N(0, sd²) drawn from r in θ's order.  *out is
 * allocated here. */
int ir_widthsweep_grow(size_t d, size_t K, size_t Hs, const gsl_vector *ts,
                       size_t Hb, double sd, gsl_rng *r, gsl_vector **out);

/* ---- effective model complexity
 * ---------------------------------------------- */

/* Trains on the first n samples and returns its training error. */
typedef int (*ir_widthsweep_fit_fn)(void *ctx, size_t n, double *train_err);

/* EMC = max{n in the grid nmin, nmin + step, …, <= nmax : fit(n) <= eps},
 * found by bisection assuming that fitting gets harder with n.  *emc = 0
 * when even nmin is not fitted; *censored = 1 when nmax is fitted (the EMC
 * is then at least nmax).  *evals (may be NULL) counts the trainings. */
int ir_widthsweep_emc(ir_widthsweep_fit_fn fit, void *ctx, size_t nmin,
                      size_t nmax, size_t step, double eps, size_t *emc,
                      int *censored, size_t *evals);

/* The fit function for networks: trains p on the first n rows of X and Y
 * (nested subsets) with the given seed and reports the training error. */
typedef struct {
  const gsl_matrix *X, *Y;
  const ir_widthsweep_params *p;
  unsigned long seed;
} ir_widthsweep_emc_net;
int ir_widthsweep_emc_net_fit(void *ctx, size_t n, double *train_err);

/* ---- the peak
 * ------------------------------------------------------------------- */

/* err is nseeds × m (row s: seed s's test error at the m widths, in
 * increasing order).  The mean curve over seeds first descends (the
 * classical regime); from its first local minimum j₀ (the first j with
 * mean[j + 1] >= mean[j]; *imin = j₀) the peak is *ipeak = the argmax
 * of the mean over j > j₀; *ipeak = j₀ when no later mean exceeds it
 * (no peak: the curve only descends, or rises nowhere above j₀).  height[s] =
 * err[s][ipeak] − err[s][m − 1], the excess of the peak over the widest
 * network, per seed.  m >= 1, nseeds >= 1, finite entries. */
int ir_widthsweep_peak(const double *err, size_t nseeds, size_t m,
                       size_t *ipeak, size_t *imin, double *height);

#ifdef __cplusplus
}
#endif
#endif
