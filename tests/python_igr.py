#!/usr/bin/env python3
"""python_igr.py — implreg.torch's igr (python/implreg/_igr.py): the
implicit-gradient-regularization coefficient λ fitted by libimplreg to a
torch model's GD or heavy-ball iterates, against independent computations:

- the ctypes mirrors of the C structures: every field of the default
  parameter sets where C puts it, and the result's fields consistent;
- a quadratic (Linear + bias, MSE: E = ½θᵀAθ − bᵀθ + const with
  A = 2X̃ᵀX̃/n): the iterates equal GD done in numpy, λ_max by Lanczos
  equals eigvalsh, and λ equals ir_igr_fit_quadratic's (closed-form flows,
  bisection) on the same iterates to the fit's resolution (the tolerance of
  `implreg igr`'s check: λ_int + 1e-9·λ), for GD and heavy ball;
- λ/λ_theory extrapolated to h → 0 (straight line in h·λ_max over three
  steps, as `implreg igr` checks it): within 0.03 of 1 for GD on a 4-16-1
  tanh MLP (h/4) and for heavy ball β = 0.5 on the quadratic
  (h(1+β)/(4(1−β)²); GD's coefficient at the effective step would give
  1/3); on the MLP the deviation is first order (log-log slope 1 ± 0.3)
  and rss/rss_flow falls as h² (slope 2 ± 0.5);
- the MLP's λ at h = 0.01 equals `implreg igr`'s on the same weights and
  data (the C network's own gradients and HVPs), to λ_int + 1e-9·λ;
- failures: a loss that raises (in the run, in the fit) comes back
  unchanged and the next call works; bad dtypes, shapes and arguments are
  ValueError; a diverging step is a RuntimeError with the library's
  message.
PASS/FAIL lines; exit 77 without torch."""
import sys

from pycheck import check, finish, require

require("numpy", "torch")
import numpy as np
import torch

import csv
import ctypes as C
import os
import subprocess
import tempfile

from implreg import _igr
from implreg._igr import igr


def line(x, y):
    """Least-squares straight line: (slope, intercept)."""
    s, c = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return s, c


mse = torch.nn.functional.mse_loss

# ---- the ctypes mirrors ------------------------------------------------------
lib = _igr.lib
op = _igr.ir_optim_params()
lib.ir_optim_params_default(C.byref(op))
check("ir_optim_params mirrors optim.h (defaults in their fields)",
      (op.lr, op.momentum, op.egr, op.batch, op.replacement, op.max_steps,
       op.diverge_ratio, op.seed) == (0, 0, 0, 0, 0, 1000, 1e8, 1) and
      op.loss_goal < 0, [getattr(op, f) for f, _ in op._fields_])
fl = _igr.ir_flow_params()
lib.ir_flow_params_default(C.byref(fl))
check("ir_flow_params mirrors flow.h",
      (fl.c, fl.lambda_, fl.kappa, fl.stepper, fl.rtol, fl.atol,
       fl.max_steps, fl.global_error) == (1, 0, 0, 0, 1e-11, -1, 1000000, 1),
      [getattr(fl, f) for f, _ in fl._fields_])
fp = _igr.ir_igr_fit_params()
lib.ir_igr_fit_params_default(C.byref(fp))
check("ir_igr_fit_params mirrors igr.h (the nested flow parameters too)",
      (fp.h, fp.start, fp.end, fp.segments, fp.stride, fp.c, fp.fit_c,
       fp.lambda0, fp.max_iter, fp.level, fp.nboot, fp.seed,
       fp.flow.rtol, fp.flow.max_steps, fp.flow.global_error) ==
      (0, 0, 0, 8, 1, 1, 0, 0, 12, 0.95, 2000, 1, 1e-11, 1000000, 0) and
      fp.stream == lib.ir_rng_stream(5, 80, 0),  # IR_STREAM_PROBE, 80
      [getattr(fp, f) for f, _ in fp._fields_])

# ---- a quadratic: Linear + bias with MSE ---------------------------------------
torch.manual_seed(1)
n, p = 40, 5
Xq = torch.randn(n, p, dtype=torch.float64)
yq = torch.randn(n, 1, dtype=torch.float64)
lin = torch.nn.Linear(p, 1).double()
Xt = np.hstack([Xq.numpy(), np.ones((n, 1))])
A = 2 * Xt.T @ Xt / n
b = 2 * Xt.T @ yq.numpy()[:, 0] / n
lmax = np.linalg.eigvalsh(A)[-1]
theta0 = np.concatenate([lin.weight.detach().numpy().ravel(),
                         lin.bias.detach().numpy()])

ratios = {}
for beta, eas in ((0.0, (0.2, 0.1, 0.05)), (0.5, (0.1, 0.05, 0.025))):
    name = "heavy ball beta = 0.5" if beta else "GD"
    hl, rat, worst = [], [], 0.0
    for ea in eas:  # ea = h lambda_max (1 + beta)/(1 - beta)^2
        h = ea / lmax * (1 - beta) ** 2 / (1 + beta)
        r = igr(lin, mse, (Xq, yq), h=h, steps=96, momentum=beta)
        if ea == eas[0]:
            # GD (or heavy ball) in numpy on A, b from the same start
            th, v = theta0.copy(), np.zeros_like(theta0)
            ref = [th.copy()]
            for _ in range(r.skip + r.steps):
                v = beta * v + (A @ th - b)
                th = th - h * v
                ref.append(th.copy())
            ref = np.array(ref)
            err = np.abs(r.iterates - ref).max() / np.abs(ref).max()
            check("quadratic, %s: the iterates = numpy's (1e-12 relative)"
                  % name, err <= 1e-12, err)
            check("quadratic, %s: lambda_max by Lanczos = eigvalsh "
                  "(1e-8 relative)" % name,
                  abs(r.lambda_max0 - lmax) <= 1e-8 * lmax,
                  (r.lambda_max0, lmax))
            S = r.segments
            ok = (r.lambda_lo <= r.lambda_ <= r.lambda_hi and
                  r.npoints == S * (r.seg_len // r.stride) and
                  S * r.seg_len <= r.steps and
                  abs(r.rms - np.sqrt(r.rss / r.npoints)) <= 1e-12 * r.rms
                  and r.rss < r.rss_flow and r.nevals >= r.nflows > 0 and
                  r.seg_lambda.shape == (S,) and
                  np.all(np.isfinite(r.seg_lambda)) and
                  r.c_fitted == (beta > 0) and
                  abs(r.final_loss - r.initial_loss) > 0)
            check("quadratic, %s: the result's fields are consistent "
                  "(ir_igr_fit_result mirrored)" % name, ok, r.as_dict())
        lc = _igr._fit_quadratic(A, b, r.iterates, h, segments=r.segments,
                                 stride=r.stride, start=r.skip, c=r.c,
                                 lambda0=r.theory)
        worst = max(worst, abs(r.lambda_ - lc) /
                    (r.lambda_int + 1e-9 * r.lambda_))
        hl.append(r.h_lambda_max)
        rat.append(r.ratio)
        print("  quadratic %s h lambda_max %.4f: lambda/theory %.5f [%.5f, "
              "%.5f], c %.5f, skip %d, 1 - rss/rss_flow %.3g"
              % (name, r.h_lambda_max, r.ratio, r.lambda_lo / r.theory,
                 r.lambda_hi / r.theory, r.c, r.skip, r.explained))
    check("quadratic, %s: lambda = ir_igr_fit_quadratic's on the same "
          "iterates (|diff| <= lambda_int + 1e-9 lambda; worst %.3g of it)"
          % (name, worst), worst <= 1, worst)
    ratios[beta] = (hl, rat)

hl, rat = ratios[0.5]
slope, icpt = line(hl, rat)
check("heavy ball beta = 0.5: lambda/[h(1+b)/(4(1-b)^2)] -> %.4f as h -> 0 "
      "(within 0.03 of 1; GD's h/(4(1-b)) would give 1/3)" % icpt,
      abs(icpt - 1) <= 0.03, (hl, rat))

# ---- a 4-16-1 tanh MLP on 64 samples -----------------------------------------
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(),
                          torch.nn.Linear(16, 1))
Xm = torch.randn(64, 4)
ym = torch.tanh(Xm @ torch.randn(4, 1))
w_before = mlp[0].weight.detach().clone()
hl, rat, rel = [], [], []
for h in (0.04, 0.02, 0.01):
    r = igr(mlp, mse, (Xm, ym), h=h, steps=96)
    hl.append(r.h_lambda_max)
    rat.append(r.ratio)
    rel.append(r.rss / r.rss_flow)
    print("  MLP GD h = %g (h lambda_max %.4f): lambda/(h/4) %.5f [%.5f, "
          "%.5f] theory_in_interval %s, rss %.3g vs gradient flow %.3g, "
          "loss %.5g -> %.5g, %d flows, %d evaluations"
          % (h, r.h_lambda_max, r.ratio, r.lambda_lo / r.theory,
             r.lambda_hi / r.theory, r.theory_in_interval, r.rss,
             r.rss_flow, r.initial_loss, r.final_loss, r.nflows, r.nevals))
check("the caller's MLP is untouched (float32, same weights)",
      mlp[0].weight.dtype == torch.float32 and
      torch.equal(mlp[0].weight.detach(), w_before))
# The same fit by `implreg igr` on the same network, data and weights: the
# C MLP's own gradients and R-operator HVPs instead of torch's autograd.
exe = os.environ.get("IMPLREG") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "implreg")
if os.path.exists(exe):
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "X.npy"), Xm.double().numpy())
        np.save(os.path.join(d, "Y.npy"), ym.double().numpy())
        np.save(os.path.join(d, "theta.npy"), torch.cat(
            [q.detach().double().flatten() for q in mlp.parameters()]).numpy())
        cmd = [exe, "igr", "--X", "X.npy", "--Y", "Y.npy", "--arch", "4-16-1",
               "--act", "tanh", "--loss", "mse", "--init", "theta.npy",
               "--h", "0.01", "--steps", "96", "--segments", "8",
               "--seeds", "1", "--quiet", "--out", "out"]
        pr = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
        rows = []
        if pr.returncode == 0:
            with open(os.path.join(d, "out", "lambda.csv")) as fh:
                rows = [w for w in csv.DictReader(fh) if w["method"] == "gd"]
        lc = float(rows[0]["lambda_fit"]) if rows else float("nan")
        tol = r.lambda_int + 1e-9 * r.lambda_
        check("MLP, GD h = 0.01: lambda = implreg igr's on the same weights "
              "and data (|diff| %.2g <= lambda_int + 1e-9 lambda = %.2g)"
              % (abs(r.lambda_ - lc), tol), abs(r.lambda_ - lc) <= tol,
              (r.lambda_, lc, pr.returncode, pr.stderr[-300:]))
else:
    print("SKIP the comparison with implreg igr: no binary at %s" % exe)
slope, icpt = line(hl, rat)
check("MLP, GD: lambda/(h/4) -> %.4f as h -> 0 (within 0.03 of 1)" % icpt,
      abs(icpt - 1) <= 0.03, (hl, rat))
o, _ = line(np.log(hl), np.log(np.abs(np.array(rat) - 1)))
check("MLP, GD: |lambda/(h/4) - 1| is first order in h (slope %.2f, "
      "1 +- 0.3)" % o, abs(o - 1) <= 0.3, rat)
o, _ = line(np.log(hl), np.log(rel))
check("MLP, GD: rss/rss_flow falls as h^2 (slope %.2f, 2 +- 0.5; %.3g at "
      "the smallest h)" % (o, rel[-1]), abs(o - 2) <= 0.5, rel)

# ---- failures -------------------------------------------------------------------


class Boom(Exception):
    pass


def raising_after(k):
    calls = [0]

    def loss(out, y):
        calls[0] += 1
        if calls[0] > k:
            raise Boom("loss failed at call %d" % calls[0])
        return mse(out, y)
    return loss


hq = 0.05 / lmax
for k, where in ((40, "the run"), (400, "the fit")):
    try:
        igr(lin, raising_after(k), (Xq, yq), h=hq, steps=32, lambda_max=lmax)
        check("a loss that raises in %s comes back" % where, False,
              "no error")
    except Boom as e:
        check("a loss that raises in %s comes back unchanged" % where,
              "call %d" % (k + 1) in str(e), e)
r = igr(lin, mse, (Xq, yq), h=hq, steps=32)
check("after a failure the next call works", np.isfinite(r.lambda_), r)


def refused(label, exc, f):
    try:
        f()
        check(label, False, "no error")
    except exc as e:
        check(label, True)
        print("  " + str(e).splitlines()[0])


refused("dtype=torch.float32: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq), h=hq, steps=32, dtype=torch.float32))
refused("integer inputs: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq.long(), yq), h=hq, steps=32))
refused("X and y of different lengths: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq[:-1]), h=hq, steps=32))
refused("inputs the model cannot take (6 features for 5): ValueError",
        ValueError,
        lambda: igr(lin, mse, (torch.randn(n, 6), yq), h=hq, steps=32))
refused("a loss that is not a scalar: ValueError", ValueError,
        lambda: igr(lin, lambda o, t: (o - t) ** 2, (Xq, yq), h=hq,
                    steps=32))
refused("momentum = 1: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq), h=hq, steps=32, momentum=1.0))
refused("h = 0: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq), h=0, steps=32))
refused("segments = 1: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq), h=hq, steps=32, segments=1))
refused("unknown parameter name: ValueError", ValueError,
        lambda: igr(lin, mse, (Xq, yq), h=hq, steps=32, params=["nope"]))
try:
    igr(lin, mse, (Xq, yq), h=2.5 / lmax, steps=96)
    check("h lambda_max = 2.5 (GD diverges): RuntimeError", False,
          "no error")
except RuntimeError as e:
    check("h lambda_max = 2.5 (GD diverges): RuntimeError with the "
          "library's message", "diverged" in str(e), e)
    print("  " + str(e))
finish()
