"""_lib.py — loading libimplreg and the C structures the package uses.

The library is found, in order, at $IMPLREG_LIB; in the build tree this
package sits in (../../.libs/libimplreg.so, for the tests); beside an
installed package (<prefix>/lib/libimplreg.so.0, the package being under
<prefix>/lib/python3*/...); and by the dynamic loader's own search.

The ctypes structures below mirror include/implreg/*.h field by field;
they are the contract between the two sides, and the tests exercise each.
"""
import ctypes as C
import os
import pathlib

import numpy as np


def _candidates():
    env = os.environ.get("IMPLREG_LIB")
    if env:
        yield env
    here = pathlib.Path(__file__).resolve().parent
    for up in list(here.parents)[:4]:
        yield str(up / ".libs" / "libimplreg.so")
    for up in here.parents:
        if up.name == "lib":
            yield str(up / "libimplreg.so.0")
            break
    yield "libimplreg.so.0"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return C.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("implreg: cannot load libimplreg (set IMPLREG_LIB to "
                      "the path of libimplreg.so): " + "; ".join(errors))


lib = _load()

# ---- status -> exception --------------------------------------------------

IR_OK, IR_EINVAL, IR_EDOM, IR_ENOMEM, IR_EIO, IR_EFORMAT = 0, 1, 2, 3, 4, 5
IR_ENOCONV, IR_EDIVERGE, IR_ESHAPE, IR_EBADDATA, IR_ESING = 6, 7, 8, 9, 10
IR_EINTERNAL = 11

lib.ir_error_message.restype = C.c_char_p
lib.ir_error_message.argtypes = []
lib.ir_error_clear.argtypes = []
lib.ir_error.restype = C.c_int


class ImplregError(RuntimeError):
    """A computation in libimplreg failed (the message is the library's)."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class ImplregValueError(ValueError):
    """Bad input refused by libimplreg (the message is the library's)."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


_BAD_INPUT = {IR_EINVAL, IR_EDOM, IR_ESHAPE, IR_EBADDATA, IR_EFORMAT}


def check(status):
    """Raises the exception for a C status (ValueError for bad input,
    RuntimeError for failed computations, MemoryError for IR_ENOMEM)."""
    if status == IR_OK:
        return
    msg = (lib.ir_error_message() or b"").decode("utf-8", "replace")
    msg = msg or "libimplreg status %d" % status
    if status == IR_ENOMEM:
        raise MemoryError(msg)
    if status in _BAD_INPUT:
        raise ImplregValueError(msg, status)
    raise ImplregError(msg, status)


lib.ir_error_install_gsl_handler.argtypes = []
lib.ir_error_install_gsl_handler()

# ---- GSL matrices as views of numpy arrays ---------------------------------


class gsl_block(C.Structure):
    _fields_ = [("size", C.c_size_t), ("data", C.POINTER(C.c_double))]


class gsl_matrix(C.Structure):
    _fields_ = [("size1", C.c_size_t), ("size2", C.c_size_t),
                ("tda", C.c_size_t), ("data", C.POINTER(C.c_double)),
                ("block", C.POINTER(gsl_block)), ("owner", C.c_int)]


def as_f64(a, name, ndim=2, writable=False):
    """a as a C-contiguous float64 array: the same memory when it already is
    one (no copy), one explicit copy otherwise.  Shape and finiteness are
    left to the library, which names the problem; ndim is checked here."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError("implreg: %s has dtype %s; a real array is needed"
                         % (name, arr.dtype))
    if arr.ndim == 1 and ndim == 2:
        arr = arr.reshape(-1, 1)
    if arr.ndim != ndim:
        raise ValueError("implreg: %s has %d dimensions, %d expected"
                         % (name, arr.ndim, ndim))
    if arr.dtype != np.float64 or not arr.flags["C_CONTIGUOUS"] or (
            writable and not arr.flags["WRITEABLE"]):
        arr = np.array(arr, dtype=np.float64, order="C", copy=True)
    return arr


def matrix_view(arr):
    """A gsl_matrix describing arr (2-D, C-contiguous float64, kept alive by
    the caller) without owning it."""
    m = gsl_matrix()
    m.size1, m.size2 = arr.shape
    m.tda = arr.shape[1]
    m.data = arr.ctypes.data_as(C.POINTER(C.c_double))
    m.block = None
    m.owner = 0
    return m


# ---- operators (include/implreg/curvature.h) -------------------------------

LINOP_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.POINTER(C.c_double),
                       C.POINTER(C.c_double))


class ir_linop(C.Structure):
    _fields_ = [("n", C.c_size_t), ("apply", LINOP_FN), ("ctx", C.c_void_p),
                ("nmatvec", C.c_size_t), ("apply_many", C.c_void_p),
                ("quad_many", C.c_void_p), ("nquad", C.c_size_t)]


class ir_lanczos_params(C.Structure):
    _fields_ = [("k", C.c_size_t), ("which", C.c_int), ("tol", C.c_double),
                ("max_basis", C.c_size_t), ("max_matvec", C.c_size_t),
                ("seed", C.c_ulong), ("stream", C.c_uint64),
                ("v0", C.POINTER(C.c_double)), ("certify", C.c_int)]


class ir_eig_result(C.Structure):
    _fields_ = [("n", C.c_size_t), ("k", C.c_size_t),
                ("values", C.POINTER(C.c_double)),
                ("vectors", C.POINTER(gsl_matrix)),
                ("residuals", C.POINTER(C.c_double)),
                ("converged", C.POINTER(C.c_int)), ("anorm", C.c_double),
                ("nmatvec", C.c_size_t), ("nrestart", C.c_size_t),
                ("nrun", C.c_size_t), ("certified", C.c_int)]


class ir_trace_result(C.Structure):
    _fields_ = [("trace", C.c_double), ("se", C.c_double),
                ("nprobe", C.c_size_t), ("nmatvec", C.c_size_t),
                ("nquad", C.c_size_t)]


class ir_minnorm_diag(C.Structure):
    _fields_ = [("n", C.c_size_t), ("p", C.c_size_t), ("K", C.c_size_t),
                ("rank", C.c_size_t), ("sigma_max", C.c_double),
                ("sigma_min_kept", C.c_double), ("sigma_min", C.c_double),
                ("cond", C.c_double), ("rcond", C.c_double),
                ("norm", C.c_double), ("residual", C.c_double),
                ("rel_residual", C.c_double), ("method", C.c_int)]


P = C.POINTER
lib.ir_lanczos_params_default.argtypes = [P(ir_lanczos_params)]
lib.ir_lanczos_eigs.argtypes = [P(ir_linop), P(ir_lanczos_params),
                                P(P(ir_eig_result))]
lib.ir_eig_result_free.argtypes = [P(ir_eig_result)]
lib.ir_trace_hutchinson.argtypes = [P(ir_linop), C.c_size_t, C.c_ulong,
                                    C.c_uint64, P(ir_trace_result)]
lib.ir_trace_hutchpp.argtypes = lib.ir_trace_hutchinson.argtypes
lib.ir_dense_spectrum.argtypes = [P(ir_linop), C.c_double, P(C.c_double),
                                  P(gsl_matrix), P(C.c_double)]
lib.ir_rng_stream.restype = C.c_uint64
lib.ir_rng_stream.argtypes = [C.c_uint64, C.c_uint64, C.c_uint64]
lib.ir_minnorm_solve.argtypes = [P(gsl_matrix), P(gsl_matrix), C.c_int,
                                 C.c_double, C.c_double, P(gsl_matrix),
                                 P(ir_minnorm_diag)]
lib.ir_minnorm_parse_method.argtypes = [C.c_char_p, P(C.c_int)]
lib.ir_minnorm_alloc.restype = C.c_void_p
lib.ir_minnorm_alloc.argtypes = [C.c_size_t, C.c_size_t, C.c_size_t]
lib.ir_minnorm_free.argtypes = [C.c_void_p]
lib.ir_minnorm_factor.argtypes = [C.c_void_p, P(gsl_matrix)]
lib.ir_minnorm_set_rhs.argtypes = [C.c_void_p, P(gsl_matrix)]
lib.ir_minnorm_ridge.argtypes = [C.c_void_p, C.c_double, P(gsl_matrix)]
lib.ir_minnorm_diagnose.argtypes = [C.c_void_p, C.c_double, P(gsl_matrix),
                                    P(gsl_matrix), P(gsl_matrix),
                                    P(ir_minnorm_diag)]

# ---- spectral density and the Hessian study (curvature.h, hstudy.h) --------


class ir_slq_result(C.Structure):
    _fields_ = [("nruns", C.c_size_t), ("nsteps", C.c_size_t),
                ("nodes", C.POINTER(C.c_double)),
                ("weights", C.POINTER(C.c_double)),
                ("nnodes", C.POINTER(C.c_size_t)), ("lmin", C.c_double),
                ("lmax", C.c_double), ("trace_est", C.c_double),
                ("trace_se", C.c_double), ("nmatvec", C.c_size_t)]


HSTUDY_GRAD_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.POINTER(C.c_double),
                             C.c_double, C.POINTER(C.c_double))
HSTUDY_PROGRESS_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_char_p)


class ir_hstudy_params(C.Structure):
    _fields_ = [("top", C.c_size_t), ("bottom", C.c_size_t),
                ("tol", C.c_double), ("max_hvp", C.c_size_t),
                ("trace", C.c_int), ("probes", C.c_size_t),
                ("density", C.c_int), ("slq_runs", C.c_size_t),
                ("slq_steps", C.c_size_t), ("sigma2", C.c_double),
                ("full", C.c_int), ("power", C.c_int), ("seed", C.c_ulong),
                ("nsamples", C.c_size_t), ("grad", HSTUDY_GRAD_FN),
                ("grad_ctx", C.c_void_p), ("theta_max", C.c_double),
                ("progress", HSTUDY_PROGRESS_FN),
                ("progress_ctx", C.c_void_p)]


class ir_hstudy_info(C.Structure):
    _fields_ = [("model", C.c_char_p), ("act", C.c_char_p),
                ("loss_name", C.c_char_p), ("loss_formula", C.c_char_p),
                ("data", C.c_char_p), ("n_samples", C.c_size_t),
                ("hessian_samples", C.c_size_t), ("loss", C.c_double),
                ("grad_norm", C.c_double), ("subset_loss", C.c_double),
                ("boot", C.POINTER(C.c_double)), ("nboot", C.c_size_t)]


lib.ir_slq.argtypes = [P(ir_linop), C.c_size_t, C.c_size_t, C.c_ulong,
                       C.c_uint64, P(P(ir_slq_result))]
lib.ir_slq_result_free.argtypes = [P(ir_slq_result)]
lib.ir_slq_density.argtypes = [P(ir_slq_result), C.c_double, P(C.c_double),
                               C.c_size_t, P(C.c_double), P(C.c_double)]
lib.ir_hstudy_params_default.argtypes = [P(ir_hstudy_params)]
lib.ir_hstudy_run.argtypes = [P(ir_linop), P(ir_hstudy_params),
                              P(C.c_void_p)]
lib.ir_hstudy_free.argtypes = [C.c_void_p]
lib.ir_hstudy_checks.argtypes = [C.c_void_p, C.c_void_p]
lib.ir_hstudy_write.argtypes = [C.c_void_p, P(ir_hstudy_info), C.c_char_p,
                                C.c_int]
lib.ir_checks_alloc.restype = C.c_void_p
lib.ir_checks_alloc.argtypes = []
lib.ir_checks_free.argtypes = [C.c_void_p]
lib.ir_checks_write.argtypes = [C.c_void_p, C.c_char_p, C.c_int]
lib.ir_checks_count.restype = C.c_size_t
lib.ir_checks_count.argtypes = [C.c_void_p]
lib.ir_checks_failed.restype = C.c_size_t
lib.ir_checks_failed.argtypes = [C.c_void_p]

FORMATS = {"csv": 1, "md": 2, "tex": 4, "json": 8}


def formats_mask(formats):
    """("csv", "md", ...) or "csv,md" -> the report.h bit mask."""
    if isinstance(formats, str):
        formats = [f for f in formats.split(",") if f]
    mask = 0
    for f in formats:
        if f not in FORMATS:
            raise ValueError("implreg: format %r; use csv, md, tex or json"
                             % f)
        mask |= FORMATS[f]
    if mask == 0:
        raise ValueError("implreg: no output format given")
    return mask

# ---- random features (include/implreg/theory.h, Mei & Montanari) -----------

# typedef double (*ir_activation)(double x, void *params);
IR_ACTIVATION = C.CFUNCTYPE(C.c_double, C.c_double, C.c_void_p)


class ir_rf_coeffs(C.Structure):
    _fields_ = [("mu0", C.c_double), ("mu1", C.c_double), ("m2", C.c_double),
                ("mustar", C.c_double), ("zeta", C.c_double)]


class ir_rf_risk(C.Structure):
    _fields_ = [("bias", C.c_double), ("variance", C.c_double),
                ("nonlinear", C.c_double), ("risk", C.c_double)]
