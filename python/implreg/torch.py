"""implreg.torch — the curvature of any PyTorch model through implreg.

    from implreg.torch import hessian
    H = hessian(model, torch.nn.functional.cross_entropy, (X, y))
    r = H.top(5)            # values, residuals, converged, certified, nmatvec
    t = H.trace(100)        # Hutchinson ± se
    H.bottom(3), H.dense_spectrum()

Hessian-vector products are exact: double backpropagation (the gradient
of ⟨∇L, v⟩) over the model's parameters (or a given subset), in float64 by
default, on the model's device, accumulated over the batches of a
DataLoader (weighted by batch size, so the operator is the Hessian of the
mean loss over the whole set) or on one (X, y) pair.  The model is copied
(deepcopy) before its dtype is changed; the caller's model is untouched.
Loss functions must average over the batch (PyTorch's default).
"""
import copy

import numpy as np
import torch as _torch

from . import curvature


class Hessian:
    """∇²L at the model's current parameters, as an operator for
    implreg.curvature (a callable v ↦ Hv on numpy vectors of length n)."""

    def __init__(self, model, loss_fn, data, params=None,
                 dtype=_torch.float64, device=None):
        self.model = copy.deepcopy(model).to(dtype=dtype)
        if device is not None:
            self.model = self.model.to(device)
        self.device = next(self.model.parameters()).device
        self.dtype = dtype
        names = None
        if params is not None:
            # params: names (str) or parameter objects of the caller's model
            wanted = set()
            own = dict(model.named_parameters())
            for p in params:
                if isinstance(p, str):
                    if p not in own:
                        raise ValueError("implreg.torch: no parameter named "
                                         "%r" % p)
                    wanted.add(p)
                else:
                    hit = [k for k, q in own.items() if q is p]
                    if not hit:
                        raise ValueError("implreg.torch: a parameter in "
                                         "params= is not one of the model's")
                    wanted.add(hit[0])
            names = wanted
        self.params = [p for k, p in self.model.named_parameters()
                       if (names is None or k in names)]
        if not self.params:
            raise ValueError("implreg.torch: no parameters to differentiate")
        for p in self.model.parameters():
            p.requires_grad_(False)
        for p in self.params:
            p.requires_grad_(True)
        self.n = sum(p.numel() for p in self.params)
        self.loss_fn = loss_fn
        if isinstance(data, (tuple, list)) and len(data) == 2:
            self.batches = [tuple(data)]
        else:
            self.batches = data  # an iterable of (X, y), e.g. a DataLoader
        self.nhvp = 0

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
        for X, y in self.batches:
            X, y = self._move(X), self._move(y)
            m = X.shape[0]
            loss = self.loss_fn(self.model(X), y)
            gs = _torch.autograd.grad(loss, self.params, create_graph=True)
            dot = sum((g * u).sum() for g, u in zip(gs, vs))
            hs = _torch.autograd.grad(dot, self.params, allow_unused=True)
            hv += m * _torch.cat([(h if h is not None else
                                   _torch.zeros_like(p)).reshape(-1)
                                  for h, p in zip(hs, self.params)])
            count += m
        self.nhvp += 1
        return (hv / count).cpu().numpy()

    __call__ = matvec

    @property
    def shape(self):
        return (self.n, self.n)

    def top(self, k=1, tol=1e-10, certify=True, seed=1):
        """The k largest eigenvalues (Lanczos, residuals, certified)."""
        return curvature.eigsh(self, k=k, which="LA", tol=tol,
                               certify=certify, seed=seed)

    def bottom(self, k=1, tol=1e-10, certify=True, seed=1):
        """The k smallest (most negative first)."""
        return curvature.eigsh(self, k=k, which="SA", tol=tol,
                               certify=certify, seed=seed)

    def trace(self, probes=100, method="hutchinson", seed=1):
        return curvature.trace(self, probes=probes, method=method, seed=seed)

    def dense_spectrum(self, symtol=1e-8):
        """All n eigenvalues (n products: for small models)."""
        return curvature.dense_spectrum(self, symtol=symtol)


def hessian(model, loss_fn, data, params=None, dtype=_torch.float64,
            device=None):
    """The Hessian of the mean loss of `model` on `data` ((X, y) or an
    iterable of batches) as an operator with .top, .bottom, .trace and
    .dense_spectrum."""
    return Hessian(model, loss_fn, data, params=params, dtype=dtype,
                   device=device)
