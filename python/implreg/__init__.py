"""implreg — numerical checks of implicit-regularization theory, from
Python: libimplreg through ctypes and numpy.

    import implreg
    W, diag = implreg.minnorm(X, Y)
    r = implreg.curvature.eigsh(H, k=5)        # values, residuals, certified
    run = implreg.run("double-descent", quick=True, out="dd")
    run.checks, run.tables["model"]["test_mse"]

Errors from the library become ValueError (bad input) or RuntimeError
(failed computations) carrying implreg's one-line message.
"""
import ctypes as C

import numpy as np

from . import _lib
from ._lib import ImplregError, ImplregValueError, lib
from . import curvature, theory
from ._run import RunResult, Table, run

__all__ = ["minnorm", "run", "curvature", "theory", "RunResult", "Table",
           "ImplregError", "ImplregValueError"]


def minnorm(X, Y, rcond=None, ridge=None, method="svd"):
    """The minimum-norm least-squares solution W = X⁺Y (method "svd",
    LAPACK dgelsd as numpy.linalg.lstsq; "cod"; "gram"), or with ridge=λ the
    ridge solution V diag(s/(s² + λ)) UᵀY from one SVD.  rcond: singular
    values below rcond·s_max are cut (None: eps·max(n, p), as numpy).
    Returns (W, diag) with diag a dict: rank, singular values at the cut,
    condition number, ‖W‖_F, residual ‖XW − Y‖_F."""
    Xa = _lib.as_f64(X, "X")
    y1 = np.asarray(Y).ndim == 1
    Ya = _lib.as_f64(Y, "Y")
    n, p = Xa.shape
    if Ya.shape[0] != n:
        raise ValueError("implreg: X has %d rows, Y %d" % (n, Ya.shape[0]))
    K = Ya.shape[1]
    W = np.empty((p, K))
    mx, my, mw = (_lib.matrix_view(a) for a in (Xa, Ya, W))
    d = _lib.ir_minnorm_diag()
    rc = -1.0 if rcond is None else float(rcond)
    if ridge is None:
        code = C.c_int()
        _lib.check(lib.ir_minnorm_parse_method(str(method).encode(),
                                               C.byref(code)))
        _lib.check(lib.ir_minnorm_solve(C.byref(mx), C.byref(my), code.value,
                                        rc, 1e-8, C.byref(mw), C.byref(d)))
    else:
        if method != "svd":
            raise ValueError("implreg: ridge= uses the SVD; method=%r does "
                             "not apply" % method)
        w = lib.ir_minnorm_alloc(n, p, K)
        if not w:
            _lib.check(_lib.IR_ENOMEM)
        try:
            _lib.check(lib.ir_minnorm_factor(w, C.byref(mx)))
            _lib.check(lib.ir_minnorm_set_rhs(w, C.byref(my)))
            _lib.check(lib.ir_minnorm_ridge(w, float(ridge), C.byref(mw)))
            _lib.check(lib.ir_minnorm_diagnose(w, rc, C.byref(mx),
                                               C.byref(my), C.byref(mw),
                                               C.byref(d)))
        finally:
            lib.ir_minnorm_free(w)
    diag = {f: getattr(d, f) for f, _ in _lib.ir_minnorm_diag._fields_}
    return (W[:, 0] if y1 else W), diag
