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
import csv
import ctypes as C
import json
import math
import os
import sys

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

    def wrap_grad(self, grad):
        """grad(v, t) -> ∇L(θ + t·v) as the C study's gradient callback;
        its exceptions are kept and raised by call(), as the operator's."""
        def g(ctx, v, t, out):
            try:
                vv = np.ctypeslib.as_array(v, shape=(self.n,)).copy()
                r = np.asarray(grad(vv, float(t)), dtype=np.float64)
                r = r.reshape(-1)
                if r.shape[0] != self.n:
                    raise ValueError("implreg: the gradient has %d values, "
                                     "the operator %d" % (r.shape[0], self.n))
                C.memmove(out, r.ctypes.data, self.n * 8)
                return 0
            except BaseException as e:
                self.error = e
                lib.ir_error(_lib.IR_EINVAL, b"%s",
                             b"the Python gradient raised an exception")
                return _lib.IR_EINVAL
        return _lib.HSTUDY_GRAD_FN(g)

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


class DensityResult:
    """A spectral density by stochastic Lanczos quadrature: the smoothed
    density on grid with its standard error over runs (se), the quadrature
    (nodes[r], weights[r] for run r; each run's weights sum to 1), the node
    range, the trace estimate n·mean Σ τθ ± se, and the products used."""

    def __init__(self, r, grid, dens, se, sigma2):
        self.grid, self.density, self.se = grid, dens, se
        self.sigma2 = sigma2
        ns = r.nsteps
        cnt = np.ctypeslib.as_array(r.nnodes, shape=(r.nruns,))
        nodes = np.ctypeslib.as_array(r.nodes, shape=(r.nruns, ns))
        wts = np.ctypeslib.as_array(r.weights, shape=(r.nruns, ns))
        self.nodes = [nodes[i, :cnt[i]].copy() for i in range(r.nruns)]
        self.weights = [wts[i, :cnt[i]].copy() for i in range(r.nruns)]
        self.lmin, self.lmax = float(r.lmin), float(r.lmax)
        self.trace, self.trace_se = float(r.trace_est), float(r.trace_se)
        self.nmatvec = int(r.nmatvec)

    def __repr__(self):
        return ("DensityResult(runs=%d, range=[%.6g, %.6g], trace=%.6g "
                "+- %.2g, nmatvec=%d)" % (len(self.nodes), self.lmin,
                                          self.lmax, self.trace,
                                          self.trace_se, self.nmatvec))


def density(op, runs=10, steps=90, sigma2=None, grid=None, n=None, seed=1):
    """The spectral density of a symmetric operator by stochastic Lanczos
    quadrature (Ghorbani et al. 2019): `runs` Lanczos runs of `steps`
    steps (full reorthogonalization) from Rademacher vectors, Gaussian
    smoothing of variance sigma2 (None: 1e-5·max(1, λ_max − λ_min)) on grid
    (None: 1000 points over the nodes' range widened by 5σ)."""
    A = _Operator(op, n)
    steps = min(int(steps), A.n)
    out = C.POINTER(_lib.ir_slq_result)()
    status = lib.ir_slq(C.byref(A.linop), int(runs), steps, int(seed),
                        lib.ir_rng_stream(5, 30, 0), C.byref(out))
    try:
        A.call(status)
        r = out.contents
        if sigma2 is None:
            sigma2 = 1e-5 * max(1.0, r.lmax - r.lmin)
        sigma2 = float(sigma2)
        if not (sigma2 > 0 and math.isfinite(sigma2)):
            raise ValueError("implreg: sigma2 = %r; a positive variance is "
                             "needed" % sigma2)
        if grid is None:
            w = 5 * math.sqrt(sigma2)
            grid = np.linspace(r.lmin - w, r.lmax + w, 1000)
        grid = _lib.as_f64(grid, "grid", ndim=1)
        dens, se = np.empty(grid.shape[0]), np.empty(grid.shape[0])
        dp = C.POINTER(C.c_double)
        _lib.check(lib.ir_slq_density(out, sigma2, grid.ctypes.data_as(dp),
                                      grid.shape[0], dens.ctypes.data_as(dp),
                                      se.ctypes.data_as(dp)))
        return DensityResult(r, grid, dens, se, sigma2)
    finally:
        if out:
            lib.ir_slq_result_free(out)


def _typed(v):
    try:
        return float(v)
    except ValueError:
        return v


class Report:
    """What report() wrote: the folder (out), the checks as dicts (claim,
    source, predicted, measured, tolerance, verdict), passed (every check
    PASS), the summary (summary.json as a dict) and the files written."""

    def __init__(self, out):
        self.out = out
        with open(os.path.join(out, "checks.csv"), newline="") as f:
            self.checks = [{k: _typed(v) if k in ("predicted", "measured",
                                                   "tolerance") else v
                            for k, v in row.items()}
                           for row in csv.DictReader(f)]
        with open(os.path.join(out, "summary.json")) as f:
            self.summary = json.load(f)
        self.passed = all(c["verdict"] == "PASS" for c in self.checks)
        self.files = sorted(os.listdir(out))

    def __repr__(self):
        bad = sum(c["verdict"] != "PASS" for c in self.checks)
        return "Report(%r, %d checks, %d failed)" % (self.out,
                                                     len(self.checks), bad)


def _progress_fn(progress):
    if progress is None or progress is False:
        return None
    if progress is True:
        def progress(stage):
            print("implreg: " + stage, file=sys.stderr, flush=True)

    def f(ctx, msg):
        try:
            progress(msg.decode("utf-8", "replace"))
        except Exception:  # progress is advisory; never stop the study
            pass
    return _lib.HSTUDY_PROGRESS_FN(f)


def report(op, out, n=None, top=5, bottom=0, tol=1e-10, max_matvec=5000,
           trace=True, probes=100, density=True, slq_runs=10, slq_steps=90,
           sigma2=None, full=None, power=False, seed=1, nsamples=0,
           grad=None, theta_max=1.0, info=None,
           formats=("csv", "md", "tex", "json"), progress=None):
    """The study of `implreg hessian` on any symmetric operator, written to
    the folder out (created when missing): the tables (eigenvalues, trace,
    density and slq_nodes, spectrum and estimators with full=True, power
    with power=True), the density figure, summary.json and checks.csv.
    full=None takes the dense spectrum when n <= 1000.  grad(v, t), when
    given, returns ∇L(θ + t·v) and adds the finite-difference check of the
    products; nsamples (samples in the loss) and theta_max (‖θ‖_∞) set its
    scales.  info: a dict of model, act, loss_name, loss_formula, data,
    n_samples, hessian_samples, loss, grad_norm for the summary.  Returns a
    Report.  Raises ValueError for bad parameters before any product."""
    A = _Operator(op, n)
    p = _lib.ir_hstudy_params()
    lib.ir_hstudy_params_default(C.byref(p))
    p.top, p.bottom, p.tol = int(top), int(bottom), float(tol)
    p.max_hvp, p.trace, p.probes = int(max_matvec), int(bool(trace)), \
        int(probes)
    p.density, p.slq_runs, p.slq_steps = int(bool(density)), int(slq_runs), \
        int(slq_steps)
    p.sigma2 = 0.0 if sigma2 is None else float(sigma2)
    p.full = int(A.n <= 1000 if full is None else bool(full))
    p.power, p.seed, p.nsamples = int(bool(power)), int(seed), int(nsamples)
    keep = []
    if grad is not None:
        keep.append(A.wrap_grad(grad))
        p.grad = keep[-1]
        p.theta_max = max(1.0, float(theta_max))
    pf = _progress_fn(progress)
    if pf is not None:
        keep.append(pf)
        p.progress = pf
    mask = _lib.formats_mask(formats)
    info = dict(info or {})
    enc = lambda k: (None if info.get(k) is None  # noqa: E731
                     else str(info[k]).encode())
    ci = _lib.ir_hstudy_info(enc("model"), enc("act"), enc("loss_name"),
                             enc("loss_formula"), enc("data"),
                             int(info.get("n_samples", 0)),
                             int(info.get("hessian_samples", 0)),
                             float(info.get("loss", float("nan"))),
                             float(info.get("grad_norm", float("nan"))),
                             float(info.get("subset_loss", float("nan"))),
                             None, 0)
    h = C.c_void_p()
    status = lib.ir_hstudy_run(C.byref(A.linop), C.byref(p), C.byref(h))
    A.call(status)
    chk = lib.ir_checks_alloc()
    try:
        if not chk:
            _lib.check(_lib.IR_ENOMEM)
        _lib.check(lib.ir_hstudy_checks(h, chk))
        os.makedirs(out, exist_ok=True)
        d = os.fsencode(out)
        _lib.check(lib.ir_hstudy_write(h, C.byref(ci), d, mask))
        _lib.check(lib.ir_checks_write(chk, d, mask | 1))
    finally:
        lib.ir_checks_free(chk)
        lib.ir_hstudy_free(h)
    return Report(out)
