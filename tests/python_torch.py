#!/usr/bin/env python3
"""python_torch.py — implreg.torch.hessian against
torch.autograd.functional.hessian: the dense spectra of an MLP (tanh,
cross-entropy) and of a small CNN (conv, ReLU, MSE) to 1e-10 relative, the
top eigenvalues by Lanczos within their residuals, Hutchinson within 5 se,
a DataLoader accumulated over batches equal to the whole set in one batch,
a subset of the parameters, and a callback failure (a loss that raises)
coming back unchanged, and the kept graph of one (X, y) pair giving the
same products as recomputing it.  PASS/FAIL lines; exit 77 without torch."""
import copy
import sys

from pycheck import check, finish, require

require("numpy", "torch")
import numpy as np
import torch

from implreg.torch import hessian


def dense_reference(net, loss_fn, X, y, names=None):
    """The Hessian by torch.autograd.functional.hessian over the flattened
    parameters (float64)."""
    net = copy.deepcopy(net).double()
    named = [(k, p) for k, p in net.named_parameters()
             if names is None or k in names]
    shapes = [p.shape for _, p in named]
    sizes = [p.numel() for _, p in named]
    fixed = {k: p.detach() for k, p in net.named_parameters()}

    def f(flat):
        ps, i = dict(fixed), 0
        for (k, _), s, m in zip(named, shapes, sizes):
            ps[k] = flat[i:i + m].view(s)
            i += m
        out = torch.nn.utils.stateless.functional_call(net, ps, (X.double(),))
        return loss_fn(out, y if not torch.is_floating_point(y) else
                       y.double())

    flat = torch.cat([p.detach().reshape(-1) for _, p in named])
    return torch.autograd.functional.hessian(f, flat).numpy()


torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(),
                          torch.nn.Linear(8, 3))
X = torch.randn(40, 5)
y = torch.randint(0, 3, (40,))
ce = torch.nn.functional.cross_entropy
Hd = dense_reference(mlp, ce, X, y)
ev = np.linalg.eigvalsh(Hd)
H = hessian(mlp, ce, (X, y))
check("MLP: n = number of parameters", H.n == sum(p.numel() for p in
                                                  mlp.parameters()))
vals, asym = H.dense_spectrum()
rel = np.abs(vals - ev).max() / np.abs(ev).max()
check("MLP: dense spectrum = torch's to 1e-10 relative", rel <= 1e-10, rel)
r = H.top(4)
check("MLP: top 4 by Lanczos within their residuals",
      np.all(np.abs(r.values - ev[::-1][:4]) <= r.residuals + 1e-12 *
             abs(ev).max()) and r.certified, r)
r = H.bottom(2)
check("MLP: bottom 2", np.all(np.abs(r.values - ev[:2]) <= r.residuals +
                              1e-12 * abs(ev).max()), r)
t = H.trace(300)
check("MLP: Hutchinson within 5 se", abs(t.trace - np.trace(Hd)) <=
      5 * t.se, (t, np.trace(Hd)))
# The caller's model keeps its dtype and values.
check("the caller's model is untouched",
      next(mlp.parameters()).dtype == torch.float32)

# A small CNN with MSE.
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.ReLU(),
                          torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 2))
Xc = torch.randn(16, 1, 6, 6)
yc = torch.randn(16, 2)
mse = torch.nn.functional.mse_loss
Hd = dense_reference(cnn, mse, Xc, yc)
ev = np.linalg.eigvalsh(Hd)
H = hessian(cnn, mse, (Xc, yc))
vals, _ = H.dense_spectrum()
rel = np.abs(vals - ev).max() / np.abs(ev).max()
check("CNN: dense spectrum = torch's to 1e-10 relative", rel <= 1e-10, rel)
r = H.top(3)
check("CNN: top 3 within residuals", np.all(np.abs(r.values - ev[::-1][:3])
                                            <= r.residuals + 1e-12 *
                                            abs(ev).max()), r)
# A DataLoader: batches of 5 accumulated = one batch of 16 (mean loss).
ds = torch.utils.data.TensorDataset(Xc, yc)
dl = torch.utils.data.DataLoader(ds, batch_size=5, shuffle=False)
Hb = hessian(cnn, mse, dl)
v = np.random.default_rng(1).standard_normal(H.n)
a, b = H.matvec(v), Hb.matvec(v)
check("DataLoader batches = the whole set", np.abs(a - b).max() <= 1e-13 *
      np.abs(a).max(), np.abs(a - b).max())
# A subset of the parameters: the last layer's weight and bias.
names = ["3.weight", "3.bias"]
Hd = dense_reference(cnn, mse, Xc, yc, names=set(names))
Hs = hessian(cnn, mse, (Xc, yc), params=names)
vals, _ = Hs.dense_spectrum()
ev = np.linalg.eigvalsh(Hd)
check("parameter subset: n = 98, spectrum = torch's",
      Hs.n == 98 and np.abs(vals - ev).max() <= 1e-10 * np.abs(ev).max(),
      (Hs.n, np.abs(vals - ev).max()))


class Boom(Exception):
    pass


calls = [0]


def bad_loss(out, y):
    calls[0] += 1
    if calls[0] > 3:
        raise Boom("loss failed")
    return mse(out, y)


try:
    # Two batches: the loss is evaluated at every product (one (X, y)
    # pair keeps its gradient's graph and calls it once).
    hessian(cnn, bad_loss, torch.utils.data.DataLoader(ds, batch_size=8)
            ).top(2)
    check("a loss that raises inside Lanczos comes back", False, "no error")
except Boom as e:
    check("a loss that raises inside Lanczos comes back", "loss failed" in str(e))
try:
    hessian(cnn, mse, (Xc, yc), params=["nope"])
    check("unknown parameter name: ValueError", False)
except ValueError as e:
    check("unknown parameter name: ValueError", "nope" in str(e))
# One (X, y) pair keeps its gradient's graph: the same products as a
# fresh operator (recomputed), also after report()'s shifted gradients.
H1 = hessian(cnn, mse, (Xc, yc))
w = np.random.default_rng(2).standard_normal(H1.n)
first = H1.matvec(w)
H1._shifted_grad(w, 1e-3)
again = H1.matvec(w)
fresh = hessian(cnn, mse, (Xc, yc)).matvec(w)
check("kept graph: products equal a fresh operator's, after a shift too",
      np.array_equal(first, fresh) and np.array_equal(again, fresh),
      (np.abs(first - fresh).max(), np.abs(again - fresh).max()))
finish()
