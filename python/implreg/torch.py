"""implreg.torch — the curvature of any PyTorch model through implreg.

    from implreg.torch import hessian
    H = hessian(model, torch.nn.functional.cross_entropy, (X, y))
    r = H.top(5)            # values, residuals, converged, certified, nmatvec
    t = H.trace(100)        # Hutchinson ± se
    H.bottom(3), H.dense_spectrum(), H.density()
    H.gradient_overlap(10)  # share of the gradient in the top eigenspace
    G = H.gauss_newton()    # the Gauss–Newton part, the same methods
    H.report("out/")        # the tables, checks and figure of implreg hessian
    igr(model, loss_fn, data, h=0.01, steps=200)   # λ of E + λ‖∇E‖² vs h/4

Hessian-vector products are exact: double backpropagation (the gradient
of ⟨∇L, v⟩) over the model's parameters (or a given subset), in float64 by
default, on the model's device, accumulated over the batches of a
DataLoader (weighted by batch size, so the operator is the Hessian of the
mean loss over the whole set) or on one (X, y) pair.  The model is copied
(deepcopy) before its dtype is changed; the caller's model is untouched.
Loss functions must average over the batch (PyTorch's default).
"""
import copy
import math
import warnings

import numpy as np
import torch as _torch

from . import _torchparams, curvature

# Modules whose output has kinks: the gradient jumps there, and a finite
# difference that crosses one is off by O(1/ε), so report() runs the
# finite-difference check only on models without them (smooth=None).
_KINKED = tuple(getattr(_torch.nn, k) for k in (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "Hardtanh", "Hardswish",
    "Hardsigmoid", "Hardshrink", "Softshrink", "Threshold", "MaxPool1d",
    "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "MaxUnpool2d", "ELU", "CELU", "SELU")
    if hasattr(_torch.nn, k))


class _Curvature:
    """The estimators on a symmetric operator of the model's parameters
    (the subclass gives matvec and n)."""

    @property
    def shape(self):
        return (self.n, self.n)

    def __call__(self, v):
        return self.matvec(v)

    def top(self, k=1, tol=1e-10, certify=True, seed=1, max_matvec=0):
        """The k largest eigenvalues (Lanczos, residuals, certified)."""
        return curvature.eigsh(self, k=k, which="LA", tol=tol,
                               certify=certify, seed=seed,
                               max_matvec=max_matvec)

    def bottom(self, k=1, tol=1e-10, certify=True, seed=1, max_matvec=0):
        """The k smallest (most negative first)."""
        return curvature.eigsh(self, k=k, which="SA", tol=tol,
                               certify=certify, seed=seed,
                               max_matvec=max_matvec)

    def trace(self, probes=100, method="hutchinson", seed=1):
        return curvature.trace(self, probes=probes, method=method, seed=seed)

    def density(self, runs=10, steps=90, sigma2=None, grid=None, seed=1):
        """The spectral density by stochastic Lanczos quadrature."""
        return curvature.density(self, runs=runs, steps=steps, sigma2=sigma2,
                                 grid=grid, seed=seed)

    def dense_spectrum(self, symtol=1e-8):
        """All n eigenvalues (n products: for small models)."""
        return curvature.dense_spectrum(self, symtol=symtol)


class Hessian(_Curvature):
    """∇²L at the model's current parameters, as an operator for
    implreg.curvature (a callable v ↦ Hv on numpy vectors of length n)."""

    def __init__(self, model, loss_fn, data, params=None,
                 dtype=_torch.float64, device=None):
        self.model = copy.deepcopy(model).to(dtype=dtype)
        if device is not None:
            self.model = self.model.to(device)
        self.device = next(self.model.parameters()).device
        self.dtype = dtype
        names = _torchparams.select(model, params, "implreg.torch")
        self.subset = names
        self.params = [p for k, p in self.model.named_parameters()
                       if (names is None or k in names)]
        if not self.params:
            raise ValueError("implreg.torch: no parameters to differentiate")
        for p in self.model.parameters():
            p.requires_grad_(False)
        for p in self.params:
            p.requires_grad_(True)
        self.n = sum(p.numel() for p in self.params)
        random = (_torch.nn.modules.dropout._DropoutNd,
                  _torch.nn.modules.batchnorm._BatchNorm)
        if self.model.training and any(isinstance(m, random)
                                       for m in self.model.modules()):
            warnings.warn("implreg.torch: the model is in training mode and "
                          "has dropout or batch-norm layers: its loss is "
                          "random or depends on the batch, and so are the "
                          "products; call model.eval() first",
                          stacklevel=3)
        self.loss_fn = loss_fn
        if isinstance(data, (tuple, list)) and len(data) == 2:
            self.batches = [tuple(data)]
        else:
            self.batches = data  # an iterable of (X, y), e.g. a DataLoader
        self.nhvp = 0
        # One (X, y) pair: the gradient's graph is built once and kept
        # (the parameters of the private copy do not change between
        # products), so a product is one backward pass instead of a
        # forward, a backward and a double backward.  A DataLoader is
        # recomputed per batch: its graphs would not fit in memory.
        self._graph = None

    def _move(self, t):
        if _torch.is_floating_point(t):
            return t.to(device=self.device, dtype=self.dtype)
        return t.to(device=self.device)

    def _flat_to_params(self, v):
        out, i = [], 0
        for p in self.params:
            k = p.numel()
            out.append(v[i:i + k].view_as(p))
            i += k
        return out

    def loss_grad(self):
        """(mean loss, gradient as a numpy vector) over the data."""
        total, count = 0.0, 0
        g = _torch.zeros(self.n, dtype=self.dtype, device=self.device)
        for X, y in self.batches:
            X, y = self._move(X), self._move(y)
            m = X.shape[0]
            loss = self.loss_fn(self.model(X), y)
            gs = _torch.autograd.grad(loss, self.params)
            g += m * _torch.cat([t.reshape(-1) for t in gs])
            total += m * float(loss)
            count += m
        return total / count, (g / count).cpu().numpy()

    def matvec(self, v):
        """Hv for a numpy vector v (length n)."""
        vt = _torch.as_tensor(np.ascontiguousarray(v), dtype=self.dtype,
                              device=self.device)
        vs = self._flat_to_params(vt)
        hv = _torch.zeros(self.n, dtype=self.dtype, device=self.device)
        count = 0
        single = isinstance(self.batches, list) and len(self.batches) == 1
        for X, y in self.batches:
            X, y = self._move(X), self._move(y)
            m = X.shape[0]
            if single and self._graph is not None:
                gs = self._graph
            else:
                loss = self.loss_fn(self.model(X), y)
                gs = _torch.autograd.grad(loss, self.params,
                                          create_graph=True)
                if single:
                    self._graph = gs
            dot = sum((g * u).sum() for g, u in zip(gs, vs))
            hs = _torch.autograd.grad(dot, self.params, allow_unused=True,
                                      retain_graph=single)
            hv += m * _torch.cat([(h if h is not None else
                                   _torch.zeros_like(p)).reshape(-1)
                                  for h, p in zip(hs, self.params)])
            count += m
        self.nhvp += 1
        return (hv / count).cpu().numpy()

    def _shifted_grad(self, v, t):
        """∇L(θ + t·v) for a numpy v; θ is restored exactly after."""
        vt = _torch.as_tensor(np.ascontiguousarray(v), dtype=self.dtype,
                              device=self.device)
        saved = [p.detach().clone() for p in self.params]
        self._graph = None  # built at θ: invalid once θ moves
        try:
            with _torch.no_grad():
                for p, u in zip(self.params, self._flat_to_params(vt)):
                    p.add_(u, alpha=t)
            return self.loss_grad()[1]
        finally:
            with _torch.no_grad():
                for p, q in zip(self.params, saved):
                    p.copy_(q)
            self._graph = None

    def gauss_newton(self):
        """The Gauss–Newton part G = Jᵀ (∇²ℓ) J of the Hessian (J the
        Jacobian of the outputs in the parameters, ∇²ℓ the loss's Hessian
        in the outputs), as an operator with the same methods.  H − G is
        the part that weighs the residuals by the outputs' curvature."""
        return GaussNewton(self)

    def gradient_overlap(self, k=10, tol=1e-10, seed=1):
        """The share of the gradient in the top-k eigenspace of H,
        ‖P_k g‖²/‖g‖² (Gur-Ari, Roberts & Dyer 2018), from k + 1 certified
        Lanczos pairs.  The eigenvectors are known to within their
        residuals: by Davis–Kahan the computed share is within
        bound = ‖R_k‖_F / (λ_k − λ_{k+1}) of the exact one (R_k the
        residual matrix), reported with it."""
        k = int(k)
        if not 1 <= k < self.n:
            raise ValueError("implreg: k = %d; need 1 <= k < n = %d"
                             % (k, self.n))
        loss, g = self.loss_grad()
        r = self.top(k + 1, tol=tol, seed=seed)
        gn = float(np.linalg.norm(g))
        comp = r.vectors[:, :k].T.dot(g) / (gn if gn > 0 else 1.0)
        gap = float(r.values[k - 1] - r.values[k])
        res = float(np.sqrt(np.sum(r.residuals[:k] ** 2)))
        return OverlapResult(float(np.sum(comp ** 2)), comp, r.values[:k],
                             r.residuals[:k], gap,
                             res / gap if gap > 0 else math.inf,
                             r.certified, gn, loss, r.nmatvec)

    def report(self, out, top=5, bottom=0, trace=True, probes=100,
               density=True, full=None, power=False, smooth=None, seed=1,
               formats=("csv", "md", "tex", "json"), progress=None,
               **kwargs):
        """The tables, checks and figure of `implreg hessian` for this
        model, written to the folder out; returns a curvature.Report.
        smooth: run the finite-difference check of the products (None:
        when the model has no kinked module — ReLU, max-pooling …; pass
        False when its forward applies such functions itself).  Other
        keyword arguments go to curvature.report (tol, max_matvec,
        slq_runs, slq_steps, sigma2)."""
        loss, g = self.loss_grad()
        if smooth is None:
            smooth = not any(isinstance(m, _KINKED)
                             for m in self.model.modules())
        theta = _torch.cat([p.detach().reshape(-1) for p in self.params])
        sizes = [int(X.shape[0]) for X, _ in self.batches]
        nsamples = sum(sizes)
        name = getattr(self.loss_fn, "__name__", None) or \
            type(self.loss_fn).__name__
        info = {"model": "%s (torch, %d parameters%s)" % (
                    type(self.model).__name__, self.n,
                    "" if self.subset is None else ", a subset"),
                "act": None, "loss_name": name,
                "loss_formula": name + " (mean over the samples)",
                "data": "%d samples in %d batch(es), %s on %s" % (
                    nsamples, len(sizes), str(self.dtype)
                    .replace("torch.", ""), self.device),
                "n_samples": nsamples, "hessian_samples": nsamples,
                "loss": loss, "grad_norm": float(np.linalg.norm(g))}
        return curvature.report(
            self, out, top=top, bottom=bottom, trace=trace, probes=probes,
            density=density, full=full, power=power, seed=seed,
            nsamples=nsamples, info=info, formats=formats,
            progress=progress,
            grad=self._shifted_grad if smooth else None,
            theta_max=float(theta.abs().max()) if self.n else 1.0, **kwargs)


class OverlapResult:
    """The gradient's share in the top-k eigenspace: overlap ‖P_k g‖²/‖g‖²,
    components v_iᵀg/‖g‖, the k eigenvalues and residuals, the gap
    λ_k − λ_{k+1}, bound (Davis–Kahan: |overlap − exact| <= bound),
    certified, ‖g‖, the loss and the products used."""

    def __init__(self, overlap, comp, values, residuals, gap, bound,
                 certified, grad_norm, loss, nmatvec):
        self.overlap, self.components = overlap, comp
        self.values, self.residuals = values, residuals
        self.gap, self.bound, self.certified = gap, bound, certified
        self.grad_norm, self.loss, self.nmatvec = grad_norm, loss, nmatvec

    def __repr__(self):
        return ("OverlapResult(overlap=%.6g, bound=%.2g, k=%d, gap=%.4g, "
                "certified=%s)" % (self.overlap, self.bound,
                                   len(self.values), self.gap,
                                   self.certified))


class GaussNewton(_Curvature):
    """G = Jᵀ(∇²ℓ)J at the Hessian's point, on its data and parameters.
    A product: Jv by the transpose trick (the derivative of Jᵀu in u,
    along v), then ∇²ℓ·Jv (double backpropagation through the loss in the
    outputs), then Jᵀ of that — three passes, no Jacobian formed."""

    def __init__(self, H):
        self.H, self.n, self.nhvp = H, H.n, 0

    def matvec(self, v):
        H = self.H
        vt = _torch.as_tensor(np.ascontiguousarray(v), dtype=H.dtype,
                              device=H.device)
        vs = H._flat_to_params(vt)
        gv = _torch.zeros(self.n, dtype=H.dtype, device=H.device)
        count = 0
        for X, y in H.batches:
            X, y = H._move(X), H._move(y)
            m = X.shape[0]
            out = H.model(X)
            u = _torch.zeros_like(out, requires_grad=True)
            jtu = _torch.autograd.grad(out, H.params, grad_outputs=u,
                                       create_graph=True, allow_unused=True)
            pairs = [(a, b) for a, b in zip(jtu, vs) if a is not None]
            jv = _torch.autograd.grad([a for a, _ in pairs], u,
                                      grad_outputs=[b for _, b in pairs])[0]
            o2 = out.detach().requires_grad_(True)
            gl = _torch.autograd.grad(H.loss_fn(o2, y), o2,
                                      create_graph=True)[0]
            hjv = _torch.autograd.grad(gl, o2, grad_outputs=jv,
                                       allow_unused=True)[0]
            if hjv is None:  # a loss linear in the outputs
                hjv = _torch.zeros_like(out)
            gs = _torch.autograd.grad(out, H.params, grad_outputs=hjv,
                                      allow_unused=True)
            gv += m * _torch.cat([(q if q is not None else
                                   _torch.zeros_like(p)).reshape(-1)
                                  for q, p in zip(gs, H.params)])
            count += m
        self.nhvp += 1
        return (gv / count).cpu().numpy()

    def report(self, out, **kwargs):
        """The tables, checks and figure of `implreg hessian` for G (no
        finite-difference check: G is not the derivative of a gradient)."""
        loss, g = self.H.loss_grad()
        nsamples = sum(int(X.shape[0]) for X, _ in self.H.batches)
        info = {"model": "%s (torch, %d parameters), Gauss-Newton part"
                         % (type(self.H.model).__name__, self.n),
                "n_samples": nsamples, "hessian_samples": nsamples,
                "loss": loss, "grad_norm": float(np.linalg.norm(g))}
        return curvature.report(self, out, nsamples=nsamples, info=info,
                                **kwargs)


def hessian(model, loss_fn, data, params=None, dtype=_torch.float64,
            device=None):
    """The Hessian of the mean loss of `model` on `data` ((X, y) or an
    iterable of batches) as an operator with .top, .bottom, .trace and
    .dense_spectrum, .density, .gauss_newton, .gradient_overlap and
    .report."""
    return Hessian(model, loss_fn, data, params=params, dtype=dtype,
                   device=device)


# The implicit-regularization estimate of `implreg igr` (python/implreg/
# _igr.py: the model's loss, gradient and HVP as an ir_model of callbacks).
from ._igr import IGRResult, igr  # noqa: E402
