#!/usr/bin/env python3
"""python_api.py — the implreg Python package (python/implreg) against
numpy/scipy: minnorm against numpy.linalg.lstsq (full rank, rank
deficient, n = p, n > p, one sample) and the ridge closed form; eigsh
against numpy.linalg.eigvalsh for a matrix, a LinearOperator and a
callable, with a multiplicity 3 certified; Hutchinson within 5 se and
Hutch++ exact on low rank; dense_spectrum; and the failure paths: a callback
that raises (the same exception comes back), a wrong-length result, wrong
dtypes and shapes, NaN input (ValueError with implreg's message), a
non-contiguous input (copied, same answer).  PASS/FAIL lines; exit 77
without numpy."""
import sys

try:
    import numpy as np
except ImportError as e:
    print("SKIP numpy not importable: %s" % e)
    sys.exit(77)

import implreg
from implreg import curvature

fail = 0


def check(label, ok, why=""):
    global fail
    print(("PASS " if ok else "FAIL ") + label)
    if not ok:
        fail = 1
        print("  " + str(why))


def raises(label, exc, fn, pattern=""):
    try:
        fn()
    except exc as e:
        check(label, pattern in str(e), "message: %s" % e)
        return
    except Exception as e:  # noqa: BLE001
        check(label, False, "raised %r instead of %s" % (e, exc.__name__))
        return
    check(label, False, "did not raise")


rng = np.random.default_rng(7)
eps = np.finfo(float).eps
# ---- minnorm ---------------------------------------------------------------
for (n, p) in [(20, 50), (50, 20), (30, 30), (1, 8)]:
    X = rng.standard_normal((n, p))
    Y = rng.standard_normal((n, 3))
    W, d = implreg.minnorm(X, Y)
    ref = np.linalg.lstsq(X, Y, rcond=None)[0]
    s = np.linalg.svd(X, compute_uv=False)
    tol = 10 * max(n, p) * eps * s[0] / s[-1] * np.linalg.norm(ref)
    check("minnorm %dx%d = lstsq" % (n, p),
          np.linalg.norm(W - ref) <= tol and d["rank"] == min(n, p),
          "diff %g tol %g rank %s" % (np.linalg.norm(W - ref), tol, d["rank"]))
# rank deficient: 40 x 30 of rank 10
X = rng.standard_normal((40, 10)) @ rng.standard_normal((10, 30))
y = rng.standard_normal(40)
W, d = implreg.minnorm(X, y)
ref = np.linalg.lstsq(X, y, rcond=None)[0]
check("minnorm rank deficient: rank 10, = lstsq",
      d["rank"] == 10 and W.shape == (30,) and
      np.linalg.norm(W - ref) <= 1e-10 * np.linalg.norm(ref),
      (d["rank"], np.linalg.norm(W - ref)))
lam = 0.3
X = rng.standard_normal((25, 40))
Y = rng.standard_normal((25, 2))
W, d = implreg.minnorm(X, Y, ridge=lam)
ref = X.T @ np.linalg.solve(X @ X.T + lam * np.eye(25), Y)
check("ridge = X'(XX' + lam I)^-1 Y", np.linalg.norm(W - ref) <= 1e-12 *
      np.linalg.norm(ref), np.linalg.norm(W - ref))
Xf = np.asfortranarray(X)
W2, _ = implreg.minnorm(Xf[:, ::1], Y)
W3, _ = implreg.minnorm(X, Y)
check("non-contiguous input copied: same bits", np.array_equal(W2, W3))
raises("NaN in X: ValueError naming the entry", ValueError,
       lambda: implreg.minnorm(np.full((3, 3), np.nan), np.ones(3)), "NaN")
raises("rows differ: ValueError", ValueError,
       lambda: implreg.minnorm(np.ones((3, 2)), np.ones(4)), "rows")
raises("strings: ValueError", ValueError,
       lambda: implreg.minnorm(np.array([["a"]]), np.ones(1)), "dtype")
raises("bad method: ValueError", ValueError,
       lambda: implreg.minnorm(X, Y, method="qr"), "qr")

# ---- curvature ------------------------------------------------------------
A = rng.standard_normal((60, 60))
A = A + A.T
ev = np.linalg.eigvalsh(A)
r = curvature.eigsh(A, k=4)
check("eigsh top 4 of a matrix", np.allclose(r.values, ev[::-1][:4], rtol=0,
                                             atol=1e-9 * abs(ev).max()) and
      r.converged.all() and r.certified and r.vectors.shape == (60, 4),
      r)
res = np.linalg.norm(A @ r.vectors - r.vectors * r.values, axis=0)
check("reported residuals are the true ones",
      np.allclose(res, r.residuals, rtol=1e-6, atol=1e-12), (res, r.residuals))
r = curvature.eigsh(lambda v: A @ v, k=3, which="SA", n=60)
check("eigsh smallest 3 of a callable", np.allclose(r.values, ev[:3],
                                                    atol=1e-9 * abs(ev).max()))
try:
    from scipy.sparse.linalg import aslinearoperator
    r = curvature.eigsh(aslinearoperator(A), k=2, which="LM")
    m = ev[np.argsort(-abs(ev))][:2]
    check("eigsh LM of a LinearOperator", np.allclose(r.values, m,
                                                      atol=1e-9 * abs(ev).max()))
except ImportError:
    print("SKIP LinearOperator: scipy not importable")
# multiplicity 3 at the top
Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
d = np.concatenate([[5, 5, 5], np.linspace(-1, 3, 47)])
B = (Q * d) @ Q.T
r = curvature.eigsh(B, k=4)
check("multiplicity 3 found and certified", np.allclose(r.values,
                                                        [5, 5, 5, 3],
                                                        atol=1e-8) and
      r.certified, r)
t = curvature.trace(A, probes=400)
check("Hutchinson within 5 se", abs(t.trace - np.trace(A)) <= 5 * t.se,
      (t, np.trace(A)))
L = rng.standard_normal((80, 5))
Lo = L @ L.T
t = curvature.trace(Lo, probes=30, method="hutch++")
check("Hutch++ exact on rank 5", abs(t.trace - np.trace(Lo)) <= 1e-9 *
      np.trace(Lo), t)
vals, asym = curvature.dense_spectrum(A)
check("dense_spectrum = eigvalsh", np.allclose(vals, ev, atol=1e-10 *
                                               abs(ev).max()) and asym < 1e-14)


class Boom(Exception):
    pass


def bad(v):
    raise Boom("inside the operator")


raises("exception in the callback comes back", Boom,
       lambda: curvature.eigsh(bad, n=10), "inside the operator")
raises("wrong-length result: ValueError", ValueError,
       lambda: curvature.trace(lambda v: v[:3], n=10), "returned 3 values")
raises("asymmetric matrix: refused by the symmetry check", Exception,
       lambda: curvature.dense_spectrum(np.triu(np.ones((6, 6)))),
       "symmetr")
raises("non-square: ValueError", ValueError,
       lambda: curvature.eigsh(np.ones((3, 4))), "square")
raises("callable without n: ValueError", ValueError,
       lambda: curvature.eigsh(lambda v: v), "n=")
raises("which='XX': ValueError", ValueError,
       lambda: curvature.eigsh(A, which="XX"), "which")
raises("k > n: ValueError from the library", ValueError,
       lambda: curvature.eigsh(np.eye(3), k=5), "")
# after all the failures the library still works
r = curvature.eigsh(A, k=1)
check("still working after errors", abs(r.values[0] - ev[-1]) <= 1e-9 *
      abs(ev).max())

# ---- theory: against the closed forms written out here -------------------
from implreg import theory
g = np.array([0.25, 0.5, 2.0, 4.0])
b, v = theory.hastie(g, 2.0, 0.5)
eb = np.where(g < 1, 0, 2.0 * (1 - 1 / g))
evv = np.where(g < 1, 0.5 * g / (1 - g), 0.5 / (g - 1))
check("hastie: r2(1 - 1/g) and s2 g/(1 - g) | s2/(g - 1), broadcast",
      np.allclose(b, eb, rtol=1e-14, atol=0) and
      np.allclose(v, evv, rtol=1e-14), (b, v))
b, v = theory.hastie_exact(100, np.array([50, 200]), 1.0, 1.0)
check("hastie_exact: p/(n - p - 1) below, 1 - n/p and n/(p - n - 1) above",
      np.allclose(v, [50 / 49, 100 / 99], rtol=1e-14) and
      np.allclose(b, [0, 0.5], rtol=1e-14, atol=1e-15), (b, v))
lam, risk = theory.ridge_optimal(0.5, 1.0, 1.0)
check("ridge_optimal: lambda* = s2 g / r2, risk = ridge_risk(lambda*)",
      abs(lam - 0.5) < 1e-15 and abs(risk - theory.ridge_risk(0.5, lam))
      <= 1e-14 * risk, (lam, risk))
lo, hi = theory.mp_edges(0.25)
x = np.array([0.3, 1.0, 2.0])
dens = theory.mp_density(0.25, x)
ref = np.sqrt((hi - x) * (x - lo)) / (2 * np.pi * 0.25 * x)
check("mp_edges (1 -+ sqrt g)^2 and the density formula",
      (lo, hi) == (0.25, 2.25) and np.allclose(dens, ref, rtol=1e-14),
      (lo, hi, dens, ref))
check("mp_moment: 1 + g, 1 + 3g + g^2", np.allclose(
    theory.mp_moment(0.5, [2, 3]), [1.5, 2.75], rtol=1e-15))
check("mp_cdf: 0 below, 1 - 1/g atom at 0, 1 at the top",
      theory.mp_cdf(2.0, -1) == 0 and abs(theory.mp_cdf(2.0, 0.0) - 0.5)
      < 1e-15 and abs(theory.mp_cdf(2.0, 10.0) - 1) < 1e-10)
raises("hastie(gamma = -1): ValueError with implreg's message", ValueError,
       lambda: theory.hastie(-1.0), "gamma")
raises("mp_moment(k = 1.5): ValueError", ValueError,
       lambda: theory.mp_moment(0.5, 1.5), "integer")
sys.exit(fail)
