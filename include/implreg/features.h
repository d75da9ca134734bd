/* implreg/features.h — feature maps with nested columns.
 *
 * A feature map draws its random parameters once for a maximum size Nmax;
 * model size N <= Nmax uses the first N features of that one draw, so a
 * sweep over N adds columns instead of redrawing (Belkin et al.
 * arXiv:1812.11118 grow their models the same way).  The random maps are
 * normalized with the N actually applied (√(2/N) or √(1/N)), so that Φ Φᵀ
 * estimates a fixed kernel whatever N is; the deterministic bases are not
 * scaled with N.
 *
 * Kinds (σ is the `sigma` argument of ir_features_alloc; m is the number of
 * rows of X in apply; "trig" is one call of cos or sin):
 *
 *   IR_FEAT_IDENTITY : φ_j(x) = x_j, j < N <= d (the linear model itself).
 *     Needs Nmax <= d.  Apply: m·N copies.
 *
 *   IR_FEAT_RFF : φ_j(x) = √(2/N) cos(w_jᵀx + b_j), w_j ~ N(0, σ⁻²I), b_j ~
 *     U[0, 2π): E[Φ Φᵀ] = exp(−‖x − y‖²/(2σ²)) (Rahimi & Recht 2007).
 *     Apply: one dgemm (m·N·d multiply-adds) and m·N trig.
 *
 *   IR_FEAT_RFF_PAIR : the phase-free variant (Sutherland & Schneider 2015,
 *     arXiv:1506.02785): columns 2k and 2k+1 are c·cos(w_kᵀx) and
 *     c·sin(w_kᵀx), w_k ~ N(0, σ⁻²I), c = √(2/N).  Their product sums to
 *     c²·cos(w_kᵀ(x − y)), so for even N, E[Φ Φᵀ] is exactly the Gaussian
 *     kernel above, with a smaller variance than IR_FEAT_RFF.  For odd N the
 *     last column is an unpaired cosine and the estimate is biased by
 *     exp(−‖x + y‖²/(2σ²))/N (at most 1/N), because E[cos a cos a'] =
 *     (k(x − y) + k(x + y))/2 for the unpaired column; use even N when the
 *     kernel matters.  Apply: one dgemm (m·⌈N/2⌉·d) and m·N trig.
 *
 *   IR_FEAT_RELU : φ_j(x) = √(1/N) max(0, w_jᵀx), w_j ~ N(0, σ²I/d):
 *     E[Φ Φᵀ] = the arc-cosine kernel of degree 1 (Cho & Saul 2009),
 *     k₁(x, y) = (σ²‖x‖‖y‖/(2πd))(sin θ + (π − θ) cos θ), θ the angle between
 *     x and y.  Apply: one dgemm (m·N·d).
 *
 *   IR_FEAT_RELU_SPHERE : φ_j(x) = √(1/N) max(0, w_jᵀx) with w_j uniform on
 *     the sphere of radius σ (a normalized Gaussian row): with σ = 1 these
 *     are σ(⟨θ_j, x⟩/√d), θ_j uniform on the sphere of radius √d, the
 *     random features of Mei & Montanari (arXiv:1908.05355).  Apply: one
 *     dgemm (m·N·d).
 *
 *   IR_FEAT_RELU_CENTERED : φ_j(x) = √(1/N)(max(0, w_jᵀx) − σ‖x‖/√(2πd)),
 *     the same w_j as IR_FEAT_RELU (same seed, same W), minus the mean
 *     E_w[max(0, wᵀx)] = σ‖x‖/√(2πd), so that the features have mean zero.
 *     E[Φ Φᵀ] = k₁(x, y) − (σ‖x‖/√(2πd))(σ‖y‖/√(2πd))
 *             = (σ²‖x‖‖y‖/(2πd))(sin θ + (π − θ) cos θ − 1),
 *     the covariance (not the second moment) of the ReLU features.
 *     Apply: one dgemm (m·N·d) and m·d for the norms.
 *
 *   IR_FEAT_FFT : structured random Fourier features,
 *     φ_j(x) = √(2/N) cos(v_jᵀx + b_j), b_j ~ U[0, 2π), with the projections
 *     v_jᵀx of a block of d' features computed as one circulant product
 *     (1/σ) C(g) D x̃ by FFTW real-to-complex FFTs (circulant random
 *     projections: Yu, Kumar, Gong & Chang, ICML 2014; signed circulant
 *     random features: Feng, Hu & Liao, IJCAI 2015).  x̃ is x zero-padded to
 *     d' = the smallest 2^a 3^b 5^c 7^e >= d (the sizes FFTW is fastest on;
 *     any size would work), C(g) is the d'×d' circulant matrix of g ~
 *     N(0, I_d'), (C(g)u)_i = Σ_k g_{(i−k) mod d'} u_k, and D = diag(s) with
 *     random signs s_k = ±1.  Blocks, each with its own g, s and phases, are
 *     stacked until Nmax; the last one may be cut.
 *     Why circulant and not Fastfood (Le, Sarlós & Smola, ICML 2013, whose
 *     V = (1/(σ√d')) S H G Π H B needs the Walsh–Hadamard transform): (1)
 *     FFTW has no Walsh–Hadamard transform, while its real FFT of any length
 *     is what the circulant product needs; (2) row i of C(g)D restricted to
 *     the first d coordinates is (g_{(i−k) mod d'} s_k)_{k<d}, a signed
 *     selection of distinct entries of g, so every v_j is *exactly*
 *     N(0, σ⁻²I_d) and E[Φ Φᵀ] is exactly the Gaussian kernel for every N
 *     (Fastfood rows are only approximately Gaussian); (3) d need not be
 *     padded to a power of two (d = 784 stays 784 instead of 1024).  The
 *     random signs D matter: without them (and with d' = d) a constant input
 *     would give the same projection Σ_k g_k x_k to all d' features of a
 *     block.  Features of
 *     one block are dependent (for x − y spread over many coordinates their
 *     projections have correlations of order 1/√d), different blocks are
 *     independent, so the kernel error still falls like 1/√N.
 *     Apply: per row, 2⌈N/d'⌉ FFTs of length d' and ⌈N/d'⌉(d'/2+1) complex
 *     products, i.e. O(m·(N + d')·log d') flops instead of m·N·d, plus m·N
 *     trig.  apply uses FFTW plans and scratch owned by the
 *     workspace, made once in alloc with FFTW_ESTIMATE (docs/stack.md trap 8),
 * so concurrent applies on one IR_FEAT_FFT workspace are not allowed (use one
 * workspace per thread).  alloc and free call the FFTW planner, which is not
 * thread-safe (FFTW manual §5.4): do not run them concurrently with other FFTW
 * planning.
 *
 *   IR_FEAT_LEGENDRE : a deterministic 1-D basis (d = 1) for x in [−1, 1],
 *     φ_k(x) = √(2k+1) P_k(x), k = 0..N−1, by the three-term recurrence
 *     (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}; orthonormal under the uniform
 *     measure dx/2 on [−1, 1] (Abramowitz & Stegun 22.7.10, 22.2.10).  Apply:
 * m·N.
 *
 *   IR_FEAT_FOURIER : a deterministic 1-D basis (d = 1) for x in [−1, 1],
 *     columns 1, √2 cos(πx), √2 sin(πx), √2 cos(2πx), √2 sin(2πx), ...
 *     (column 2k−1 is √2 cos(πkx), column 2k is √2 sin(πkx)); orthonormal
 *     under dx/2 on [−1, 1].  Apply: m·N trig.
 *
 *   IR_FEAT_FOURIER_WEIGHTED : the same columns with the frequency-k pair
 *     divided by k: 1, √2 cos(πx), √2 sin(πx), √2 cos(2πx)/2, ...,
 *     √2 cos(πkx)/k, √2 sin(πkx)/k.  Least squares with N <= n is invariant
 *     to column scaling, so below the interpolation threshold this fits
 *     exactly what IR_FEAT_FOURIER fits; above it the min-norm solution
 *     puts its energy on low frequencies (Muthukumar, Vodrahalli,
 *     Subramanian & Sahai, arXiv:1903.09139, §4: weighted Fourier features),
 *     and as N → ∞ it tends to the interpolant of least norm in the space
 *     of kernel 1 + Σ_k 2cos(πk(x − x'))/k², the periodic Sobolev space H¹
 *     with ‖θ‖² = (mean f)² + (1/(2π²))∫₋₁¹ f'(x)² dx: between data points
 *     a quadratic with one common (small) second derivative, close to the
 *     periodic piecewise-linear interpolant (docs/theory.md §3).  Apply:
 *     m·N trig.
 *
 * The 1-D bases reject inputs outside [−1, 1] (IR_EDOM), where they are no
 * longer orthonormal; they, and IR_FEAT_IDENTITY, ignore sigma and accept
 * r = NULL.
 */
#ifndef IMPLREG_FEATURES_H
#define IMPLREG_FEATURES_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The numbers are part of the API (stored in configs): never renumber. */
enum {
  IR_FEAT_RFF = 1,
  IR_FEAT_RELU = 2,
  IR_FEAT_IDENTITY = 3,
  IR_FEAT_RFF_PAIR = 4,
  IR_FEAT_RELU_CENTERED = 5,
  IR_FEAT_FFT = 6,
  IR_FEAT_LEGENDRE = 7,
  IR_FEAT_FOURIER = 8,
  IR_FEAT_RELU_SPHERE = 9,
  IR_FEAT_FOURIER_WEIGHTED = 10
};

typedef struct ir_features ir_features;

/* Draws the parameters of Nmax features of inputs of dimension d >= 1 with
 * scale sigma (finite, > 0, for the random kinds: the kernel bandwidth for
 * rff, rff-pair and fft, the weight scale for relu and relu-centered;
 * ignored by identity, legendre and fourier) from r (required by the random
 * kinds; may be NULL for the others).  Draw order, so that a run can be
 * replayed:
 *   rff: W (Nmax×d, entries N(0, σ⁻²)) row by row, then the Nmax phases
 *     2π·gsl_rng_uniform;
 *   relu, relu-centered: W (Nmax×d, entries N(0, σ²/d)) row by row;
 *   rff-pair: W (⌈Nmax/2⌉×d, entries N(0, σ⁻²)) row by row;
 *   fft: block by block, g (d' values gsl_ran_gaussian(r, 1)), then the d
 *     signs s_k = gsl_rng_uniform(r) < 0.5 ? −1 : +1, then d' phases
 *     2π·gsl_rng_uniform; ⌈Nmax/d'⌉ whole blocks are drawn.
 * For every random kind but rff (whose order predates this rule), the
 * features of a draw with Nmax are therefore a prefix of those of a draw
 * with a larger Nmax from the same stream.
 * Constraints: identity needs Nmax <= d, legendre and fourier need d = 1.
 * Cost: O(Nmax·d) draws (fft: O(Nmax) draws plus ⌈Nmax/d'⌉ FFTs), memory
 * Nmax·d doubles (fft: about 2·Nmax + ⌈Nmax/d'⌉·d doubles).  Returns the
 * workspace, owned by the caller (ir_features_free), or NULL with the
 * message recorded (IR_EINVAL for bad arguments, IR_ENOMEM). */
ir_features *ir_features_alloc(int kind, size_t d, size_t Nmax, double sigma,
                               gsl_rng *r);

/* The same kinds and arguments, with the random parameters of feature j
 * (for rff-pair: of pair j; for fft: of block j) drawn from their own
 * stream ir_rng_alloc(seed, ir_rng_stream(IR_STREAM_FEATURES, stream, j))
 * (rng.h) instead of one shared generator, in the per-row order of
 * ir_features_alloc (rff: w_j, then b_j).  Feature j is therefore the same
 * whatever Nmax is, so the numbers of a model-size sweep at size N do not
 * depend on how far the sweep goes.  seed >= 1.  Same cost, plus one
 * generator set-up per feature. */
ir_features *ir_features_alloc_streams(int kind, size_t d, size_t Nmax,
                                       double sigma, unsigned long seed,
                                       uint64_t stream);

/* The normalization the map applies at model size N: √(2/N) for rff,
 * rff-pair and fft, √(1/N) for relu, relu-centered and relu-sphere, 1 for
 * the others.  The first N columns of an apply at Nmax, multiplied by
 * ir_features_norm(f, N)/ir_features_norm(f, Nmax), are the apply at N.
 * NAN for N = 0. */
double ir_features_norm(const ir_features *f, size_t N);

/* Copies the random parameters, so that another program can rebuild the
 * features (replays, independent references such as tests/rf_scaling_ref.py):
 * W (Nmax×d) receives the rows w_j and b (length Nmax, may be NULL) the
 * phases b_j (0 for the relu kinds).  rff, relu, relu-centered and
 * relu-sphere only (IR_EINVAL otherwise); IR_ESHAPE for wrong sizes. */
int ir_features_params(const ir_features *f, gsl_matrix *W, gsl_vector *b);

/* Frees the workspace; NULL is a no-op. */
void ir_features_free(ir_features *f);

/* Phi (rows of X × N) = the first N features of the rows of X (m×d), with
 * the normalization for N, 1 <= N <= Nmax.  Cost per kind: see the top of
 * this header.  Never allocates; IR_FEAT_FFT uses scratch owned by f, so
 * apply is not reentrant on one fft workspace.  Statuses: IR_ESHAPE (X has
 * not d columns, or Phi is not m×N), IR_EINVAL (N outside 1..Nmax), IR_EDOM
 * (legendre, fourier: an input outside [−1, 1], checked before Phi is
 * written). */
int ir_features_apply(const ir_features *f, const gsl_matrix *X, size_t N,
                      gsl_matrix *Phi);

/* The median heuristic for the Gaussian kernel bandwidth (e.g. Garreau,
 * Jitkrittum & Kanagawa, arXiv:1707.07269): *sigma = the median of the
 * Euclidean distances ‖x_i − x_j‖ over all pairs i < j of rows of X (n×d),
 * or, when n(n−1)/2 > max_pairs, over max_pairs pairs drawn uniformly (with
 * replacement, i ≠ j) with r.  For an even number of distances the median
 * is the mean of the two middle ones.  The caller should record σ, n,
 * max_pairs and the stream of r in the run manifest.
 * Cost: a scan of X for NaN/Inf (n·d), K = min(n(n−1)/2, max_pairs)
 * distances (O(K·d) flops, and K draws of 2 integers when sampling), K
 * doubles of temporary memory (allocated here), and an O(K) expected-time
 * selection.  Statuses: IR_EINVAL (n < 2, max_pairs = 0, or r = NULL when
 * sampling is needed), IR_EBADDATA (NaN or Inf in X, or a distance that
 * overflows), IR_EDOM (the median is 0: more than half the pairs coincide,
 * so no bandwidth follows), IR_ENOMEM; *sigma is written only on success.
 */
int ir_features_median_heuristic(const gsl_matrix *X, size_t max_pairs,
                                 gsl_rng *r, double *sigma);

/* Parses "identity", "rff", "rff-pair", "relu", "relu-centered",
 * "relu-sphere", "fft", "legendre", "fourier" or "fourier-weighted" into
 * *kind; IR_EINVAL otherwise. */
int ir_features_parse(const char *name, int *kind);

/* The name ir_features_parse accepts for kind, or "unknown". */
const char *ir_features_name(int kind);

/* Columns j0..j1−1 (0 <= j0 < j1 <= Nmax) of the map applied at model
 * size Nn (its normalization: √(2/Nn) for rff, √(1/Nn) for the relu
 * kinds) into Phi (X rows × (j1 − j0)): with Nn = N, the blocks of a
 * partition of 0..N−1 put side by side are ir_features_apply at N, bit for
 * bit — so the feature matrix can be produced (and consumed) in column
 * blocks without ever holding it whole.  rff, relu, relu-sphere and
 * relu-centered (IR_EINVAL otherwise).  Cost: one dgemm of rows(X)·d·(j1 −
 * j0) plus the nonlinearity. */
int ir_features_apply_cols(const ir_features *f, const gsl_matrix *X,
                           size_t j0, size_t j1, size_t Nn, gsl_matrix *Phi);

/* y_i = cos x_i for n values (y may be x), without libm for |x_i| <=
 * 1e5: Cody–Waite reduction by π/2 and Taylor polynomials, one loop the
 * compiler vectorizes (AVX2 where the CPU has it; no FMA contraction, so
 * the same bits on every x86-64).  Within 2 ulp of 1 (4.5e-16 absolute) of
 * libm's cos there (tests/test_features.c measures it); larger or non-finite
 * arguments take libm's cos.  Used by the rff features. */
void ir_features_cos(const double *x, double *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif
