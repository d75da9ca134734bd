"""implreg.curvature — eigenvalues, traces and spectra of any symmetric
operator, with implreg's rigour: explicit residuals ‖Av − λv‖, converged
and certified flags (multiplicities found by deflated restarts), standard
errors, and the number of products used.

An operator is a symmetric numpy matrix, anything with .matvec and .shape
(a scipy.sparse.linalg.LinearOperator, a sparse matrix), or a callable
v ↦ Av together with n=.  Each product crosses the ctypes boundary once:
the operator gets a private copy of the C side's vector (so an operator
that writes into its argument cannot corrupt the Lanczos basis) and its
result is copied into the C side's output.
An exception raised by the operator stops the C computation at once and is
raised again here.
"""
import ctypes as C

import numpy as np

from . import _lib
from ._lib import lib

_WHICH = {"LA": 0, "largest": 0, "SA": 1, "smallest": 1, "LM": 2,
          "magnitude": 2}


class _Operator:
    """Wraps a Python operator as an ir_linop; keeps the callback alive."""

    def __init__(self, op, n=None):
        if isinstance(op, np.ndarray) or (hasattr(op, "shape") and
                                          not hasattr(op, "matvec") and
                                          not callable(op)):
            A = np.asarray(op, dtype=np.float64)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ValueError("implreg: the operator matrix has shape %s; "
                                 "a square matrix is needed" % (A.shape,))
            self.n = A.shape[0]
            self.f = A.dot
        elif hasattr(op, "matvec") and hasattr(op, "shape"):
            if op.shape[0] != op.shape[1]:
                raise ValueError("implreg: the operator has shape %s; a "
                                 "square operator is needed" % (op.shape,))
            self.n = int(op.shape[0])
            self.f = op.matvec
        elif callable(op):
            if n is None:
                raise ValueError("implreg: a callable operator needs n= (its "
                                 "dimension)")
            self.n = int(n)
            self.f = op
        else:
            raise TypeError("implreg: the operator must be a matrix, a "
                            "LinearOperator or a callable v -> Av")
        if self.n < 1:
            raise ValueError("implreg: the operator has dimension %d" % self.n)
        self.error = None
        self.c_fn = _lib.LINOP_FN(self._apply)
        self.linop = _lib.ir_linop(self.n, self.c_fn, None, 0, None, None, 0)

    def _apply(self, ctx, x, y):
        try:
            xv = np.ctypeslib.as_array(x, shape=(self.n,))
            out = np.asarray(self.f(xv.copy()), dtype=np.float64).reshape(-1)
            if out.shape[0] != self.n:
                raise ValueError("implreg: the operator returned %d values "
                                 "for a vector of length %d"
                                 % (out.shape[0], self.n))
            C.memmove(y, out.ctypes.data, self.n * 8)
            return 0
        except BaseException as e:  # re-raised by the caller
            self.error = e
            lib.ir_error(_lib.IR_EINVAL, b"%s",
                         b"the Python operator raised an exception")
            return _lib.IR_EINVAL

    def call(self, status):
        """Raises the operator's own exception first, then the C status."""
        if self.error is not None:
            e, self.error = self.error, None
            raise e
        _lib.check(status)


class EigResult:
    """Eigenpairs from Lanczos: values, vectors (n × k), residuals
    ‖Av − λv‖, converged flags, certified (the k values are the extreme
    ones with multiplicity), and the products used (nmatvec)."""

    def __init__(self, r):
        k, n = r.k, r.n
        self.values = np.ctypeslib.as_array(r.values, shape=(k,)).copy()
        self.residuals = np.ctypeslib.as_array(r.residuals, shape=(k,)).copy()
        self.converged = np.ctypeslib.as_array(r.converged,
                                               shape=(k,)).astype(bool)
        V = r.vectors.contents
        full = np.ctypeslib.as_array(V.data, shape=(V.size1, V.tda))
        self.vectors = full[:n, :k].copy()
        self.certified = bool(r.certified)
        self.nmatvec = int(r.nmatvec)
        self.nrun = int(r.nrun)
        self.anorm = float(r.anorm)

    def __repr__(self):
        return ("EigResult(values=%s, residuals=%s, certified=%s, "
                "nmatvec=%d)" % (self.values, self.residuals, self.certified,
                                 self.nmatvec))


def eigsh(op, k=1, which="LA", n=None, tol=1e-10, certify=True, seed=1,
          v0=None, max_matvec=0):
    """The k extreme eigenpairs of a symmetric operator by thick-restart
    Lanczos (include/implreg/curvature.h, ir_lanczos_eigs).  which: "LA"
    (largest), "SA" (smallest) or "LM" (largest |λ|).  Converged when
    ‖Av − λv‖ <= tol·‖A‖_est."""
    if which not in _WHICH:
        raise ValueError("implreg: which=%r; use 'LA', 'SA' or 'LM'" % which)
    A = _Operator(op, n)
    p = _lib.ir_lanczos_params()
    lib.ir_lanczos_params_default(C.byref(p))
    p.k, p.which, p.tol = int(k), _WHICH[which], float(tol)
    p.certify, p.seed, p.max_matvec = int(bool(certify)), int(seed), \
        int(max_matvec)
    if v0 is not None:
        v0 = _lib.as_f64(v0, "v0", ndim=1)
        if v0.shape[0] != A.n:
            raise ValueError("implreg: v0 has length %d, the operator %d"
                             % (v0.shape[0], A.n))
        p.v0 = v0.ctypes.data_as(C.POINTER(C.c_double))
    out = C.POINTER(_lib.ir_eig_result)()
    status = lib.ir_lanczos_eigs(C.byref(A.linop), C.byref(p), C.byref(out))
    try:
        A.call(status)
        return EigResult(out.contents)
    finally:
        if out:
            lib.ir_eig_result_free(out)


class TraceResult:
    """A trace estimate with its standard error and the work done."""

    def __init__(self, r, method):
        self.trace, self.se = float(r.trace), float(r.se)
        self.nprobe, self.nmatvec = int(r.nprobe), int(r.nmatvec)
        self.method = method

    def __repr__(self):
        return "TraceResult(trace=%.10g, se=%.3g, method=%r, nmatvec=%d)" % (
            self.trace, self.se, self.method, self.nmatvec)


def trace(op, probes=100, method="hutchinson", n=None, seed=1):
    """tr A by Hutchinson (probes Rademacher vectors, probes >= 2) or
    Hutch++ (a budget of `probes` products, >= 4), with the standard error
    of the stochastic part."""
    A = _Operator(op, n)
    r = _lib.ir_trace_result()
    stream = lib.ir_rng_stream(5, 0, 0)
    if method == "hutchinson":
        status = lib.ir_trace_hutchinson(C.byref(A.linop), int(probes),
                                         int(seed), stream, C.byref(r))
    elif method in ("hutch++", "hutchpp"):
        status = lib.ir_trace_hutchpp(C.byref(A.linop), int(probes),
                                      int(seed), stream, C.byref(r))
    else:
        raise ValueError("implreg: method=%r; use 'hutchinson' or 'hutch++'"
                         % method)
    A.call(status)
    return TraceResult(r, method)


def dense_spectrum(op, n=None, symtol=1e-10):
    """All eigenvalues, ascending: n products on unit vectors, a symmetry
    check (ValueError/RuntimeError when max|A − Aᵀ| > symtol·max|A|), then
    LAPACK's dsyevr.  Returns (values, asymmetry)."""
    A = _Operator(op, n)
    vals = np.empty(A.n)
    asym = C.c_double(0.0)
    status = lib.ir_dense_spectrum(C.byref(A.linop), float(symtol),
                                   vals.ctypes.data_as(C.POINTER(C.c_double)),
                                   None, C.byref(asym))
    A.call(status)
    return vals, float(asym.value)
