#!/usr/bin/env python3
"""torch_hessian.py — the top-5 Hessian eigenvalues (with residuals and
whether the multiplicities are certified) and the trace ± se of a PyTorch
model, through implreg, then the report of `implreg hessian` (tables,
checks, density figure) in a folder.

    PYTHONPATH=python python3 examples/torch_hessian.py [OUTDIR]

The model is a small CNN trained for a few steps on random data, so that
the example runs anywhere: put your own model and your own (X, y) or
DataLoader in place of `model` and `data`.
"""
import sys

import torch

from implreg.torch import hessian

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(4 * 12 * 12, 10))
X = torch.randn(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))
data = (X, y)
loss_fn = torch.nn.functional.cross_entropy
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(20):
    opt.zero_grad()
    loss_fn(model(X), y).backward()
    opt.step()

H = hessian(model, loss_fn, data)
print("parameters:", H.n)
r = H.top(5)
print("top-5 eigenvalues (Lanczos, %d Hessian-vector products, %s):"
      % (r.nmatvec, "multiplicities certified" if r.certified
         else "NOT certified"))
for v, res, ok in zip(r.values, r.residuals, r.converged):
    print("  %14.8g   residual ||Hv - lambda v|| = %.2e%s"
          % (v, res, "" if ok else "  (not converged)"))
t = H.trace(probes=100)
print("trace: %.6g +- %.2g (Hutchinson, %d probes)" % (t.trace, t.se,
                                                       t.nprobe))
out = sys.argv[1] if len(sys.argv) > 1 else "torch-hessian-report"
rep = H.report(out, top=5, slq_runs=4, slq_steps=50)  # 200 products for the density
print("report in %s/: %d checks, %s" % (out, len(rep.checks),
                                        "all PASS" if rep.passed
                                        else "some FAIL"))
for c in rep.checks:
    print("  %s  %s" % (c["verdict"], c["claim"]))
