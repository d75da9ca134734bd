"""implreg.theory — the closed forms implreg checks against, vectorized:
every argument may be a scalar or an array (broadcast), results are numpy
arrays of the broadcast shape (or floats for scalar input).

    hastie(gamma, r2, sigma2)            -> (bias, variance)   ridgeless, asymptotic
    hastie_exact(n, p, r2, sigma2)       -> (bias, variance)   Gaussian X, finite n
    ridge_risk(gamma, lam, r2, sigma2)   -> risk               asymptotic ridge
    ridge_optimal(gamma, r2, sigma2)     -> (lambda*, risk)
    mp_density(gamma, x), mp_cdf(gamma, x), mp_edges(gamma), mp_moment(gamma, k)

Bad arguments raise ValueError with implreg's message (for the first
offending element).  Formulas: docs/theory.md §2, include/implreg/theory.h.
"""
import ctypes as C

import numpy as np

from . import _lib
from ._lib import lib

D = C.c_double
PD = C.POINTER(C.c_double)
lib.ir_theory_hastie.argtypes = [D, D, D, PD, PD]
lib.ir_theory_hastie_exact.argtypes = [C.c_size_t, C.c_size_t, D, D, PD, PD]
lib.ir_theory_ridge_risk.argtypes = [D, D, D, D, PD]
lib.ir_theory_ridge_optimal.argtypes = [D, D, D, PD, PD]
lib.ir_theory_mp_edges.argtypes = [D, PD, PD]
for name in ("ir_theory_mp_density", "ir_theory_mp_cdf"):
    getattr(lib, name).argtypes = [D, D]
    getattr(lib, name).restype = D
lib.ir_theory_mp_moment.argtypes = [D, C.c_int]
lib.ir_theory_mp_moment.restype = D


def _map(fn, nout, *args):
    """Applies fn (returning a tuple of nout floats) over the broadcast
    arguments."""
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
    shape = arrs[0].shape
    outs = [np.empty(shape) for _ in range(nout)]
    for idx in np.ndindex(shape):
        vals = fn(*[a[idx] for a in arrs])
        for o, v in zip(outs, vals):
            o[idx] = v
    if shape == ():
        outs = [float(o) for o in outs]
    return outs[0] if nout == 1 else tuple(outs)


def _two(cfn, *fixed):
    a, b = D(), D()
    _lib.check(cfn(*fixed, C.byref(a), C.byref(b)))
    return a.value, b.value


def hastie(gamma, r2=1.0, sigma2=1.0):
    """Asymptotic bias and variance of the min-norm estimator, isotropic
    features, p/n -> gamma (Hastie et al. 2019, Thm 1-2)."""
    return _map(lambda g, r, s: _two(lib.ir_theory_hastie, g, r, s), 2,
                gamma, r2, sigma2)


def hastie_exact(n, p, r2=1.0, sigma2=1.0):
    """Exact finite-n bias and variance for Gaussian X (p <= n - 2 or
    p >= n + 2)."""
    def one(nn, pp, r, s):
        if nn != int(nn) or pp != int(pp) or nn < 1 or pp < 1:
            raise ValueError("implreg: n and p must be positive integers")
        return _two(lib.ir_theory_hastie_exact, int(nn), int(pp), r, s)
    return _map(one, 2, n, p, r2, sigma2)


def ridge_risk(gamma, lam, r2=1.0, sigma2=1.0):
    """Asymptotic risk of ridge (X'X + n lam I)^-1 X'y (lam > 0)."""
    def one(g, l, r, s):
        out = D()
        _lib.check(lib.ir_theory_ridge_risk(g, l, r, s, C.byref(out)))
        return (out.value,)
    return _map(one, 1, gamma, lam, r2, sigma2)


def ridge_optimal(gamma, r2=1.0, sigma2=1.0):
    """The optimal ridge lambda* = sigma2 gamma / r2 and its risk."""
    return _map(lambda g, r, s: _two(lib.ir_theory_ridge_optimal, g, r, s),
                2, gamma, r2, sigma2)


def mp_edges(gamma):
    """(lambda_-, lambda_+) of the Marchenko-Pastur law of X'X/n."""
    return _map(lambda g: _two(lib.ir_theory_mp_edges, g), 2, gamma)


def _nan_checked(v, what):
    if np.isnan(v):
        raise ValueError("implreg: %s is not defined there (gamma must be "
                         "finite and > 0)" % what)
    return (v,)


def mp_density(gamma, x):
    """The continuous part of the MP density at x."""
    return _map(lambda g, t: _nan_checked(lib.ir_theory_mp_density(g, t),
                                          "the MP density"), 1, gamma, x)


def mp_cdf(gamma, x):
    """P(lambda <= x) under the MP law (atom included)."""
    return _map(lambda g, t: _nan_checked(lib.ir_theory_mp_cdf(g, t),
                                          "the MP distribution"), 1, gamma, x)


def mp_moment(gamma, k):
    """E[lambda^k] (Narayana polynomials)."""
    def one(g, kk):
        if kk != int(kk) or kk < 0:
            raise ValueError("implreg: k must be an integer >= 0")
        return _nan_checked(lib.ir_theory_mp_moment(g, int(kk)), "the moment")
    return _map(one, 1, gamma, k)
