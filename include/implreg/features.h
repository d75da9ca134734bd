/* implreg/features.h — random feature maps with nested columns.
 *
 * A feature map draws its random parameters once for a maximum size Nmax;
 * model size N <= Nmax uses the first N features of that one draw, so a
 * sweep over N adds columns instead of redrawing (Belkin et al.
 * arXiv:1812.11118 grow their models the same way).  The normalization
 * (√(2/N) or √(1/N)) uses the N actually applied.
 *
 *   IR_FEAT_RFF : φ_j(x) = √(2/N) cos(w_jᵀx + b_j), w_j ~ N(0, σ⁻²I), b_j ~
 * U[0, 2π): Φ Φᵀ → exp(−‖x − y‖²/(2σ²)) (Rahimi & Recht 2007). IR_FEAT_RELU:
 * φ_j(x) = √(1/N) max(0, w_jᵀx), w_j ~ N(0, σ²I/d): Φ Φᵀ → the arc-cosine
 * kernel of degree 1 (Cho & Saul 2009), (σ²‖x‖‖y‖/(2πd))(sin θ + (π − θ) cos
 * θ).
 */
#ifndef IMPLREG_FEATURES_H
#define IMPLREG_FEATURES_H

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { IR_FEAT_RFF = 1, IR_FEAT_RELU = 2 };

typedef struct ir_features ir_features;

/* Draws the parameters of Nmax features of inputs of dimension d with scale
 * sigma > 0 (RFF: the kernel bandwidth; ReLU: the weight scale), from r:
 * first W row by row, then b.  Owns W (Nmax×d) and b. NULL on failure. */
ir_features *ir_features_alloc(int kind, size_t d, size_t Nmax, double sigma,
                               gsl_rng *r);
void ir_features_free(ir_features *f);

/* Phi (rows of X × N) = the first N features of the rows of X (m×d), with
 * the normalization for N.  Cost: one dgemm, m·N·d multiply-adds. */
int ir_features_apply(const ir_features *f, const gsl_matrix *X, size_t N,
                      gsl_matrix *Phi);

/* Parses "rff" or "relu". */
int ir_features_parse(const char *name, int *kind);
const char *ir_features_name(int kind);

#ifdef __cplusplus
}
#endif
#endif
