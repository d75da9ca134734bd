#!/usr/bin/env python3
"""rf_scaling_ref.py — the model-wise random-features sweep against numpy.

Usage: rf_scaling_ref.py DIR

DIR holds what tests/test_nested.c wrote (all .npy, float64):
  X (n×d), Xt (nt×d), Y (n×K)     training inputs, test inputs, targets
  Wf (Nmax×d), bf (Nmax×1)        the random Fourier parameters w_j, b_j
  grid (g×1), lam (m×1)           the model sizes N and the ridge values
  norms (g×(1+m))                 implreg's ||W||_F: min-norm, then ridge
  P_<N>.npy (nt×K)                implreg's min-norm test predictions at N
  R_<N>_<j>.npy (nt×K)            implreg's ridge test predictions at N, lam[j]

For each N the reference builds the size-N features itself with the
per-N normalization of Rahimi & Recht, phi_j(x) = sqrt(2/N) cos(w_j.x + b_j)
(docs/theory.md s3), solves min-norm least squares with numpy.linalg.lstsq
(rcond=None) and ridge with numpy.linalg.solve of (Phi'Phi + lam I), and
requires ||W||_F and the test predictions to agree to 1e-9 relative (the
grid stays away from N = n, where cond(Phi_N) <= ~1e3, so both sides carry
errors of at most ~eps cond^2 ~ 1e-10).

Exit status: 0 passed, 1 a value differs, 77 numpy missing, 99 bad usage.
"""
import os
import sys

TOL = 1e-9


def main():
    if len(sys.argv) != 2:
        print("usage: rf_scaling_ref.py DIR", file=sys.stderr)
        return 99
    try:
        import numpy as np
    except ImportError:
        print("rf_scaling_ref: SKIP: numpy is not installed for %s" % sys.executable)
        return 77
    d = sys.argv[1]

    def load(name):
        return np.load(os.path.join(d, name + ".npy"))

    X, Xt, Y = load("X"), load("Xt"), load("Y")
    Wf, bf = load("Wf"), load("bf").ravel()
    grid = [int(v) for v in load("grid").ravel()]
    lam = load("lam").ravel()
    norms = load("norms")
    if Y.ndim == 1:
        Y = Y[:, None]
    worst = 0.0
    failed = 0

    def rel(a, b):
        return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)

    for g, N in enumerate(grid):
        c = np.sqrt(2.0 / N)
        Phi = c * np.cos(X @ Wf[:N].T + bf[:N])
        Phit = c * np.cos(Xt @ Wf[:N].T + bf[:N])
        W = np.linalg.lstsq(Phi, Y, rcond=None)[0]
        checks = [("min-norm ||W||", norms[g, 0], np.linalg.norm(W)),
                  ("min-norm predictions", load("P_%d" % N), Phit @ W)]
        for j, lj in enumerate(lam):
            Wr = np.linalg.solve(Phi.T @ Phi + lj * np.eye(N), Phi.T @ Y)
            checks.append(("ridge %g ||W||" % lj, norms[g, 1 + j],
                           np.linalg.norm(Wr)))
            checks.append(("ridge %g predictions" % lj,
                           load("R_%d_%d" % (N, j)), Phit @ Wr))
        for what, got, want in checks:
            e = rel(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
            worst = max(worst, e)
            if not e <= TOL:
                failed += 1
                print("FAIL N = %d %s: relative difference %.3g > %g"
                      % (N, what, e, TOL))
    print("rf_scaling_ref: %d sizes, largest relative difference %.3g, %d failed"
          % (len(grid), worst, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
