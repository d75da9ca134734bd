#!/usr/bin/python3
"""PyTorch side of bench/hessian: inputs, torch timings, the table.

Subcommands (bench/hessian calls them in this order):
  info                      torch, NumPy and SciPy versions, the OpenBLAS build
                            and core torch runs on, torch's thread count
  gen DIR                   the two cases' inputs, written as .npy:
                            DIR/CASE.theta.npy (p,), CASE.X.npy (n, d),
                            CASE.Y.npy ((n, 1) float64 targets for small,
                            (n,) int64 labels for mnist), CASE.v.npy (p,)
                            the direction of the timed HVPs, and for mnist
                            also CASE.Yonehot.npy (n, 10) float64
  time DIR CASE             per-call times of gd_step, grad, hvp, hvp_full;
                            for small also the dense Hessian's spectrum and
                            the HVP counts of power iteration and Lanczos
  e2e DIR                   the work of `implreg hessian --top 5 --trace` in
                            torch + SciPy (mnist): loss, gradient norm, top-5
                            eigenpairs by scipy.sparse.linalg.eigsh on an HVP
                            LinearOperator, explicit residuals, Hutchinson
  report DIR                the table, from DIR/torch.*.json,
                            DIR/implreg.*.json and DIR/cli.* (does not need
                            torch)

time and e2e print one JSON object on stdout (the driver keeps it as
DIR/torch.CASE.json / DIR/torch.e2e.R.json); progress goes to stderr.  time
also writes ∇L and H v at θ as DIR/CASE.grad.torch.npy, CASE.hv.torch.npy.
The C side (bench_hessian.c) reads the same .npy files, prints the same keys
(DIR/implreg.CASE.json, implreg.e2e.R.json) and writes its own ∇L and H v;
the driver records each `implreg hessian` run in DIR/cli.R.json.  Per-call
times are the best of --reps loops of N calls, N doubled until a loop lasts
--min-time seconds; the report keeps the fastest end-to-end run of each side.

The cases (fixed seed, torch's default nn.Linear initialization, no training:
θ is the point at initialization, for both cases):
  small  4-32-1 tanh, n = 64, x ~ N(0, I4), y = sin(2 x1) cos(x2) + 0.5 x3 x4
         (docs/theory.md section 7), L = (1/(2m)) sum_i ||f_i - y_i||^2 (implreg's
         half-mse), 193 parameters
  mnist  784-64-10 relu, the first 1000 Fashion-MNIST training images, pixels
         / 255, torch.nn.CrossEntropyLoss() (mean) on integer labels, 50,890
         parameters
"""
import argparse
import glob
import json
import math
import os
import re
import sys
import time

T_START = time.perf_counter()  # before the heavy imports (e2e reports both)

import numpy as np  # noqa: E402

# bench_double_descent.py is next to this file (sys.path[0]): reuse its
# Fashion-MNIST reader (gzip'd IDX).
from bench_double_descent import read_idx  # noqa: E402

PROG = "bench_hessian.py"
SEED = 20241201  # fixed, so every run times the same inputs
FASHION = "/usr/share/datasets/fashion-mnist"
CASES = {
    # name: (widths, activation, loss, samples)
    "small": ((4, 32, 1), "tanh", "half-mse", 64),
    "mnist": ((784, 64, 10), "relu", "ce", 1000),
}
OPS = ("gd_step", "grad", "hvp", "hvp_full")
LR = 0.01          # step size of the timed GD step (θ is restored afterwards)
POWER_TOL = 1e-8   # residual rule: ||Hv - lambda v|| <= tol |lambda|
POWER_MAX = 200000
LANCZOS1_TOL = 1e-8  # scipy eigsh k = 1 (ARPACK: ||r|| <= tol |theta|)
E2E_TOL = 1e-10    # eigsh tolerance of the end-to-end run (implreg's default)
# Goals (the issue): torch seconds / implreg seconds.
GOALS = {("small", "gd_step"): 50.0, ("small", "grad"): 50.0,
         ("small", "hvp"): 50.0, ("small", "hvp_full"): 50.0,
         ("mnist", "grad"): 1.0, ("mnist", "hvp"): 1.0,
         ("mnist", "end_to_end"): 2.0}
STRICT = {("mnist", "grad"), ("mnist", "hvp")}  # "> 1", the others ">="
EIG_AGREE = 1e-8   # relative agreement of the top-5 eigenvalues


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(1)


def emit(obj):
    """One JSON object on one line of stdout (NumPy scalars converted)."""
    print(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item")
                     else str(o)), flush=True)


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def import_torch(threads):
    """torch, float64 by default, with `threads` intra-op threads; a one-line
    error and exit 1 when it is not installed."""
    try:
        import torch
    except ImportError as e:
        die(f"cannot import torch ({e}): apt-get install python3-torch")
    torch.set_default_dtype(torch.float64)
    if threads:
        torch.set_num_threads(threads)
    return torch


def flop_count(widths, m):
    """Flops per call on m samples, layer l with F_l = in_l * out_l weights
    (multiply and add count one each; elementwise work not counted):
      forward                 2m sum_l F_l
      gradient (backprop)     forward + 2m sum_l F_l (weight gradients)
                              + 2m sum_{l>=2} F_l (input gradients; none
                              for the first layer)
      HVP, forward reused     R-forward 2m F_1 + 4m sum_{l>=2} F_l, R-backward
                              2m F_1 + 8m sum_{l>=2} F_l (R(a_0) = 0 saves
                              half of the first layer's work)
    mlp.h's round figures (2mF, 4mF, 10mF) are these with every layer
    counted like an inner one.  gd_step = grad (+ an axpy); hvp_full = grad +
    HVP."""
    F = [a * b for a, b in zip(widths[:-1], widths[1:])]
    inner = sum(F[1:])
    fwd = 2.0 * m * sum(F)
    grad = fwd + 2.0 * m * sum(F) + 2.0 * m * inner
    hvp = 4.0 * m * F[0] + 12.0 * m * inner
    return {"gd_step": grad, "grad": grad, "hvp": hvp, "hvp_full": grad + hvp}


def nparams(widths):
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


# ---- info ---------------------------------------------------------------

def cmd_info(args):
    torch = import_torch(args.threads)
    a = torch.ones(64, 64)
    (a @ a).sum().item()  # binds torch's BLAS (dgemm) before reading the maps
    from bench_minnorm import openblas_info
    path, config, core, threads = openblas_info()
    try:
        import scipy
        sv = scipy.__version__
    except ImportError:
        sv = "not installed (apt-get install python3-scipy)"
    print(f"# torch {torch.__version__} ({os.path.dirname(torch.__file__)}),"
          f" numpy {np.__version__}, scipy {sv}")
    print(f"# torch threads {torch.get_num_threads()} (torch.set_num_threads),"
          f" interop {torch.get_num_interop_threads()}")
    print(f"# openblas_lib {path}")
    print(f"# openblas_config {config}")
    print(f"# openblas_corename {core}")
    print(f"# openblas_threads {threads}")


# ---- gen ----------------------------------------------------------------

def make_net(torch, widths, act):
    A = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[act]
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        if i > 0:
            layers.append(A())
        layers.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*layers)


def flat_params(net):
    """θ in implreg's layout (mlp.h): per layer, weight (out x in,
    row-major) then bias."""
    import torch
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def cmd_gen(args):
    torch = import_torch(1)
    os.makedirs(args.dir, exist_ok=True)
    out = {}
    # small: x ~ N(0, I4) and then the default initialization, both from
    # torch's generator seeded with SEED.
    widths, act, _, n = CASES["small"]
    torch.manual_seed(SEED)
    X = torch.randn(n, widths[0])
    Y = (torch.sin(2 * X[:, 0]) * torch.cos(X[:, 1])
         + 0.5 * X[:, 2] * X[:, 3]).reshape(n, 1)
    net = make_net(torch, widths, act)
    out["small"] = (flat_params(net).numpy(), X.numpy(), Y.numpy(), None)
    # mnist: the first n training images, pixels / 255, integer labels; the
    # default initialization from torch's generator seeded with SEED + 1.
    widths, act, _, n = CASES["mnist"]
    try:
        Xm = read_idx(os.path.join(args.fashion,
                                   "train-images-idx3-ubyte.gz"), n)
        ym = read_idx(os.path.join(args.fashion,
                                   "train-labels-idx1-ubyte.gz"), n)
    except OSError as e:
        die(f"{e} (apt-get install dataset-fashion-mnist)")
    Xm = Xm.astype(np.float64) / 255.0
    ym = ym[:, 0].astype(np.int64)
    torch.manual_seed(SEED + 1)
    net = make_net(torch, widths, act)
    out["mnist"] = (flat_params(net).numpy(), Xm, ym,
                    np.eye(widths[-1])[ym])
    for case, (theta, X, Y, Y1) in out.items():
        assert theta.size == nparams(CASES[case][0])
        # v: the direction of the timed HVPs (both sides; their H v are
        # compared by the report).
        v = np.random.default_rng(SEED + 7).standard_normal(theta.size)
        for name, a in (("theta", theta), ("X", X), ("Y", Y), ("Yonehot", Y1),
                        ("v", v)):
            if a is not None:
                np.save(os.path.join(args.dir, f"{case}.{name}.npy"),
                        np.ascontiguousarray(a))
    print(f"# inputs (seed {SEED}, torch {torch.__version__} default "
          "nn.Linear initialization, no training):")
    for case, (theta, X, Y, _) in out.items():
        widths, act, loss, n = CASES[case]
        print(f"#   {case}: {'-'.join(map(str, widths))} {act}, loss {loss}, "
              f"n = {X.shape[0]}, p = {theta.size}, |theta| = "
              f"{np.linalg.norm(theta):.6g}")
    print(f"#   mnist: the first {out['mnist'][1].shape[0]} images of "
          f"{args.fashion} (train), pixels / 255; labels "
          f"{np.bincount(out['mnist'][2], minlength=10).tolist()}")


# ---- the network at θ -------------------------------------------------------

class Problem:
    """The network of a case with θ, X, Y loaded from DIR, the loss, and
    HVP helpers (flat vectors in θ's layout)."""

    def __init__(self, torch, d, case):
        self.torch = torch
        self.case = case
        self.widths, self.act, self.lossname, _ = CASES[case]
        def ld(k):
            path = os.path.join(d, f"{case}.{k}.npy")
            try:
                return np.load(path)
            except (OSError, ValueError) as e:
                die(f"{path}: {e} (write the inputs with `{PROG} gen DIR`)")
        theta = torch.from_numpy(ld("theta").astype(np.float64))
        self.X = torch.from_numpy(ld("X").astype(np.float64))
        if self.lossname == "ce":
            self.Y = torch.from_numpy(ld("Y").astype(np.int64).reshape(-1))
            ce = torch.nn.CrossEntropyLoss()
            self.lossfn = lambda f: ce(f, self.Y)
        else:
            self.Y = torch.from_numpy(ld("Y").astype(np.float64))
            self.Y = self.Y.reshape(self.X.shape[0], -1)
            m = self.X.shape[0]
            self.lossfn = lambda f: 0.5 * ((f - self.Y) ** 2).sum() / m
        self.net = make_net(torch, self.widths, self.act)
        self.params = list(self.net.parameters())
        self.sizes = [p.numel() for p in self.params]
        self.p = sum(self.sizes)
        if theta.numel() != self.p:
            die(f"{case}.theta.npy has {theta.numel()} entries, the network "
                f"{self.p}")
        self.set_theta(theta)
        assert torch.equal(flat_params(self.net), theta)
        self.m = self.X.shape[0]
        self.grads = None

    def set_theta(self, theta):
        self.torch.nn.utils.vector_to_parameters(theta.clone(), self.params)

    def loss(self):
        return self.lossfn(self.net(self.X))

    def split(self, v):
        return [c.view_as(p) for c, p in
                zip(self.torch.split(v, self.sizes), self.params)]

    def cat(self, gs):
        return self.torch.cat([
            (g if g is not None else self.torch.zeros_like(p)).reshape(-1)
            for g, p in zip(gs, self.params)])

    def grad(self):
        L = self.loss()
        g = self.torch.autograd.grad(L, self.params)
        return L.item(), self.cat(g)

    def prepare_hvp(self):
        """Forward pass and gradient with create_graph=True, once: hvp()
        then differentiates this graph again (the HVP reusing the forward
        pass)."""
        L = self.loss()
        self.grads = self.torch.autograd.grad(L, self.params,
                                              create_graph=True)
        return L.item(), self.cat([g.detach() for g in self.grads])

    def hvp(self, v):
        hv = self.torch.autograd.grad(self.grads, self.params,
                                      grad_outputs=self.split(v),
                                      retain_graph=True, allow_unused=True)
        return self.cat(hv)

    def hvp_full(self, v):
        L = self.loss()
        g = self.torch.autograd.grad(L, self.params, create_graph=True)
        hv = self.torch.autograd.grad(g, self.params,
                                      grad_outputs=self.split(v),
                                      allow_unused=True)
        return self.cat(hv)

    def gd_step(self, lr):
        self.net.zero_grad()
        L = self.loss()
        L.backward()
        with self.torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-lr)


def time_calls(fn, reps, min_time):
    """Best of `reps` loops of N calls, per call; N doubles (after a
    warm-up call) until one loop takes at least min_time seconds."""
    fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time or calls >= 1 << 22:
            break
        calls = max(2 * calls, int(math.ceil(calls * 1.2 * min_time
                                             / max(t, 1e-9))))
    per = []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        t = time.perf_counter() - t0
        per.append((t / calls, (time.process_time() - c0) / calls))
    best = min(per)
    return {"seconds": best[0], "cpu_seconds": best[1], "calls": calls,
            "reps": reps, "all": [s for s, _ in per]}


# ---- power iteration, Lanczos and the dense spectrum (small) ---------------

def power_iteration(apply, v0, tol, max_iter):
    """Power iteration with the residual rule ||Av - lambda v|| <= tol
    |lambda| (one matvec per iteration gives both lambda and the residual, as
    implreg's IR_POWER_RESIDUAL).  Returns (lambda, residual, matvecs,
    converged)."""
    v = v0 / np.linalg.norm(v0)
    lam, r = math.nan, math.nan
    for it in range(1, max_iter + 1):
        w = apply(v)
        lam = float(v @ w)
        r = float(np.linalg.norm(w - lam * v))
        if r <= tol * abs(lam):
            return lam, r, it, True
        v = w / np.linalg.norm(w)
    return lam, r, max_iter, False


def power_pyhessian(apply, v0, tol=1e-3, max_iter=100):
    """PyHessian's rule: stop when |l_t - l_{t-1}| / (|l_{t-1}| + 1e-6) <
    tol, at most 100 iterations (docs/theory.md section 8)."""
    v = v0 / np.linalg.norm(v0)
    prev = None
    for it in range(1, max_iter + 1):
        w = apply(v)
        lam = float(v @ w)
        if prev is not None and abs(lam - prev) / (abs(prev) + 1e-6) < tol:
            return lam, it
        prev = lam
        v = w / np.linalg.norm(w)
    return lam, max_iter


def lanczos_plain(apply, v0, tol, max_steps):
    """Lanczos with full reorthogonalization, no restart, stopping at the
    first step j where the top Ritz pair's residual estimate beta_j |s_jk|
    is <= tol |theta|; then one more matvec for the explicit residual.  The
    fewest HVPs a Lanczos method needs for this accuracy (ARPACK cannot stop
    before ncv = 20 matvecs).  Returns (lambda, explicit residual, matvecs
    including the residual's, converged)."""
    n = v0.size
    Q = np.zeros((n, min(max_steps, n) + 1))
    Q[:, 0] = v0 / np.linalg.norm(v0)
    alpha, beta = [], []
    for j in range(min(max_steps, n)):
        w = apply(Q[:, j])
        a = float(Q[:, j] @ w)
        w = w - Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)
        w = w - Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)   # twice is enough
        b = float(np.linalg.norm(w))
        alpha.append(a)
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        th, S = np.linalg.eigh(T)
        lam, s = th[-1], S[:, -1]
        if b * abs(s[-1]) <= tol * abs(lam) or b == 0.0 or j + 1 == n:
            x = Q[:, :j + 1] @ s
            r = float(np.linalg.norm(apply(x) - lam * x))
            return float(lam), r, j + 2, bool(r <= 10 * tol * abs(lam))
        beta.append(b)
        Q[:, j + 1] = w / b
    return float(lam), math.nan, max_steps, False


def eigsh_top(apply, n, k, tol, v0):
    """k largest algebraic eigenpairs with scipy.sparse.linalg.eigsh on a
    LinearOperator (ARPACK's implicitly restarted Lanczos, default ncv),
    explicit residuals ||Hv - lambda v|| (k more matvecs).  Returns values
    (descending), residuals, matvecs of eigsh, seconds of eigsh."""
    from scipy.sparse.linalg import LinearOperator, eigsh
    count = [0]

    def mv(x):
        count[0] += 1
        return apply(np.asarray(x, dtype=np.float64).reshape(-1))

    op = LinearOperator((n, n), matvec=mv, dtype=np.float64)
    t0 = time.perf_counter()
    vals, vecs = eigsh(op, k=k, which="LA", tol=tol, v0=v0)
    t = time.perf_counter() - t0
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    res = [float(np.linalg.norm(apply(vecs[:, i]) - vals[i] * vecs[:, i]))
           for i in range(len(vals))]
    return vals, res, count[0], t


def spectrum_small(pb, tnp):
    """Dense Hessian from p HVPs (symmetry checked), its spectrum; HVP counts
    of residual-rule power iteration (torch HVPs, and on the dense matrix in
    NumPy as a cross-check) and of Lanczos (eigsh, k = 1)."""
    torch = pb.torch
    p = pb.p
    I = torch.eye(p)
    H = torch.stack([pb.hvp(I[i]) for i in range(p)], 1).numpy()
    asym = float(np.max(np.abs(H - H.T)) / np.max(np.abs(H)))
    H = 0.5 * (H + H.T)
    ev = np.linalg.eigvalsh(H)[::-1]
    lmax, lmin = float(ev[0]), float(ev[-1])
    dom = int(np.argmax(np.abs(ev)))
    rng = np.random.default_rng(SEED)
    v0 = rng.standard_normal(p)
    out = {"dense": {"asymmetry": asym, "top5": ev[:5].tolist(),
                     "lambda_min": lmin, "trace": float(np.trace(H)),
                     "ratio_l2_l1": float(abs(ev[1]) / abs(ev[0])),
                     "dominant_is_lambda_max": dom == 0}}
    t0 = time.perf_counter()
    lam, r, it, ok = power_iteration(tnp, v0, POWER_TOL, POWER_MAX)
    out["power"] = {"rule": f"residual <= {POWER_TOL:g} |lambda|",
                    "lambda": lam, "residual": r, "rel_residual": r / abs(lam),
                    "hvps": it, "converged": ok,
                    "rel_err_vs_dense": abs(lam - lmax) / abs(lmax),
                    "seconds": time.perf_counter() - t0}
    lam2, _, it2, ok2 = power_iteration(lambda x: H @ x, v0, POWER_TOL,
                                        POWER_MAX)
    out["power_dense_numpy"] = {"lambda": lam2, "hvps": it2, "converged": ok2}
    lam3, it3 = power_pyhessian(tnp, v0)
    out["power_pyhessian"] = {"rule": "PyHessian: rel. change < 1e-3, <= 100 "
                              "its", "lambda": lam3, "hvps": it3,
                              "rel_err_vs_dense": abs(lam3 - lmax) / abs(lmax)}
    lam4, r4, it4, ok4 = lanczos_plain(tnp, v0, LANCZOS1_TOL, p)
    out["lanczos_plain"] = {"method": "Lanczos, full reorthogonalization, "
                            "stop at Ritz residual estimate <= tol |theta|",
                            "lambda": lam4, "residual": r4,
                            "rel_residual": r4 / abs(lam4),
                            "hvps": it4, "converged": ok4,
                            "rel_err_vs_dense": abs(lam4 - lmax) / abs(lmax)}
    vals, res, nmv, t = eigsh_top(tnp, p, 1, LANCZOS1_TOL, v0)
    out["lanczos"] = {"method": "scipy eigsh k=1 which=LA "
                      f"tol={LANCZOS1_TOL:g} (ARPACK, ncv default)",
                      "lambda": float(vals[0]), "residual": res[0],
                      "rel_residual": res[0] / abs(vals[0]),
                      "hvps": nmv, "hvps_with_residual": nmv + 1,
                      "rel_err_vs_dense": abs(vals[0] - lmax) / abs(lmax),
                      "seconds": t}
    return out


# ---- time -------------------------------------------------------------------

def cmd_time(args):
    torch = import_torch(args.threads)
    pb = Problem(torch, args.dir, args.case)
    theta0 = flat_params(pb.net).clone()
    loss, g = pb.prepare_hvp()
    v = torch.from_numpy(np.load(os.path.join(args.dir,
                                              f"{args.case}.v.npy")))
    flops = flop_count(pb.widths, pb.m)
    ops = {}
    note(f"torch {args.case}: p = {pb.p}, m = {pb.m}, "
         f"{torch.get_num_threads()} threads")
    ops["grad"] = time_calls(lambda: pb.grad(), args.reps, args.min_time)
    ops["hvp"] = time_calls(lambda: pb.hvp(v), args.reps, args.min_time)
    ops["hvp_full"] = time_calls(lambda: pb.hvp_full(v), args.reps,
                                 args.min_time)
    ops["gd_step"] = time_calls(lambda: pb.gd_step(LR), args.reps,
                                args.min_time)
    pb.set_theta(theta0)   # the GD steps moved θ: back, and a fresh graph
    pb.prepare_hvp()
    for k, o in ops.items():
        o["flops"] = flops[k]
        o["gflops"] = flops[k] / o["seconds"] / 1e9
        note(f"torch {args.case} {k}: {o['seconds']:.4g} s/call "
             f"({o['calls']} calls x {o['reps']})")
    hv = pb.hvp(v)
    np.save(os.path.join(args.dir, f"{args.case}.grad.torch.npy"), g.numpy())
    np.save(os.path.join(args.dir, f"{args.case}.hv.torch.npy"), hv.numpy())
    out = {"side": "torch", "case": args.case, "threads":
           torch.get_num_threads(), "p": pb.p, "m": pb.m, "loss": loss,
           "grad_norm": float(g.norm()), "norm_hv": float(hv.norm()),
           "ops": ops, "lr": LR}
    if args.case == "small":
        tnp = lambda x: pb.hvp(torch.from_numpy(np.ascontiguousarray(x))
                               ).numpy()
        out["counts"] = spectrum_small(pb, tnp)
        c = out["counts"]
        note(f"torch small: lambda_max {c['dense']['top5'][0]:.10g}; power "
             f"{c['power']['hvps']} HVPs, Lanczos (eigsh) "
             f"{c['lanczos']['hvps']} HVPs")
    emit(out)


# ---- e2e --------------------------------------------------------------------

def cmd_e2e(args):
    torch = import_torch(args.threads)
    t_imported = time.perf_counter()
    pb = Problem(torch, args.dir, args.case)   # load θ, X, Y; build the net
    loss, g = pb.prepare_hvp()
    gnorm = float(g.norm())
    t_setup = time.perf_counter()
    nhvp = [0]

    def tnp(x):
        nhvp[0] += 1
        return pb.hvp(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    rng = np.random.default_rng(SEED)
    note(f"torch e2e {args.case}: eigsh k={args.top} tol={args.tol:g}")
    vals, res, nmv, t_eig = eigsh_top(tnp, pb.p, args.top, args.tol,
                                      rng.standard_normal(pb.p))
    t_eig_done = time.perf_counter()
    note(f"torch e2e: Hutchinson, {args.probes} Rademacher probes")
    est = np.empty(args.probes)
    for i in range(args.probes):
        z = rng.integers(0, 2, pb.p).astype(np.float64) * 2.0 - 1.0
        est[i] = z @ tnp(z)
    t_end = time.perf_counter()
    trace = float(est.mean())
    se = float(est.std(ddof=1) / math.sqrt(args.probes))
    out = {"side": "torch", "case": args.case, "threads":
           torch.get_num_threads(), "p": pb.p, "m": pb.m, "loss": loss,
           "grad_norm": gnorm, "k": args.top, "tol": args.tol,
           "eigenvalues": vals.tolist(), "residuals": res,
           "rel_residuals": [r / abs(vals[0]) for r in res],
           "trace": trace, "trace_se": se, "probes": args.probes,
           "hvps": nhvp[0], "hvps_eigsh": nmv,
           "hvps_residuals": len(vals), "hvps_trace": args.probes,
           "seconds": t_end - t_imported,
           "seconds_with_imports": t_end - T_START,
           "seconds_setup": t_setup - t_imported,
           "seconds_eig": t_eig_done - t_setup, "seconds_eigsh": t_eig,
           "seconds_trace": t_end - t_eig_done,
           "method": "scipy.sparse.linalg.eigsh(LinearOperator(HVP), k, "
                     "which='LA', tol) + explicit residuals + Hutchinson"}
    note(f"torch e2e: {out['seconds']:.3f} s, {out['hvps']} HVPs, "
         f"eigenvalues {', '.join(f'{x:.10g}' for x in vals)}")
    emit(out)


# ---- report ----------------------------------------------------------------

def load_json(path):
    """The last JSON object in a file (None if missing or unreadable)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    try:
        return json.loads(text)
    except ValueError:
        return None


def cli_results(outdir, stdout_path):
    """What `implreg hessian` reported: its --out/summary.json (top,
    top_residuals, trace, trace_se, trace_probes, loss, grad_norm,
    hvps_top) when there is one, else the eigenvalues alone from a table
    JSON with an eigenvalue column or from its stdout.  (dict, where) or
    (None, why)."""
    try:
        with open(os.path.join(outdir, "summary.json")) as f:
            sm = json.load(f)
        if isinstance(sm.get("top"), list) and sm["top"]:
            out = {"eigenvalues": sm["top"]}
            if isinstance(sm.get("top_residuals"), list):
                out["residuals"] = sm["top_residuals"]
            for k in ("loss", "grad_norm", "trace", "trace_se"):
                if isinstance(sm.get(k), (int, float)):
                    out[k] = sm[k]
            if "trace" in out:
                out["probes"] = sm.get("trace_probes")
            if isinstance(sm.get("hvps_top"), int):
                # Hutchinson's z'Hz come as quadratic forms by forward mode
                # (about half an HVP each) when summary.json says so.
                if isinstance(sm.get("trace_quad_forms"), int):
                    out["hvps"] = sm["hvps_top"] + (sm.get("trace_hvps") or 0)
                    out["quad_forms"] = sm["trace_quad_forms"]
                else:
                    out["hvps"] = sm["hvps_top"] + (sm.get("trace_probes") or 0)
            return out, "summary.json"
    except (OSError, ValueError, AttributeError):
        pass
    vals, where = cli_eigenvalues(outdir, stdout_path)
    return ({"eigenvalues": vals} if vals else None), where


def cli_eigenvalues(outdir, stdout_path):
    """Eigenvalues reported by `implreg hessian`: from a table JSON in its
    --out directory (a column whose name says eigenvalue), else from its
    stdout (lines naming lambda_i / eigenvalue i).  (values, where) or
    (None, why)."""
    for path in sorted(glob.glob(os.path.join(outdir, "**", "*.json"),
                                 recursive=True)):
        base = os.path.basename(path)
        if base in ("manifest.json", "checks.json"):
            continue
        try:
            with open(path) as f:
                t = json.load(f)
        except (OSError, ValueError):
            continue
        if not isinstance(t, dict) or not isinstance(t.get("rows"), list):
            continue
        names = [c.get("name", "") for c in t.get("columns", [])
                 if isinstance(c, dict)]
        for want in (r"^(eigenvalue|lambda|eig)$", r"eigenvalue|^lambda",
                     r"^value$"):
            col = next((c for c in names if re.search(want, c, re.I)), None)
            if col is None:
                continue
            vals = [r.get(col) for r in t["rows"] if isinstance(r, dict)]
            vals = [float(v) for v in vals if isinstance(v, (int, float))]
            if vals:
                return sorted(vals, reverse=True), f"{base}, column {col}"
    try:
        with open(stdout_path) as f:
            text = f.read()
    except OSError:
        return None, "no stdout"
    vals = []
    num = r"([-+]?\d+\.\d*(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+)"
    for line in text.splitlines():
        m = re.search(r"(?:lambda|eigenvalue|λ)[ _]*\(?\d+\)?\s*[=:]?\s*"
                      + num, line, re.I)
        if m:
            vals.append(float(m.group(1)))
    if vals:
        return sorted(vals, reverse=True), "stdout"
    return None, "eigenvalues not found in its --out tables or stdout"


def best_run(d, stem):
    """The run with the fewest seconds among DIR/STEM.json and
    DIR/STEM.N.json (successful ones first, for the implreg program), and
    the seconds of all of them."""
    paths = sorted(glob.glob(os.path.join(d, stem + ".json"))
                   + glob.glob(os.path.join(d, stem + ".*.json")))
    runs = [load_json(p) for p in paths]
    runs = [r for r in runs if isinstance(r, dict) and "seconds" in r]
    if not runs:
        return None, []
    ok = [r for r in runs if r.get("status", 0) == 0]
    best = min(ok or runs, key=lambda r: r["seconds"])
    return best, [r["seconds"] for r in runs]


def fmt_s(x):
    if x is None:
        return "-"
    return f"{x:.3e}" if x < 1e-2 else f"{x:.4f}"


def tiny_table(tc, ic, W):
    """The tiny network side by side in microseconds per call: best and
    median of the --reps loops of each side, and the ratios torch / implreg
    of both; the goal (>= 50x for the GD step and the HVP) judged on the
    medians."""
    print("-" * W)
    print("Tiny network (small: 4-32-1 tanh, n = 64, half-mse, 193 "
          "parameters), microseconds")
    print("per call, best and median of the --reps loops; ratio = torch / "
          "implreg")
    print(f"{'operation':11} {'torch best':>10} {'median':>8} "
          f"{'implreg best':>12} {'median':>8} {'ratio best':>10} "
          f"{'median':>7}  goal")
    for op, label in (("gd_step", "GD step"), ("hvp", "HVP"),
                      ("grad", "gradient"), ("hvp_full", "HVP full")):
        to = (tc or {}).get("ops", {}).get(op, {})
        io = (ic or {}).get("ops", {}).get(op, {})
        tb, ib = to.get("seconds"), io.get("seconds")
        tm = float(np.median(to["all"])) if to.get("all") else None
        im = float(np.median(io["all"])) if io.get("all") else None
        f = lambda x, w: f"{x * 1e6:{w}.2f}" if x else f"{'-':>{w}}"
        rb = f"{tb / ib:10.1f}" if tb and ib else f"{'-':>10}"
        rm = f"{tm / im:7.1f}" if tm and im else f"{'-':>7}"
        goal = GOALS.get(("small", op))
        met = ""
        if goal and op in ("gd_step", "hvp") and tm and im:
            met = f">={goal:g}x: " + ("met" if tm / im >= goal else "NOT met")
        print(f"{label:11} {f(tb, 10)} {f(tm, 8)} {f(ib, 12)} {f(im, 8)} "
              f"{rb} {rm}  {met}")
    th = (tc or {}).get("threads")
    if th is not None:
        print(f"  torch threads: {th}; implreg per OPENBLAS_NUM_THREADS "
              "(the fused kernels of mlp.h make no BLAS call for this "
              "network)")


def cmd_report(args):
    d = args.dir
    rows, missed, unmet = [], 0, []
    torch_c = {c: load_json(os.path.join(d, f"torch.{c}.json")) for c in CASES}
    impl_c = {c: load_json(os.path.join(d, f"implreg.{c}.json"))
              for c in CASES}
    # the cases this run measured (bench/hessian --cases)
    ran = [c for c in CASES if torch_c[c] is not None or impl_c[c] is not None]
    te2e, te2e_all = best_run(d, "torch.e2e")
    ce2e, ce2e_all = best_run(d, "implreg.e2e")
    cli, cli_all = best_run(d, "cli")
    W = 79
    print("=" * W)
    if not any(impl_c.values()) and not ce2e:
        print("NO implreg RESULTS (the C bench did not build or run): torch "
              "side only")
    print("Per-call seconds, best of R loops of N calls (N chosen so that a "
          "loop lasts at")
    print("least --min-time).  ratio = torch s / implreg s (> 1: implreg "
          "faster).")
    print("torch: float64, hvp = autograd.grad of the gradient (create_graph) "
          "with")
    print("grad_outputs = v, reusing the forward pass; hvp_full = forward + "
          "double")
    print("backward per call.  implreg: ir_model_loss_grad / ir_model_hvp "
          "(hvp_full: at a")
    print("θ differing by one ulp in one entry each call, so that nothing is "
          "cached).")
    print("-" * W)
    print(f"{'case':6} {'operation':11} {'torch s':>10} {'implreg s':>10} "
          f"{'ratio':>8}  {'goal':>6}  met")
    for c in ran:
        tc, ic = torch_c[c], impl_c[c]
        for op in OPS:
            ts = tc["ops"][op]["seconds"] if tc else None
            ims = (ic or {}).get("ops", {}).get(op, {}).get("seconds")
            rows.append((c, op, ts, ims, GOALS.get((c, op))))
    # End to end.
    cli_s = cli.get("seconds") if cli and cli.get("status") == 0 else None
    e2e_impl = cli_s
    if e2e_impl is None and ce2e:
        e2e_impl = ce2e.get("seconds")
    if "mnist" in ran:
        rows.append(("mnist", "end_to_end",
                     te2e.get("seconds") if te2e else None, e2e_impl,
                     GOALS[("mnist", "end_to_end")]))
    for c, op, ts, ims, goal in rows:
        ratio = ts / ims if ts and ims else None
        if goal is None:
            g, met = "(info)", ""
        else:
            strict = (c, op) in STRICT
            g = (">" if strict else ">=") + f"{goal:g}x"
            if ratio is None:
                met = "n/a"
                unmet.append(f"{c} {op}: not measured")
            else:
                ok = ratio > goal if strict else ratio >= goal
                met = "yes" if ok else "NO"
                if not ok:
                    missed += 1
        print(f"{c:6} {op:11} {fmt_s(ts):>10} {fmt_s(ims):>10} "
              f"{(f'{ratio:.2f}' if ratio else '-'):>8}  {g:>6}  {met}")
    if cli:
        if cli.get("status") == 0:
            print("  end_to_end implreg = `implreg hessian` process wall "
                  f"time ({cli['seconds']:.3f} s);")
        else:
            print(f"  `implreg hessian` failed (exit {cli.get('status')}): "
                  f"{cli.get('error', '')[:60]}")
            if ce2e:
                print("  end_to_end implreg = the C bench's library run "
                      "(ir_lanczos_eigs + ir_trace_hutchinson) instead")
    elif ce2e:
        print("  end_to_end implreg = the C bench's library run "
              "(ir_lanczos_eigs + ir_trace_hutchinson,")
        print("    from reading the files on): `implreg hessian` was not run")
    if ce2e and cli_s is not None:
        print(f"  (the same work through the library in bench_hessian: "
              f"{ce2e['seconds']:.3f} s)")
    if te2e:
        print(f"  end_to_end torch = in-script time after the imports "
              f"({te2e['seconds']:.3f} s; with the imports of torch/scipy "
              f"{te2e['seconds_with_imports']:.3f} s)")
    for name, a in (("torch", te2e_all), ("implreg lib", ce2e_all),
                    ("implreg hessian", cli_all)):
        if len(a) > 1:
            print(f"  all end-to-end runs, {name}: "
                  + ", ".join(f"{x:.3f}" for x in a) + " s")

    for c in ran:
        tc, ic = torch_c[c], impl_c[c]
        if not (tc and ic):
            continue
        msg = [f"loss {abs(ic['loss'] - tc['loss']) / abs(tc['loss']):.1e}"]
        for what in ("grad", "hv"):
            try:
                a = np.load(os.path.join(d, f"{c}.{what}.torch.npy"))
                b = np.load(os.path.join(d, f"{c}.{what}.implreg.npy"))
                rel = np.linalg.norm(b.ravel() - a.ravel()) / np.linalg.norm(a)
                msg.append(f"{'gradient' if what == 'grad' else 'H v'} "
                           f"{rel:.1e}")
            except (OSError, ValueError):
                msg.append(f"{what}: no vector")
        print(f"  {c}: implreg vs torch at θ, relative difference: "
              + ", ".join(msg))

    # GFLOP/s per kernel.
    print("-" * W)
    print("GFLOP/s per kernel: flops per call from the layer sizes "
          "(formulas in")
    print("flop_count, bench_hessian.py), the same for both sides")
    print(f"{'case':6} {'operation':11} {'MFLOP/call':>11} {'torch':>9} "
          f"{'implreg':>9}")
    for c in ran:
        tc, ic = torch_c[c], impl_c[c]
        widths, _, _, m = CASES[c]
        fl = flop_count(widths, m)
        for op in OPS:
            f = fl[op]
            ts = tc["ops"][op]["seconds"] if tc else None
            io = (ic or {}).get("ops", {}).get(op, {})
            tg = f"{f / ts / 1e9:.2f}" if ts else "-"
            ig = f"{f / io['seconds'] / 1e9:.2f}" if io.get("seconds") else "-"
            print(f"{c:6} {op:11} {f / 1e6:11.3f} {tg:>9} {ig:>9}")
    dg = (impl_c.get("mnist") or {}).get("dgemm_gflops")
    if dg:
        print(f"machine dgemm rate (2000x2000x2000, same OpenBLAS, same "
              f"threads): {dg:.2f} GFLOP/s; goal for the mnist kernels: "
              f">= 70% of it")
        io = (impl_c.get("mnist") or {}).get("ops", {})
        fl = flop_count(CASES["mnist"][0], CASES["mnist"][3])
        for op in OPS:
            sec = io.get(op, {}).get("seconds")
            if sec:
                pct = 100 * fl[op] / sec / 1e9 / dg
                print(f"  implreg mnist {op:9} {pct:5.0f}% of dgemm "
                      f"{'(goal met)' if pct >= 70 else '(below 70%)'}")

    if "small" in ran:
        tiny_table(torch_c["small"], impl_c["small"], W)

    # HVP counts, small case.
    if "small" not in ran:
        tc = ic = None
    else:
        tc, ic = torch_c["small"], impl_c["small"]
    print("-" * W)
    print("HVPs to reach lambda_max, small case (193 parameters): power "
          "iteration with the")
    print(f"residual rule ||Hv - lv|| <= {POWER_TOL:g}|l| vs Lanczos "
          f"(relative residual <= {LANCZOS1_TOL:g})")
    ref = None
    if tc and "counts" in tc:
        k = tc["counts"]
        ref = k["dense"]["top5"][0]
        print(f"  dense Hessian (torch, {tc['p']} HVPs, asymmetry "
              f"{k['dense']['asymmetry']:.1e}): lambda_max {ref:.12g}, "
              f"lambda_2 {k['dense']['top5'][1]:.6g},")
        print(f"    lambda_min {k['dense']['lambda_min']:.6g}, |l2/l1| "
              f"{k['dense']['ratio_l2_l1']:.4f}, trace "
              f"{k['dense']['trace']:.6g}")
    print(f"  {'method':44} {'HVPs':>6} {'lambda':>18} {'rel err':>8}")

    def cnt(name, hv, lam):
        err = f"{abs(lam - ref) / abs(ref):.1e}" if ref and lam is not None \
            else "-"
        ls = f"{lam:.12g}" if lam is not None else "-"
        print(f"  {name:44} {hv if hv is not None else '-':>6} {ls:>18} "
              f"{err:>8}")

    if tc and "counts" in tc:
        k = tc["counts"]
        cnt("torch power iteration (residual rule)", k["power"]["hvps"],
            k["power"]["lambda"])
        cnt("numpy power iteration on the dense H", k["power_dense_numpy"][
            "hvps"], k["power_dense_numpy"]["lambda"])
        cnt("torch power iteration, PyHessian rule", k["power_pyhessian"][
            "hvps"], k["power_pyhessian"]["lambda"])
        cnt("scipy eigsh k=1 (ARPACK, ncv 20)", k["lanczos"]["hvps"],
            k["lanczos"]["lambda"])
        cnt("numpy Lanczos, full reorth. (incl. residual)",
            k["lanczos_plain"]["hvps"], k["lanczos_plain"]["lambda"])
    if ic and "counts" in ic:
        k = ic["counts"]
        for key, name in (("power", "implreg ir_power_iteration (residual)"),
                          ("power_pyhessian", "implreg ir_power_iteration "
                           "(PyHessian)"),
                          ("lanczos", "implreg ir_lanczos_eigs k=1 "
                           "(incl. res.)")):
            if key in k:
                cnt(name, k[key].get("hvps"), k[key].get("lambda"))
    elif ic is None:
        print("  (implreg counts: no C results)")

    # End-to-end eigenvalues.
    if "mnist" not in ran:
        te2e = ce2e = cli = None
    print("-" * W)
    print("End to end, mnist (784-64-10 relu, CE, n = 1000, 50,890 parameters,"
          " θ at init):")
    print("top-5 eigenvalues, explicit residuals and the Hutchinson trace")
    lists = []
    if te2e:
        lists.append(("torch+scipy", te2e["eigenvalues"], te2e))
    if cli and cli.get("status") == 0:
        res, where = cli_results(cli.get("out", ""), cli.get("stdout", ""))
        if res is not None:
            res["seconds"] = cli["seconds"]
            lists.append(("implreg CLI", res["eigenvalues"][:5], res))
        else:
            print(f"  implreg hessian: {where}")
    if ce2e:
        lists.append(("implreg lib", ce2e.get("eigenvalues", []), ce2e))
    for name, vals, o in lists:
        print(f"  {name:12} " + " ".join(f"{v:.10g}" for v in vals))
        if "residuals" in o:
            print(f"  {'':12} residuals " + " ".join(
                f"{r:.1e}" for r in o["residuals"]))
        if "trace" in o:
            print(f"  {'':12} trace {o['trace']:.6g} +- {o['trace_se']:.2g} "
                  f"({o.get('probes')} probes); loss {o.get('loss', 0):.10g}, "
                  f"|grad| {o.get('grad_norm', 0):.6g}; "
                  f"{o.get('hvps', '-')} HVPs"
                  + (f" + {o['quad_forms']} quadratic forms"
                     if o.get("quad_forms") else "")
                  + f"; {o.get('seconds', 0):.3f} s")
    agree_fail = 0
    if te2e:
        t = np.array(te2e["eigenvalues"])
        for name, vals, _ in lists[1:]:
            v = np.array(vals[:len(t)])
            if len(v) != len(t):
                print(f"  {name}: {len(v)} eigenvalues, torch {len(t)}")
                agree_fail += 1
                continue
            rel = float(np.max(np.abs(v - t) / np.abs(t)))
            ok = rel <= EIG_AGREE
            agree_fail += not ok
            print(f"  {name} vs torch+scipy: max relative difference "
                  f"{rel:.1e} ({'<=' if ok else '>'} {EIG_AGREE:g}) "
                  f"{'ok' if ok else 'DISAGREE'}")
        for name, _, o in lists[1:]:
            if "trace" in o and "trace_se" in o:
                z = abs(o["trace"] - te2e["trace"]) / math.hypot(
                    o["trace_se"], te2e["trace_se"])
                print(f"  trace, {name} vs torch+scipy: {z:.1f} combined "
                      "standard errors apart (different probes)")
    print("=" * W)
    if unmet:
        print("not measured: " + "; ".join(unmet))
    print(f"{missed} goal(s) missed" if missed else
          ("all goals met" if not unmet else "no goal missed among those "
           "measured"))
    if agree_fail:
        print(f"{agree_fail} eigenvalue list(s) disagree with torch+scipy")


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("info")
    s.add_argument("--threads", type=int, default=0)
    s = sub.add_parser("gen")
    s.add_argument("dir")
    s.add_argument("--fashion", default=FASHION)
    s = sub.add_parser("time")
    s.add_argument("dir")
    s.add_argument("case", choices=sorted(CASES))
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--reps", type=int, default=3)
    s.add_argument("--min-time", type=float, default=0.3,
                   help="seconds one timed loop lasts at least (default 0.3)")
    s = sub.add_parser("e2e")
    s.add_argument("dir")
    s.add_argument("--case", default="mnist", choices=sorted(CASES))
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--top", type=int, default=5)
    s.add_argument("--probes", type=int, default=100)
    s.add_argument("--tol", type=float, default=E2E_TOL)
    s = sub.add_parser("report")
    s.add_argument("dir")
    args = ap.parse_args()
    for k, least in (("threads", 0), ("reps", 1), ("top", 1), ("probes", 2),
                     ("min_time", 0.0), ("tol", 0.0)):
        if hasattr(args, k) and not getattr(args, k) >= least:
            ap.error(f"--{k.replace('_', '-')} must be >= {least}")
    {"info": cmd_info, "gen": cmd_gen, "time": cmd_time, "e2e": cmd_e2e,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
