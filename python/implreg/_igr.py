"""implreg._igr — implicit gradient regularization of a PyTorch model's
gradient descent or heavy-ball run, measured by libimplreg (igr.h).

    from implreg.torch import igr
    r = igr(model, torch.nn.functional.mse_loss, (X, y), h=0.01, steps=200)
    r.lambda_, (r.lambda_lo, r.lambda_hi), r.theory, r.ratio
    r.theory_in_interval, r.rss, r.rss_flow, r.seg_lambda

The model becomes an ir_model (include/implreg/model.h) whose operations
are Python callbacks into torch: the mean loss over the data and its
gradient, and Hessian-vector products by double backpropagation, over the
flat concatenation θ of the chosen parameters (all by default), in
float64 on a copy of the model.  libimplreg then runs full-batch GD (or
heavy ball, momentum β) with step h from the model's parameters for
`steps` steps after heavy ball's start-up transient
(ir_igr_trajectory, ir_igr_transient_steps), and fits the λ of the flow
θ̇ = −c∇(E + λ‖∇E‖²) that passes closest to the iterates (ir_igr_fit):
the window cut into segments, the flow restarted at each one's first
iterate, c = 1/(1 − β) held (fitted too for β > 0 when the data identify
it), a bootstrap interval over segments.  The theory: λ = h/4 (Barrett &
Dherin), h(1 + β)/(4(1 − β)²) for heavy ball (Ghosh et al.).  Window,
segments and stride are chosen as `implreg igr` chooses them for networks
(analyses/an_igr.c, study_lambda).

An exception raised inside a callback (the model, the loss) stops the C
computation at the next return to the library and is raised again here,
unchanged; a diverging run is a RuntimeError with the library's message.
"""
import copy
import ctypes as C

import numpy as np
import torch as _torch

from . import _lib, _torchparams
from ._lib import lib

P = C.POINTER

# ---- C structures: mirrors of include/implreg/*.h, field by field -----------


class gsl_vector(C.Structure):
    """gsl/gsl_vector_double.h."""
    _fields_ = [("size", C.c_size_t), ("stride", C.c_size_t),
                ("data", P(C.c_double)), ("block", P(_lib.gsl_block)),
                ("owner", C.c_int)]


# include/implreg/model.h: ir_model_ops.  The first argument of every
# operation is the ir_model *; each Python model has its own closures, so
# the pointer is not needed to find the context.
LOSS_GRAD_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, P(C.c_double), P(C.c_size_t),
                           C.c_size_t, P(C.c_double), P(C.c_double))
HVP_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, P(C.c_double), P(C.c_size_t),
                     C.c_size_t, P(C.c_double), P(C.c_double))
PREDICT_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, P(C.c_double),
                         P(_lib.gsl_matrix), P(_lib.gsl_matrix))
DESTROY_FN = C.CFUNCTYPE(None, C.c_void_p)


class ir_model_ops(C.Structure):
    """include/implreg/model.h: ir_model_ops (hvp_many and quad_many NULL:
    the library then makes one hvp per vector)."""
    _fields_ = [("name", C.c_char_p), ("loss_grad", LOSS_GRAD_FN),
                ("hvp", HVP_FN), ("predict", PREDICT_FN),
                ("destroy", DESTROY_FN), ("hvp_many", C.c_void_p),
                ("quad_many", C.c_void_p)]


class ir_model(C.Structure):
    """include/implreg/model.h: struct ir_model."""
    _fields_ = [("ops", P(ir_model_ops)), ("nparams", C.c_size_t),
                ("nsamples", C.c_size_t), ("nin", C.c_size_t),
                ("nout", C.c_size_t), ("loss_name", C.c_char_p)]


class ir_optim_params(C.Structure):
    """include/implreg/optim.h."""
    _fields_ = [("lr", C.c_double), ("momentum", C.c_double),
                ("egr", C.c_double), ("batch", C.c_size_t),
                ("replacement", C.c_int), ("max_steps", C.c_size_t),
                ("loss_goal", C.c_double), ("diverge_ratio", C.c_double),
                ("seed", C.c_ulong), ("stream", C.c_uint64)]


class ir_optim_result(C.Structure):
    """include/implreg/optim.h."""
    _fields_ = [("steps", C.c_size_t), ("reason", C.c_int),
                ("diverged", C.c_int), ("diverged_at", C.c_size_t),
                ("initial_loss", C.c_double), ("final_loss", C.c_double)]


class ir_flow_params(C.Structure):
    """include/implreg/flow.h (stepper: the enum ir_flow_stepper, an int)."""
    _fields_ = [("c", C.c_double), ("lambda_", C.c_double),
                ("kappa", C.c_double), ("stepper", C.c_int),
                ("rtol", C.c_double), ("atol", C.c_double),
                ("max_steps", C.c_size_t), ("global_error", C.c_int)]


IR_IGR_MAX_SEGMENTS = 64  # include/implreg/igr.h


class ir_igr_fit_params(C.Structure):
    """include/implreg/igr.h."""
    _fields_ = [("h", C.c_double), ("start", C.c_size_t),
                ("end", C.c_size_t), ("segments", C.c_size_t),
                ("stride", C.c_size_t), ("c", C.c_double),
                ("fit_c", C.c_int), ("lambda0", C.c_double),
                ("max_iter", C.c_size_t), ("level", C.c_double),
                ("nboot", C.c_size_t), ("seed", C.c_ulong),
                ("stream", C.c_uint64), ("flow", ir_flow_params)]


class ir_igr_fit_result(C.Structure):
    """include/implreg/igr.h."""
    _fields_ = [("lambda_", C.c_double), ("lambda_lo", C.c_double),
                ("lambda_hi", C.c_double), ("c", C.c_double),
                ("c_lo", C.c_double), ("c_hi", C.c_double),
                ("c_fitted", C.c_int), ("rss", C.c_double),
                ("rss_flow", C.c_double), ("rms", C.c_double),
                ("global_err", C.c_double), ("lambda_int", C.c_double),
                ("npoints", C.c_size_t), ("segments", C.c_size_t),
                ("seg_len", C.c_size_t),
                ("seg_lambda", C.c_double * IR_IGR_MAX_SEGMENTS),
                ("iterations", C.c_size_t), ("converged", C.c_int),
                ("nflows", C.c_size_t), ("nevals", C.c_size_t)]


_STEPPERS = {"auto": 0, "rk8pd": 1, "msbdf": 2}

lib.ir_optim_params_default.argtypes = [P(ir_optim_params)]
lib.ir_optim_params_default.restype = None
lib.ir_flow_params_default.argtypes = [P(ir_flow_params)]
lib.ir_flow_params_default.restype = None
lib.ir_igr_fit_params_default.argtypes = [P(ir_igr_fit_params)]
lib.ir_igr_fit_params_default.restype = None
for _f in ("ir_igr_lambda_gd", "ir_igr_timescale_hb"):
    getattr(lib, _f).argtypes = [C.c_double]
    getattr(lib, _f).restype = C.c_double
for _f in ("ir_igr_lambda_hb", "ir_igr_lambda_hb_effective_gd"):
    getattr(lib, _f).argtypes = [C.c_double, C.c_double]
    getattr(lib, _f).restype = C.c_double
lib.ir_igr_transient_steps.argtypes = [C.c_double, C.c_double, C.c_double]
lib.ir_igr_transient_steps.restype = C.c_size_t
lib.ir_igr_trajectory.argtypes = [P(ir_model), P(ir_optim_params),
                                  P(gsl_vector), P(_lib.gsl_matrix),
                                  P(ir_optim_result)]
lib.ir_igr_fit.argtypes = [P(ir_model), P(_lib.gsl_matrix),
                           P(ir_igr_fit_params), P(ir_igr_fit_result)]
lib.ir_igr_fit_quadratic.argtypes = [P(_lib.gsl_matrix), P(gsl_vector),
                                     P(_lib.gsl_matrix),
                                     P(ir_igr_fit_params), P(C.c_double)]


def _vector_view(arr):
    """A gsl_vector describing arr (1-D, contiguous float64, kept alive by
    the caller) without owning it."""
    v = gsl_vector()
    v.size, v.stride = arr.shape[0], 1
    v.data = arr.ctypes.data_as(P(C.c_double))
    v.block, v.owner = None, 0
    return v


# ---- the torch model as an ir_model -----------------------------------------


class _TorchModel:
    """A copy of a torch model in float64 as an ir_model over the flat
    vector θ of its chosen parameters.  Keeps the ctypes closures, the ops
    table and the name strings alive as long as itself."""

    def __init__(self, model, loss_fn, data, params, dtype, device):
        if dtype != _torch.float64:
            raise ValueError(
                "implreg.torch.igr: dtype=%s; the flows are integrated to "
                "1e-11 relative, which needs float64 gradients: use "
                "dtype=torch.float64" % (dtype,))
        if not isinstance(model, _torch.nn.Module):
            raise TypeError("implreg.torch.igr: model must be a "
                            "torch.nn.Module")
        names = _torchparams.select(model, params, "implreg.torch.igr")
        self.model = copy.deepcopy(model).to(dtype=dtype)
        if device is not None:
            self.model = self.model.to(device)
        for q in self.model.parameters():
            q.requires_grad_(False)
        self.named = [(k, q) for k, q in self.model.named_parameters()
                      if names is None or k in names]
        if not self.named:
            raise ValueError("implreg.torch.igr: no parameters to train")
        self.params = [q for _, q in self.named]
        for q in self.params:
            q.requires_grad_(True)
        self.device = self.params[0].device
        self.dtype = dtype
        self.n = sum(q.numel() for _, q in self.named)
        self.loss_fn = loss_fn
        if isinstance(data, (tuple, list)) and len(data) == 2 and \
                isinstance(data[0], _torch.Tensor):
            batches = [tuple(data)]
        else:
            batches = list(data)  # an iterable of (X, y) batches
        if not batches:
            raise ValueError("implreg.torch.igr: no data")
        self.batches, self.count = [], 0
        for b in batches:
            if not (isinstance(b, (tuple, list)) and len(b) == 2 and
                    all(isinstance(t, _torch.Tensor) for t in b)):
                raise ValueError("implreg.torch.igr: data must be (X, y) "
                                 "tensors or an iterable of (X, y) batches")
            X, y = b
            if not _torch.is_floating_point(X):
                raise ValueError("implreg.torch.igr: X has dtype %s; "
                                 "floating-point inputs are needed"
                                 % X.dtype)
            if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or \
                    X.shape[0] == 0:
                raise ValueError("implreg.torch.igr: X has shape %s and y "
                                 "%s; they need the same (nonzero) number "
                                 "of samples" % (tuple(X.shape),
                                                 tuple(y.shape)))
            self.batches.append((self._move(X), self._move(y)))
            self.count += X.shape[0]
        self.theta0 = _torch.cat([q.detach().reshape(-1)
                                  for _, q in self.named]).cpu().numpy()
        self.error = None
        self.ngrad = self.nhvp = 0
        self.cache, self.keep_graph = None, False
        # ctypes objects: closures, the ops table and the struct
        self._name = b"implreg.torch model"
        self._loss_name = b"mean of loss_fn over the data"
        self._c_loss_grad = LOSS_GRAD_FN(self._cb_loss_grad)
        self._c_hvp = HVP_FN(self._cb_hvp)
        self._c_predict = PREDICT_FN(self._cb_predict)
        self._c_destroy = DESTROY_FN(lambda m: None)
        self.ops = ir_model_ops(self._name, self._c_loss_grad, self._c_hvp,
                                self._c_predict, self._c_destroy, None, None)
        self.cmodel = ir_model(C.pointer(self.ops), self.n, self.count,
                               0, 0, self._loss_name)

    def _move(self, t):
        if _torch.is_floating_point(t):
            return t.to(device=self.device, dtype=self.dtype)
        return t.to(device=self.device)

    def _set(self, ptr):
        """Copies θ (a C double *) into the copy's parameters."""
        t = _torch.from_numpy(np.ctypeslib.as_array(ptr, shape=(self.n,)))
        i = 0
        with _torch.no_grad():
            for q in self.params:
                k = q.numel()
                q.copy_(t[i:i + k].view_as(q))
                i += k
        return t

    def _flat(self, ts):
        return _torch.cat([(g if g is not None else
                            _torch.zeros_like(q)).reshape(-1)
                           for g, q in zip(ts, self.params)])

    def _batch_loss(self, X, y):
        loss = self.loss_fn(self.model(X), y)
        if not isinstance(loss, _torch.Tensor) or loss.numel() != 1:
            raise ValueError("implreg.torch.igr: loss_fn must return a "
                             "scalar tensor (the mean loss over the batch)")
        return loss.reshape(())

    def loss_grad(self, theta_ptr, want_grad):
        """(mean loss, gradient tensor or None) at θ.  With one batch and
        keep_graph set, the gradient keeps its graph for the HVP at the
        same θ that a flow evaluation asks for next."""
        t = self._set(theta_ptr)
        self.cache = None
        total = 0.0
        g = None
        keep = want_grad and self.keep_graph and len(self.batches) == 1
        for X, y in self.batches:
            m = X.shape[0]
            if want_grad:
                loss = self._batch_loss(X, y)
                gb = self._flat(_torch.autograd.grad(
                    loss, self.params, create_graph=keep, allow_unused=True))
                g = m * gb if g is None else g + m * gb
            else:
                with _torch.no_grad():
                    loss = self._batch_loss(X, y)
            total += m * float(loss)
        self.ngrad += 1
        if want_grad:
            g = g / self.count
            if keep:
                self.cache = (t.clone(), g)
                g = g.detach()
        return total / self.count, g

    def hvp(self, theta_ptr, v):
        """∇²E(θ)v by double backpropagation (v a tensor); reuses the
        gradient's graph when θ is that of the last loss_grad."""
        self.nhvp += 1
        t = _torch.from_numpy(np.ctypeslib.as_array(theta_ptr,
                                                    shape=(self.n,)))
        if self.cache is not None and _torch.equal(self.cache[0], t):
            g = self.cache[1]
            if not g.requires_grad:
                return _torch.zeros_like(g)
            return self._flat(_torch.autograd.grad(
                g, self.params, grad_outputs=v, retain_graph=True,
                allow_unused=True)).detach()
        self.cache = None
        self._set(theta_ptr)
        hv = None
        for X, y in self.batches:
            m = X.shape[0]
            loss = self._batch_loss(X, y)
            g = self._flat(_torch.autograd.grad(
                loss, self.params, create_graph=True, allow_unused=True))
            hb = self._flat(_torch.autograd.grad(
                g, self.params, grad_outputs=v, allow_unused=True)) \
                if g.requires_grad else _torch.zeros_like(g)
            hv = m * hb if hv is None else hv + m * hb
        return (hv / self.count).detach()

    def _fail(self, e):
        self.error = e
        lib.ir_error(_lib.IR_EINVAL, b"%s",
                     b"implreg.torch.igr: a Python callback raised an "
                     b"exception")
        return _lib.IR_EINVAL

    def _refuse_batch(self, idx):
        if idx:
            return lib.ir_error(_lib.IR_EINVAL, b"%s",
                                b"implreg.torch.igr: the torch model "
                                b"evaluates the full batch only")
        return _lib.IR_OK

    def _cb_loss_grad(self, m, theta, idx, nb, loss, grad):
        if self.error is not None:  # stop at once after a failure
            return _lib.IR_EINVAL
        s = self._refuse_batch(idx)
        if s != _lib.IR_OK:
            return s
        try:
            val, g = self.loss_grad(theta, bool(grad))
            loss[0] = val
            if g is not None:
                gn = np.ascontiguousarray(g.detach().cpu().numpy())
                C.memmove(grad, gn.ctypes.data, self.n * 8)
            return _lib.IR_OK
        except BaseException as e:  # raised again by run()
            return self._fail(e)

    def _cb_hvp(self, m, theta, idx, nb, v, hv):
        if self.error is not None:
            return _lib.IR_EINVAL
        s = self._refuse_batch(idx)
        if s != _lib.IR_OK:
            return s
        try:
            vt = _torch.tensor(np.ctypeslib.as_array(v, shape=(self.n,)),
                               dtype=self.dtype, device=self.device)
            out = np.ascontiguousarray(self.hvp(theta, vt).cpu().numpy())
            C.memmove(hv, out.ctypes.data, self.n * 8)
            return _lib.IR_OK
        except BaseException as e:
            return self._fail(e)

    def _cb_predict(self, m, theta, X, out):
        return lib.ir_error(_lib.IR_EINVAL, b"%s",
                            b"implreg.torch.igr: the torch model does not "
                            b"predict through the library")

    def run(self, status):
        """The callbacks' own exception first, then the C status."""
        if self.error is not None:
            e, self.error = self.error, None
            lib.ir_error_clear()
            raise e
        _lib.check(status)

    def hvp_numpy(self, v):
        """Hv at θ₀ on numpy vectors (for implreg.curvature)."""
        th = np.ascontiguousarray(self.theta0)
        vt = _torch.tensor(np.ascontiguousarray(v), dtype=self.dtype,
                           device=self.device)
        return self.hvp(th.ctypes.data_as(P(C.c_double)),
                        vt).cpu().numpy()


# ---- the result --------------------------------------------------------------


class IGRResult:
    """The fitted coefficient of the modified loss E + λ‖∇E‖² and how well
    its flow follows the iterates.

    lambda_, lambda_lo, lambda_hi  the fit and its bootstrap interval
    theory, ratio                  h/4 (heavy ball: h(1+β)/(4(1−β)²)), fit/theory
    theory_in_interval             lambda_lo <= theory <= lambda_hi (at a
                                   finite step λ/theory − 1 is O(h·λ_max),
                                   a bias the interval, which measures the
                                   spread over segments, need not cover)
    alternative                    heavy ball: GD's h/(4(1−β)) (NaN for GD)
    c, c_lo, c_hi, c_fitted        time scale (theory 1/(1−β); held for GD)
    rss, rss_flow, explained       Σ‖θ_j − φ(t_j)‖² for the fitted modified
                                   flow and for gradient flow; 1 − rss/rss_flow
    rms, npoints, segments, seg_len, seg_lambda (each segment's own λ)
    global_err, lambda_int         flow error estimate and its effect on λ
    initial_loss, final_loss       loss at θ₀ and at the last iterate
    lambda_max0, h_lambda_max      top Hessian eigenvalue at θ₀, times h
                                   (`implreg igr` reports the max over
                                   the segment starts)
    skip, steps                    transient steps skipped, steps fitted
    converged, iterations, nflows, nevals, ngrad, nhvp
    iterates                       (skip + steps + 1) × n array of θ_t
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def as_dict(self):
        d = {k: v for k, v in self.__dict__.items() if k != "iterates"}
        d["lambda"] = d.pop("lambda_")
        return d

    def __repr__(self):
        return ("IGRResult(lambda=%.6g [%.6g, %.6g], theory=%.6g, "
                "ratio=%.5f, theory_in_interval=%s, rss=%.3g, rss_flow=%.3g, "
                "npoints=%d, converged=%s)"
                % (self.lambda_, self.lambda_lo, self.lambda_hi, self.theory,
                   self.ratio, self.theory_in_interval, self.rss,
                   self.rss_flow, self.npoints, self.converged))


def _positive(name, x):
    x = float(x)
    if not (np.isfinite(x) and x > 0):
        raise ValueError("implreg.torch.igr: %s = %r; a positive finite "
                         "number is needed" % (name, x))
    return x


def igr(model, loss_fn, data, h, steps, momentum=0.0, params=None,
        dtype=_torch.float64, device=None, segments=8, stride=None,
        fit_c=None, rtol=1e-11, stepper="auto", flow_max_steps=1000000,
        level=0.95, nboot=2000, seed=1, lambda_max=None):
    """Implicit gradient regularization of full-batch GD (momentum = 0) or
    heavy ball on a torch model, measured as `implreg igr` measures it on
    networks: run `steps` steps with step h from the model's parameters
    (after ir_igr_transient_steps for β > 0) and fit the λ of the flow of
    E + λ‖∇E‖² (time scale c = 1/(1 − β)) that passes closest to the
    iterates.  E is the mean of loss_fn over data ((X, y), or an iterable of
    (X, y) batches accumulated into the full-batch loss; loss_fn must
    average over its batch).  params: names or parameter objects (default
    all).  The caller's model is not changed (a float64 copy runs).

    segments (2..64): flow restarts over the window; stride: compared
    iterates per segment (default, as the CLI: two per segment, near its
    middle and end, odd); fit_c: also fit c (default: for heavy ball with
    two or more parameters); rtol, stepper, flow_max_steps: the flow
    integrator (flow.h); level, nboot, seed: the bootstrap interval;
    lambda_max: the top Hessian eigenvalue at θ₀ (default: computed by
    Lanczos; it sets heavy ball's transient and h_lambda_max).

    Returns an IGRResult.  ValueError for bad arguments or data,
    RuntimeError with the library's message when the run diverges or no
    modified flow follows the iterates; an exception raised by the model
    or the loss comes back unchanged."""
    h = _positive("h", h)
    beta = float(momentum)
    if not (0.0 <= beta < 1.0):
        raise ValueError("implreg.torch.igr: momentum = %r; 0 <= momentum "
                         "< 1 is needed" % (momentum,))
    if isinstance(steps, bool) or int(steps) != steps:
        raise ValueError("implreg.torch.igr: steps = %r; an integer is "
                         "needed" % (steps,))
    steps, segments = int(steps), int(segments)
    if not (2 <= segments <= IR_IGR_MAX_SEGMENTS):
        raise ValueError("implreg.torch.igr: segments = %d; 2 to %d"
                         % (segments, IR_IGR_MAX_SEGMENTS))
    if steps < 2 * segments:
        raise ValueError("implreg.torch.igr: steps = %d; at least 2 per "
                         "segment (%d) are needed" % (steps, 2 * segments))
    if stepper not in _STEPPERS:
        raise ValueError("implreg.torch.igr: stepper = %r; use 'auto', "
                         "'rk8pd' or 'msbdf'" % (stepper,))
    M = _TorchModel(model, loss_fn, data, params, dtype, device)
    # One evaluation before the library: a model or loss that does not fit
    # the data fails here, with torch's own message.
    th0 = np.ascontiguousarray(M.theta0)
    try:
        l0, _ = M.loss_grad(th0.ctypes.data_as(P(C.c_double)), False)
    except RuntimeError as e:
        raise ValueError("implreg.torch.igr: the model and loss cannot be "
                         "evaluated on the data: %s" % e) from e
    if not np.isfinite(l0):
        raise ValueError("implreg.torch.igr: the loss at the model's "
                         "parameters is %r" % l0)
    if lambda_max is None:
        from . import curvature
        e = curvature.eigsh(M.hvp_numpy, k=1, which="LA", n=M.n, tol=1e-8,
                            certify=False, seed=seed)
        lambda_max = float(e.values[0])
    lambda_max = float(lambda_max)
    skip = int(lib.ir_igr_transient_steps(h, beta, max(lambda_max, 0.0)))
    K = skip + steps

    op = ir_optim_params()
    lib.ir_optim_params_default(C.byref(op))
    op.lr, op.momentum, op.max_steps = h, beta, K
    it = np.zeros((K + 1, M.n))
    itv = _lib.matrix_view(it)
    th0v = _vector_view(th0)
    ores = ir_optim_result()
    st = lib.ir_igr_trajectory(C.byref(M.cmodel), C.byref(op),
                               C.byref(th0v), C.byref(itv), C.byref(ores))
    M.run(st)

    theory = float(lib.ir_igr_lambda_hb(h, beta) if beta > 0 else
                   lib.ir_igr_lambda_gd(h))
    fp = ir_igr_fit_params()
    lib.ir_igr_fit_params_default(C.byref(fp))
    fp.h, fp.start, fp.segments = h, skip, segments
    if stride is None:
        L = steps // segments
        stride = L // 2 if L >= 2 else 1
        if stride % 2 == 0:  # odd: sign-alternating iterates cannot hide
            stride -= 1
    fp.stride = int(stride)
    fp.c = float(lib.ir_igr_timescale_hb(beta))
    fp.fit_c = int(bool(beta > 0 and M.n >= 2) if fit_c is None else
                   bool(fit_c))
    fp.lambda0 = theory
    fp.level, fp.nboot, fp.seed = float(level), int(nboot), int(seed)
    fp.flow.rtol = float(rtol)
    fp.flow.stepper = _STEPPERS[stepper]
    fp.flow.max_steps = int(flow_max_steps)
    fp.flow.global_error = 0
    fr = ir_igr_fit_result()
    M.keep_graph = True  # flow evaluations: a gradient, then an HVP there
    st = lib.ir_igr_fit(C.byref(M.cmodel), C.byref(itv), C.byref(fp),
                        C.byref(fr))
    M.run(st)
    S = int(fr.segments)
    return IGRResult(
        lambda_=fr.lambda_, lambda_lo=fr.lambda_lo, lambda_hi=fr.lambda_hi,
        theory=theory, ratio=fr.lambda_ / theory,
        theory_in_interval=bool(fr.lambda_lo <= theory <= fr.lambda_hi),
        alternative=float(lib.ir_igr_lambda_hb_effective_gd(h, beta))
        if beta > 0 else float("nan"),
        c=fr.c, c_lo=fr.c_lo, c_hi=fr.c_hi, c_fitted=bool(fr.c_fitted),
        c_theory=fp.c, rss=fr.rss, rss_flow=fr.rss_flow,
        explained=1 - fr.rss / fr.rss_flow if fr.rss_flow > 0
        else float("nan"),
        rms=fr.rms, npoints=int(fr.npoints), segments=S,
        seg_len=int(fr.seg_len),
        seg_lambda=np.array(fr.seg_lambda[:S], dtype=np.float64),
        global_err=fr.global_err, lambda_int=fr.lambda_int,
        initial_loss=ores.initial_loss, final_loss=ores.final_loss,
        lambda_max0=lambda_max, h_lambda_max=h * lambda_max,
        h=h, momentum=beta, skip=skip, steps=steps, stride=int(fp.stride),
        converged=bool(fr.converged), iterations=int(fr.iterations),
        nflows=int(fr.nflows), nevals=int(fr.nevals), ngrad=M.ngrad,
        nhvp=M.nhvp, iterates=it)


def _fit_quadratic(A, b, iterates, h, segments=8, stride=1, start=0, c=1.0,
                   lambda0=None):
    """ir_igr_fit_quadratic: the same fit as ir_igr_fit for
    E = ½θᵀAθ − bᵀθ with closed-form flows (an independent computation,
    for tests)."""
    A = _lib.as_f64(A, "A")
    b = _lib.as_f64(b, "b", ndim=1)
    it = _lib.as_f64(iterates, "iterates")
    fp = ir_igr_fit_params()
    lib.ir_igr_fit_params_default(C.byref(fp))
    fp.h, fp.segments, fp.stride, fp.start, fp.c = (float(h), int(segments),
                                                    int(stride), int(start),
                                                    float(c))
    fp.lambda0 = float(h) / 4 if lambda0 is None else float(lambda0)
    Av, itv, bv = _lib.matrix_view(A), _lib.matrix_view(it), _vector_view(b)
    lam = C.c_double()
    _lib.check(lib.ir_igr_fit_quadratic(C.byref(Av), C.byref(bv),
                                        C.byref(itv), C.byref(fp),
                                        C.byref(lam)))
    return lam.value
