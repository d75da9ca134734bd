#!/usr/bin/env python3
"""python_report.py — implreg.torch beyond eigenvalues: the SLQ density
(its extremes and trace against the dense spectrum), the Gauss–Newton part
against Jᵀ(∇²ℓ)J from torch's dense Jacobian (MSE and cross-entropy; equal
to the Hessian on a linear model), the gradient's overlap with the top
eigenspace against dense eigenvectors within its Davis–Kahan bound, and
.report(): the tables and checks of `implreg hessian`, every check PASS on
a correct Hessian and the right one FAILing on a Hessian broken by a scale
(finite differences) or by an asymmetric term (symmetry).  PASS/FAIL lines;
exit 77 without torch."""
import copy
import os
import shutil
import sys
import tempfile

from pycheck import check, finish, require

require("numpy", "torch")
import numpy as np
import torch

from implreg.torch import Hessian, hessian


def flat_fn(net):
    """f(flat θ, X) -> outputs, over all parameters (float64)."""
    net = copy.deepcopy(net).double()
    named = list(net.named_parameters())

    def f(flat, X):
        ps, i = {}, 0
        for k, p in named:
            ps[k] = flat[i:i + p.numel()].view(p.shape)
            i += p.numel()
        return torch.nn.utils.stateless.functional_call(net, ps, (X,))
    flat = torch.cat([p.detach().reshape(-1) for _, p in named])
    return f, flat


def dense_gn(net, X, out_hess):
    """Jᵀ (∇²ℓ) J with J from torch.autograd.functional.jacobian (m·K × n)
    and out_hess(outputs) the loss's Hessian in the flattened outputs."""
    f, flat = flat_fn(net)
    X = X.double()
    J = torch.autograd.functional.jacobian(lambda t: f(t, X).reshape(-1),
                                           flat).numpy()
    Ho = out_hess(f(flat, X).detach())
    return J.T.dot(Ho).dot(J)


def dense_hessian(net, loss_fn, X, y):
    f, flat = flat_fn(net)
    return torch.autograd.functional.hessian(
        lambda t: loss_fn(f(t, X.double()), y), flat).numpy()


torch.manual_seed(3)
X = torch.randn(30, 4)
mse = torch.nn.functional.mse_loss
ce = torch.nn.functional.cross_entropy

# ---- Gauss–Newton --------------------------------------------------------
lin = torch.nn.Linear(4, 2)
yl = torch.randn(30, 2)
H = hessian(lin, mse, (X, yl))
G = H.gauss_newton()
v = np.random.default_rng(0).standard_normal(H.n)
a, b = H.matvec(v), G.matvec(v)
check("Gauss-Newton = Hessian on a linear model with MSE",
      np.abs(a - b).max() <= 1e-13 * np.abs(a).max(), np.abs(a - b).max())

mlp = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
                          torch.nn.Linear(6, 3))
y3 = torch.randn(30, 3)
Gd = dense_gn(mlp, X, lambda o: 2.0 / o.numel() * np.eye(o.numel()))
G = hessian(mlp, mse, (X, y3)).gauss_newton()
Gm = np.array([G.matvec(e) for e in np.eye(G.n)]).T
check("Gauss-Newton (MSE) = (2/mK) J'J to 1e-12 relative",
      np.abs(Gm - Gd).max() <= 1e-12 * np.abs(Gd).max(),
      np.abs(Gm - Gd).max())
yc = torch.randint(0, 3, (30,))


def ce_hess(o):
    P = torch.softmax(o, dim=1).numpy()
    m, K = P.shape
    Ho = np.zeros((m * K, m * K))
    for i in range(m):
        Ho[i * K:(i + 1) * K, i * K:(i + 1) * K] = (np.diag(P[i]) -
                                                    np.outer(P[i], P[i])) / m
    return Ho


Gd = dense_gn(mlp, X, ce_hess)
Hc = hessian(mlp, ce, (X, yc))
G = Hc.gauss_newton()
vals, _ = G.dense_spectrum()
ev = np.linalg.eigvalsh(Gd)
check("Gauss-Newton (cross-entropy) spectrum = J'(diag p - pp')J/m to 1e-10",
      np.abs(vals - ev).max() <= 1e-10 * np.abs(ev).max(),
      np.abs(vals - ev).max())
check("Gauss-Newton is positive semidefinite (smallest >= -1e-12 max)",
      vals[0] >= -1e-12 * vals[-1], vals[0])
r = G.top(3)
check("Gauss-Newton top 3 by Lanczos within residuals",
      np.all(np.abs(r.values - ev[::-1][:3]) <= r.residuals + 1e-12 *
             ev[-1]) and r.certified, r)

# ---- density -------------------------------------------------------------
Hd = dense_hessian(mlp, ce, X, yc)
ev = np.linalg.eigvalsh(Hd)
d = Hc.density(runs=8, steps=Hc.n)
integral = np.trapz(d.density, d.grid)
check("SLQ density integrates to 1", abs(integral - 1) < 1e-6, integral)
check("SLQ with steps = n: node range = the dense extremes",
      abs(d.lmax - ev[-1]) <= 1e-9 * abs(ev).max() and
      abs(d.lmin - ev[0]) <= 1e-9 * abs(ev).max(), (d.lmin, d.lmax, ev[[0, -1]]))
check("SLQ trace within 5 se of the exact trace",
      abs(d.trace - ev.sum()) <= 5 * d.trace_se, (d.trace, d.trace_se,
                                                  ev.sum()))
check("SLQ weights sum to 1 in every run",
      all(abs(w.sum() - 1) < 1e-12 for w in d.weights))

# ---- gradient overlap ----------------------------------------------------
w, V = np.linalg.eigh(Hd)
_, g = Hc.loss_grad()
k = 3
exact = float(np.sum((V[:, ::-1][:, :k].T.dot(g)) ** 2) / g.dot(g))
o = Hc.gradient_overlap(k)
check("gradient overlap = dense eigenvectors' within the Davis-Kahan bound",
      abs(o.overlap - exact) <= o.bound + 1e-12 and 0 <= o.overlap <= 1 and
      o.certified, (o, exact))
check("overlap components square-sum to the overlap",
      abs(np.sum(o.components ** 2) - o.overlap) <= 1e-14, o)
try:
    Hc.gradient_overlap(Hc.n)
    check("overlap with k = n refused", False)
except ValueError as e:
    check("overlap with k = n refused", "k =" in str(e))

# ---- report --------------------------------------------------------------
tmp = tempfile.mkdtemp()
rep = Hc.report(os.path.join(tmp, "ok"), top=4, bottom=2, power=True)
names = set(rep.files)
want = {"eigenvalues.csv", "trace.csv", "density.csv", "slq_nodes.csv",
        "spectrum.csv", "estimators.csv", "power.csv", "summary.json",
        "checks.csv", "checks.tex"}
check("report: the tables of implreg hessian", want <= names, want - names)
check("report: every check PASS on a correct Hessian (%d checks)" %
      len(rep.checks), rep.passed and len(rep.checks) == 7,
      [(c["claim"], c["verdict"]) for c in rep.checks])
check("report: the finite-difference check ran (tanh: smooth)",
      any("central differences" in c["claim"] for c in rep.checks))
check("report: summary's top = the dense spectrum within residuals",
      np.all(np.abs(np.array(rep.summary["top"]) - ev[::-1][:4]) <=
             np.array(rep.summary["top_residuals"]) + 1e-12 * abs(ev).max()),
      rep.summary["top"])


class Scaled(Hessian):
    """A Hessian whose products are 1e-3 too large (a wrong scale)."""

    def matvec(self, v):
        return (1 + 1e-3) * Hessian.matvec(self, v)


class Asym(Hessian):
    """A Hessian with an asymmetric term (a wrong transpose)."""

    def matvec(self, v):
        out = Hessian.matvec(self, v)
        out[0] += 1e-4 * v[1]
        return out


rep = Scaled(mlp, ce, (X, yc)).report(os.path.join(tmp, "scaled"),
                                      full=False)
bad = [c["claim"] for c in rep.checks if c["verdict"] != "PASS"]
check("report: a product off by 1e-3 FAILs the finite-difference check",
      len(bad) == 1 and "central differences" in bad[0], bad)
rep = Asym(mlp, ce, (X, yc)).report(os.path.join(tmp, "asym"), full=False)
bad = [c["claim"] for c in rep.checks if c["verdict"] != "PASS"]
check("report: an asymmetric product FAILs the symmetry check",
      any("symmetric" in b for b in bad), bad)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(),
                          torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 2))
rep = hessian(cnn, mse, (torch.randn(10, 1, 6, 6), torch.randn(10, 2))) \
    .report(os.path.join(tmp, "relu"), top=2, density=False)
check("report: no finite-difference check on a ReLU model",
      rep.passed and not any("central differences" in c["claim"]
                             for c in rep.checks), rep.checks)
rep = G.report(os.path.join(tmp, "gn"), top=3)
check("report of the Gauss-Newton part: checks PASS", rep.passed,
      rep.checks)
try:
    Hc.report(os.path.join(tmp, "never"), probes=3)
    check("report: 3 probes refused before any output", False)
except ValueError as e:
    check("report: 3 probes refused before any output",
          "probes" in str(e) and not os.path.exists(os.path.join(tmp,
                                                                 "never")))
import warnings
bn = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                         torch.nn.Tanh(), torch.nn.Linear(5, 3))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    hessian(bn, ce, (X, yc))
    n_train = len(w)
    hessian(bn.eval(), ce, (X, yc))
check("a batch-norm model in training mode warns, in eval mode not",
      n_train == 1 and len(w) == 1 and "model.eval()" in str(w[0].message),
      [str(x.message) for x in w])
shutil.rmtree(tmp)
finish()
