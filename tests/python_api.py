#!/usr/bin/env python3
"""python_api.py — the implreg Python package (python/implreg) against
numpy/scipy: minnorm against numpy.linalg.lstsq (full rank, rank
deficient, n = p, n > p, one sample) and the ridge closed form; eigsh
against numpy.linalg.eigvalsh for a matrix, a LinearOperator and a
callable, with a multiplicity 3 certified; Hutchinson within 5 se and
Hutch++ exact on low rank; dense_spectrum; and the failure paths: a callback
that raises (the same exception comes back), a wrong-length result, wrong
dtypes and shapes, NaN input (ValueError with implreg's message), a
non-contiguous input (copied, same answer); theory against the closed
forms, Mei-Montanari against the CLI, docs/theory.md's values, its expanded
formula at 50 digits (mpmath) and its limits (variance psi1/(psi2 - psi1)
below the peak, zeta = 0, psi1 -> inf = ridge).  PASS/FAIL lines; exit 77
without numpy."""
import sys

from pycheck import check, finish, require

require("numpy")
import numpy as np

import implreg
from implreg import curvature


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

# ---- theory: Mei & Montanari random features -------------------------------
import math
import os
import re
import subprocess
names = theory.rf_activation_names()
check("rf_activation_names: the eight of theory.h",
      names == ("relu", "abs", "tanh", "sigmoid", "softplus", "gelu", "erf",
                "linear"), names)


def coeffs_close(label, c, mu0, mu1, m2, mus2):
    """The quadrature's target is 1e-12 relative to sqrt(E s^2) for mu0, mu1
    and to E s^2 for m2 and mu*^2; 10x that here."""
    tol = 1e-11 * max(m2, math.sqrt(m2))
    ok = (abs(c.mu0 - mu0) <= tol and abs(c.mu1 - mu1) <= tol and
          abs(c.m2 - m2) <= tol and abs(c.mustar ** 2 - mus2) <= tol and
          (c.mustar == 0 or abs(c.zeta - c.mu1 / c.mustar) <= 4 * eps *
           abs(c.zeta)))
    check(label, ok, (c, mu0, mu1, m2, mus2))


coeffs_close("rf_coeffs relu: 1/sqrt(2 pi), 1/2, 1/2, 1/4 - 1/(2 pi)",
             theory.rf_coeffs("relu"), 1 / math.sqrt(2 * math.pi), 0.5, 0.5,
             0.25 - 1 / (2 * math.pi))
coeffs_close("rf_coeffs abs: sqrt(2/pi), 0, 1, 1 - 2/pi (zeta = 0)",
             theory.rf_coeffs("abs"), math.sqrt(2 / math.pi), 0.0, 1.0,
             1 - 2 / math.pi)
m2 = 2 / math.pi * math.asin(2 / 3)
coeffs_close("rf_coeffs erf: 0, 2/sqrt(3 pi), (2/pi) asin(2/3)",
             theory.rf_coeffs("erf"), 0.0, 2 / math.sqrt(3 * math.pi), m2,
             m2 - 4 / (3 * math.pi))
c = theory.rf_coeffs("linear")
check("rf_coeffs linear: mu* = 0, zeta = +inf",
      c.mustar == 0 and c.zeta == math.inf and abs(c.mu1 - 1) < 1e-11, c)
try:
    from scipy.integrate import quad

    def gauss(f):
        return quad(lambda x: f(x) * math.exp(-x * x / 2) /
                    math.sqrt(2 * math.pi), -math.inf, math.inf,
                    epsabs=1e-14, epsrel=1e-13)[0]
    t = [gauss(math.tanh), gauss(lambda x: x * math.tanh(x)),
         gauss(lambda x: math.tanh(x) ** 2)]
    coeffs_close("rf_coeffs tanh = scipy quad", theory.rf_coeffs("tanh"),
                 t[0], t[1], t[2], t[2] - t[0] ** 2 - t[1] ** 2)
except ImportError:
    print("SKIP rf_coeffs tanh against scipy: scipy not importable")
check("rf_coeffs of a callable max(x, 0) = built-in relu, same bits",
      theory.rf_coeffs(lambda x: max(x, 0.0)) == theory.rf_coeffs("relu"))

zr = theory.rf_coeffs("relu").zeta
# docs/theory.md section 3: ReLU, psi2 = 3, tau2 = 0.1, F1 = 1, F* = 0
R = theory.mei_montanari([0.5, 2.5, 5, 10], 3, "relu", F1=1, Fstar=0,
                         tau2=0.1).risk
doc = [(0.82997, 1e-5), (1.5680, 1e-4), (0.42729, 1e-5), (0.16493, 1e-5)]
check("mei_montanari: the values of docs/theory.md to their rounding",
      all(abs(r - v) <= 0.5 * u for r, (v, u) in zip(R, doc)), R)

# the expanded E0, E1, E2 of docs/theory.md at 50 digits (the library uses a
# factored form): a few flops on sums of <= 8 terms, 32 eps allowed
try:
    import mpmath as mp
    mp.mp.dps = 50

    def mm_expanded(z, p1, p2):
        z, p1, p2 = mp.mpf(z), mp.mpf(p1), mp.mpf(p2)
        ps = min(p1, p2)
        a = ps * z ** 2 - z ** 2 - 1
        x = -(a + mp.sqrt(a * a + 4 * ps * z ** 2)) / (2 * z ** 2)
        E0 = (-x**5 * z**6 + 3 * x**4 * z**4 +
              (p1 * p2 - p2 - p1 + 1) * x**3 * z**6 - 2 * x**3 * z**4 -
              3 * x**3 * z**2 + (p1 + p2 - 3 * p1 * p2 + 1) * x**2 * z**4 +
              2 * x**2 * z**2 + x**2 + 3 * p1 * p2 * x * z**2 - p1 * p2)
        E1 = (p2 * x**3 * z**4 - p2 * x**2 * z**2 + p1 * p2 * x * z**2 -
              p1 * p2)
        E2 = (x**5 * z**6 - 3 * x**4 * z**4 + (p1 - 1) * x**3 * z**6 +
              2 * x**3 * z**4 + 3 * x**3 * z**2 + (-p1 - 1) * x**2 * z**4 -
              2 * x**2 * z**2 - x**2)
        return float(E1 / E0), float(E2 / E0)
    worst = 0.0
    for z in [0.3, zr, 5.0, 40.0]:
        for p2 in [0.5, 3.0]:
            for p1 in [0.2, 0.9, 1.7, 2.9, 2.999, 3.1, 10.0, 1e3]:
                r = theory.mei_montanari(p1, p2, zeta=z, F1=1, Fstar=0,
                                         tau2=1)
                B, V = mm_expanded(z, p1, p2)
                worst = max(worst, abs(r.bias - B) / B,
                            abs(r.variance - V) / V)
    check("mei_montanari = the expanded formula at 50 digits (64 points, "
          "worst %.2g eps <= 32)" % (worst / eps), worst <= 32 * eps, worst)
except ImportError:
    print("SKIP mei_montanari against mpmath: mpmath not importable")

# below the peak the variance term is that of least squares on N features,
# psi1/(psi2 - psi1), whatever zeta (src/theory.c)
p1 = np.array([0.1, 0.5, 1.0, 2.9])
V = theory.mei_montanari(p1[:, None], 3.0, zeta=[0.0, 0.5, zr, 20.0], F1=0,
                         Fstar=0, tau2=1).variance
ref = (p1 / (3 - p1))[:, None]
check("mei_montanari variance = psi1/(psi2 - psi1) below the peak, any zeta",
      V.shape == (4, 4) and np.all(abs(V - ref) <= 32 * eps * ref), V - ref)
# zeta = 0 (mu1 = 0, abs): the features see nothing linear, so the linear
# part of the target is exactly as unlearnable as the nonlinear part
p1 = np.array([0.3, 1.2, 2.0, 7.0])
a = theory.mei_montanari(p1, 2.5, "abs", F1=1, Fstar=0, tau2=0.2).risk
b = theory.mei_montanari(p1, 2.5, "abs", F1=0, Fstar=1, tau2=0.2).risk
check("mei_montanari at zeta = 0: F1 acts as Fstar", np.all(
    abs(a - b) <= 32 * eps * b), a - b)
# psi1 -> infinity: kernel ridgeless regression, which in the proportional
# regime is linear ridge on x with lambda = 1/(psi2 zeta^2) and noise
# tau2 + F*^2 (plus the unlearnable F*^2).  The gap is C/psi1 + O(psi1^-2);
# Richardson from psi1 = 1e6, 2e6 leaves O(gap^2) plus rounding.
F1, Fs, t2 = 1.0, 0.5, 0.2
for p2 in [0.5, 3.0]:
    r1 = theory.mei_montanari(1e6, p2, "relu", F1, Fs, t2).risk
    r2 = theory.mei_montanari(2e6, p2, "relu", F1, Fs, t2).risk
    ref = theory.ridge_risk(1 / p2, 1 / (p2 * zr ** 2), F1 ** 2,
                            t2 + Fs ** 2) + Fs ** 2
    gap = abs(r1 - ref) / ref
    rich = 2 * r2 - r1
    check("mei_montanari psi1 -> inf = ridge_risk(1/psi2, 1/(psi2 zeta^2)) "
          "+ F*^2 (psi2 = %g; gap %.2g at 1e6, Richardson %.2g)"
          % (p2, gap, abs(rich - ref) / ref),
          gap < 1e-4 and abs(rich - ref) <= (10 * gap ** 2 + 64 * eps) * ref,
          (r1, r2, ref))

# the peak psi1 = psi2: inf where a coefficient is nonzero, 0 stays 0
r = theory.mei_montanari([2.999, 3.0, 3.001], 3.0, "tanh", 1.0, 0.5, 0.1)
check("mei_montanari peak: inf at psi1 = psi2, finite and > 100 beside it",
      np.isinf(r.risk[1]) and np.isinf(r.bias[1]) and
      np.isinf(r.variance[1]) and np.all(np.isfinite(r.risk[[0, 2]])) and
      np.all(r.risk[[0, 2]] > 100) and np.all(r.nonlinear == 0.25), r)
r = theory.mei_montanari(3.0, 3.0, "tanh", 0.0, 0.0, 0.0)
check("mei_montanari peak with F1 = F* = tau2 = 0: all terms 0",
      tuple(r) == (0.0, 0.0, 0.0, 0.0), r)
r = theory.mei_montanari([0.4, 2.0, 6.0], 3.0, "gelu", 1.0, 0.5, 0.1)
check("mei_montanari: bias + variance + nonlinear = risk, nonlinear = F*^2",
      np.all(r.bias + r.variance + r.nonlinear == r.risk) and
      np.all(r.nonlinear == 0.25) and np.all(r.bias > 0), r)

# broadcasting: every element is the scalar call
P1, P2, Z = np.array([[0.5], [2.0], [8.0]]), np.array([1.0, 4.0]), [0.7, 2.0]
r = theory.mei_montanari(P1, P2, zeta=Z, F1=[[1.0]], Fstar=0.3, tau2=0.1)
same = r.risk.shape == (3, 2) and all(
    theory.mei_montanari(float(P1[i, 0]), float(P2[j]), zeta=Z[j], F1=1.0,
                         Fstar=0.3, tau2=0.1) ==
    tuple(x[i, j] for x in r) for i in range(3) for j in range(2))
check("mei_montanari broadcasts (3,1) x (2,) x zeta (2,) x (1,1): "
      "every element = the scalar call", same, r)
check("mei_montanari scalars give floats",
      all(type(x) is float for x in theory.mei_montanari(1.0, 2.0)))
c = theory.rf_coeffs("sigmoid")
check("mei_montanari: activation name, RFCoeffs and zeta agree",
      theory.mei_montanari(0.7, 2.0, "sigmoid") ==
      theory.mei_montanari(0.7, 2.0, c) ==
      theory.mei_montanari(0.7, 2.0, zeta=c.zeta))

# against the CLI: the same C function, so the same bits (%.17g)
exe = os.environ.get("IMPLREG")
if exe and os.access(exe, os.X_OK):
    args = [exe, "theory", "mei-montanari", "--act", "tanh", "--psi1",
            "0.25,0.9,1.5,3,7.5", "--psi2", "1.5", "--tau2", "0.2", "--F1",
            "1.3", "--Fstar", "0.4"]
    out = subprocess.run(args + ["--format", "csv"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    cli = np.array([[float(v) for v in line.split(",")] for line in out[1:]])
    r = theory.mei_montanari(cli[:, 0], cli[:, 1], "tanh", 1.3, 0.4, 0.2)
    check("mei_montanari = implreg theory mei-montanari --format csv "
          "(bias, variance, nonlinear, risk; same bits)",
          out[0] == "psi1,psi2,bias,variance,nonlinear,risk" and
          np.array_equal(np.column_stack(r), cli[:, 2:]), (out, r))
    head = subprocess.run(args, capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r"mu0 = (\S+), mu1 = (\S+), mu\* = (\S+), "
                  r"zeta = mu1/mu\* = (\S+)", head)
    c = theory.rf_coeffs("tanh")
    check("rf_coeffs = the CLI's mu0, mu1, mu*, zeta", m is not None and
          [float(v) for v in m.groups()] == [c.mu0, c.mu1, c.mustar, c.zeta],
          (head[:300], c))
else:
    print("SKIP mei_montanari against the CLI: $IMPLREG not set")

# bad input: ValueError with the library's message, nothing partial
raises("mei_montanari psi1 = [0.5, -1, 2]: ValueError naming psi1 = -1",
       ValueError, lambda: theory.mei_montanari([0.5, -1, 2], 3),
       "psi1 = -1 and psi2 = 3 must be finite and > 0 (mei_montanari at")
raises("mei_montanari psi2 = nan: ValueError", ValueError,
       lambda: theory.mei_montanari(1, [2, np.nan]), "psi2 = nan")
raises("mei_montanari F1 = -1: ValueError naming F1", ValueError,
       lambda: theory.mei_montanari(1, 2, F1=-1), "F1 = -1")
raises("mei_montanari tau2 = inf: ValueError", ValueError,
       lambda: theory.mei_montanari(1, 2, tau2=np.inf), "tau2 = inf")
raises("mei_montanari zeta = 2e30: ValueError", ValueError,
       lambda: theory.mei_montanari(1, 2, zeta=[1, 2e30]), "zeta = 2e+30")
raises("mei_montanari linear activation: ValueError (mu* = 0)", ValueError,
       lambda: theory.mei_montanari(1, 2, "linear"), "infinite")
raises("unknown activation 'swish': ValueError listing the names",
       ValueError, lambda: theory.mei_montanari(1, 2, "swish"),
       "unknown activation 'swish' (expected one of: relu, abs")
raises("activation = 3.0: ValueError", ValueError,
       lambda: theory.rf_coeffs(3.0), "activation must be")
raises("activation and zeta both: ValueError", ValueError,
       lambda: theory.mei_montanari(1, 2, "relu", zeta=1.0), "not both")
raises("constant activation: ValueError (mu1 = mu* = 0)", ValueError,
       lambda: theory.rf_coeffs(lambda x: 2.0), "constant")
raises("activation returning nan: ValueError naming x", ValueError,
       lambda: theory.rf_coeffs(lambda x: math.nan if x > 1 else x),
       "returned nan at x = ")
raises("exception in the activation comes back", Boom,
       lambda: theory.rf_coeffs(bad), "inside the operator")
check("theory still working after errors", theory.mei_montanari(
    0.5, 3, "relu", 1, 0, 0.1).risk == R[0])
finish()
