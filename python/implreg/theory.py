"""implreg.theory — the closed forms implreg checks against, vectorized:
every argument may be a scalar or an array (broadcast), results are numpy
arrays of the broadcast shape (or floats for scalar input).

    hastie(gamma, r2, sigma2)            -> (bias, variance)   ridgeless, asymptotic
    hastie_exact(n, p, r2, sigma2)       -> (bias, variance)   Gaussian X, finite n
    ridge_risk(gamma, lam, r2, sigma2)   -> risk               asymptotic ridge
    ridge_optimal(gamma, r2, sigma2)     -> (lambda*, risk)
    mp_density(gamma, x), mp_cdf(gamma, x), mp_edges(gamma), mp_moment(gamma, k)
    rf_coeffs(activation)                -> RFCoeffs(mu0, mu1, m2, mustar, zeta)
    mei_montanari(psi1, psi2, activation, F1, Fstar, tau2)
                                         -> RFRisk(bias, variance, nonlinear, risk)
                                            ridgeless random features

Bad arguments raise ValueError with implreg's message (for the first
offending element).  Formulas: docs/theory.md §2-3, include/implreg/theory.h.
"""
import collections
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


# ---- random features: Mei & Montanari (arXiv:1908.05355) -------------------

lib.ir_theory_rf_activation.argtypes = [C.c_char_p,
                                        C.POINTER(_lib.IR_ACTIVATION)]
lib.ir_theory_rf_activation.restype = C.c_int
lib.ir_theory_rf_activation_names.argtypes = []
lib.ir_theory_rf_activation_names.restype = C.c_char_p
lib.ir_theory_rf_coeffs.argtypes = [_lib.IR_ACTIVATION, C.c_void_p,
                                    C.POINTER(_lib.ir_rf_coeffs)]
lib.ir_theory_rf_coeffs.restype = C.c_int
lib.ir_theory_mei_montanari.argtypes = [D, D, D, D, D, D,
                                        C.POINTER(_lib.ir_rf_risk)]
lib.ir_theory_mei_montanari.restype = C.c_int

#: IR_RF_ZETA_MAX of theory.h: the largest |zeta| mei_montanari accepts.
RF_ZETA_MAX = 1e30
#: IR_RF_LINEAR_TOL of theory.h: mu*^2 below this times E sigma^2 counts as 0.
RF_LINEAR_TOL = 1e-14

RFCoeffs = collections.namedtuple("RFCoeffs", "mu0 mu1 m2 mustar zeta")
RFCoeffs.__doc__ = """Gaussian coefficients of an activation, G ~ N(0, 1):
mu0 = E s(G), mu1 = E[G s(G)], m2 = E s(G)^2,
mustar = sqrt(m2 - mu0^2 - mu1^2) (0 for a linear s), zeta = mu1/mustar
(+-inf when mustar = 0)."""
RFRisk = collections.namedtuple("RFRisk", "bias variance nonlinear risk")
RFRisk.__doc__ = """Terms of the ridgeless random-features risk:
bias = F1^2 E1/E0, variance = (tau2 + Fstar^2) E2/E0, nonlinear = Fstar^2,
risk = their sum (inf at psi1 = psi2 for a term with a nonzero
coefficient)."""


def rf_activation_names():
    """The names of the built-in activations (ir_theory_rf_activation)."""
    names = lib.ir_theory_rf_activation_names().decode("ascii")
    return tuple(n.strip() for n in names.split(","))


def _builtin_activation(name):
    f = _lib.IR_ACTIVATION()
    _lib.check(lib.ir_theory_rf_activation(name.encode("utf-8"),
                                           C.byref(f)))
    return f


def rf_coeffs(activation="relu"):
    """mu0, mu1, E s^2, mu* and zeta = mu1/mu* of an activation s, by the
    library's adaptive quadrature (relative accuracy about 1e-12).

    activation: a built-in name (rf_activation_names()) or a Python
    callable s(x) -> float of one float, called at many points (a
    few thousand); an exception it raises comes back unchanged, and a
    non-finite value is a ValueError naming x.  A constant activation
    (mu1 = mu* = 0) is a ValueError; a linear one gives mustar = 0 and
    zeta = +-inf."""
    out = _lib.ir_rf_coeffs()
    if isinstance(activation, str):
        f = _builtin_activation(activation)
        _lib.check(lib.ir_theory_rf_coeffs(f, None, C.byref(out)))
    elif callable(activation):
        caught = []

        def cb(x, _params):
            if caught:
                return float("nan")
            try:
                v = float(activation(x))
            except BaseException as e:  # noqa: BLE001 -- re-raised below
                caught.append(e)
                return float("nan")
            if not np.isfinite(v):
                caught.append(ValueError(
                    "implreg: the activation returned %r at x = %r; it must "
                    "be finite at every finite x" % (v, x)))
            return v
        f = _lib.IR_ACTIVATION(cb)
        status = lib.ir_theory_rf_coeffs(f, None, C.byref(out))
        if caught:
            raise caught[0]
        _lib.check(status)
    else:
        raise ValueError("implreg: activation must be a name (one of %s) or "
                         "a callable, not %r"
                         % (", ".join(rf_activation_names()), activation))
    return RFCoeffs(out.mu0, out.mu1, out.m2, out.mustar, out.zeta)


def mei_montanari(psi1, psi2, activation=None, F1=1.0, Fstar=0.0, tau2=1.0,
                  zeta=None):
    """Asymptotic excess test risk of ridgeless random-features regression
    (Mei & Montanari arXiv:1908.05355; docs/theory.md §3): N features
    s(<theta_a, x>/sqrt(d)), n samples, psi1 = N/d, psi2 = n/d, target
    <beta1, x> + f_NL(x) + noise with ||beta1|| = F1, (E f_NL^2)^1/2 = Fstar,
    noise variance tau2.  Returns RFRisk(bias, variance, nonlinear, risk),
    each of the broadcast shape of the numeric arguments; +inf at
    psi1 = psi2 (the interpolation peak) for a term whose coefficient is
    nonzero.

    The activation enters only through zeta = mu1/mu*: give activation (a
    built-in name, a callable as for rf_coeffs, or an RFCoeffs; default
    "relu"), whose coefficients are computed once, or zeta itself (an
    array, broadcast with the others), not both.  A linear activation
    (mu* = 0) is refused: the formula's limit is not its risk."""
    if zeta is not None and activation is not None:
        raise ValueError("implreg: give activation or zeta, not both")
    if zeta is None:
        if activation is None:
            activation = "relu"
        if not isinstance(activation, RFCoeffs):
            activation = rf_coeffs(activation)
        zeta = activation.zeta

    def one(z, p1, p2, a, b, t):
        r = _lib.ir_rf_risk()
        status = lib.ir_theory_mei_montanari(z, p1, p2, a, b, t, C.byref(r))
        try:
            _lib.check(status)
        except (_lib.ImplregValueError, _lib.ImplregError) as e:
            raise type(e)("%s (mei_montanari at zeta = %r, psi1 = %r, "
                          "psi2 = %r, F1 = %r, Fstar = %r, tau2 = %r)"
                          % (e, float(z), float(p1), float(p2), float(a),
                             float(b), float(t)), e.status) from None
        return r.bias, r.variance, r.nonlinear, r.risk
    return RFRisk(*_map(one, 4, zeta, psi1, psi2, F1, Fstar, tau2))
