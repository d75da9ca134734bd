#!/usr/bin/python3
"""SciPy + PyTorch side of bench/igr: inputs, the reference integration, the
table.

Subcommands (bench/igr calls them in this order):
  info                      torch, NumPy and SciPy versions, the OpenBLAS
                            build and core torch runs on, torch's threads
  gen DIR                   the inputs, written as .npy: DIR/times.npy (the
                            K grid times t_j = j*h), DIR/CASE.theta.npy (p,),
                            CASE.X.npy (n, d), CASE.Y.npy (n, K) float64
  run DIR CASE              per-call times of torch's vector field; one timed
                            integration of the modified flow with
                            scipy.integrate.solve_ivp(DOP853) and that
                            field, and one with max_step = h (information);
                            with --count also DOP853's step count (an
                            untimed pass)
  report DIR                the tables, from DIR/torch.CASE.R.json,
                            DIR/implreg.CASE.R.json and the solutions (does
                            not need torch)

run prints one JSON object on stdout (the driver keeps it as
DIR/torch.CASE.R.json) and writes θ(t_j) as DIR/CASE.scipy.npy (K, p).  The
C side (bench_igr.c) reads the same .npy files, prints its own JSON
(DIR/implreg.CASE.R.json) and writes DIR/CASE.implreg.npy and
DIR/CASE.tight.npy (its solution at rtol/100, the reference of the accuracy
columns).

The flow: θ' = -(∇E + 2λ ∇²E ∇E), λ = h/4 (Barrett & Dherin's modified flow
of gradient descent with step h), from θ₀ over [0, K h], outputs at t_j = j h.
Both sides: relative tolerance --rtol, absolute tolerance
rtol * max(||θ₀||∞, 1) (implreg's default atol), full batch.

The cases (fixed seed, torch's default nn.Linear initialization, float64):
  teacher  4-32-1 tanh, n = 64, x ~ N(0, I4), y = sin(2 x1) cos(x2)
           + 0.5 x3 x4, L = (1/(2n)) sum_i (f_i - y_i)^2 (implreg's
           half-mse, IR_LOSS_HALF_SSE), 193 parameters
  fashion  784-16-10 tanh, the first 500 Fashion-MNIST training images,
           pixels / 255, one-hot targets, torch.nn.MSELoss() (IR_LOSS_MSE),
           12,730 parameters
"""
import argparse
import glob
import math
import os
import sys
import time

import numpy as np

# bench_double_descent.py is next to this file (sys.path[0]): reuse its
# Fashion-MNIST reader (gzip'd IDX).
from bench_double_descent import read_idx  # noqa: E402
# The helpers it shares with bench_hessian.py (same directory).
from bench_hessian import (cmd_info, emit, flat_params, load_json,  # noqa: E402
                           make_net, note, nparams)

PROG = "bench_igr.py"
SEED = 20241205  # fixed, so every run times the same inputs
FASHION = "/usr/share/datasets/fashion-mnist"
CASES = {
    # name: (widths, activation, loss, samples)
    "teacher": ((4, 32, 1), "tanh", "half-mse", 64),
    "fashion": ((784, 16, 10), "tanh", "mse", 500),
}
GOAL = 10.0       # whole integration: scipy+torch seconds / implreg seconds
AGREE_TOL = 1e-8  # max |θ_implreg - θ_scipy| / max ||θ||∞ over the grid


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(1)


def import_torch(threads):
    try:
        import torch
    except ImportError as e:
        die(f"cannot import torch ({e}): apt-get install python3-torch")
    torch.set_default_dtype(torch.float64)
    if threads:
        torch.set_num_threads(threads)
    return torch


def field_flops(widths, m):
    """Flops of one field evaluation on m samples (bench_hessian.py's
    flop_count, F_l = in_l * out_l): gradient 4m sum F_l + 2m sum_{l>=2} F_l,
    HVP reusing the forward pass 4m F_1 + 12m sum_{l>=2} F_l."""
    F = [a * b for a, b in zip(widths[:-1], widths[1:])]
    inner = sum(F[1:])
    return (4.0 * m * sum(F) + 2.0 * m * inner) + (4.0 * m * F[0]
                                                   + 12.0 * m * inner)


# ---- info ---------------------------------------------------------------


# ---- gen ----------------------------------------------------------------


def cmd_gen(args):
    torch = import_torch(1)
    os.makedirs(args.dir, exist_ok=True)
    out = {}
    # teacher: x ~ N(0, I4), then the default initialization, both from
    # torch's generator seeded with SEED.
    widths, act, _, n = CASES["teacher"]
    torch.manual_seed(SEED)
    X = torch.randn(n, widths[0])
    Y = (torch.sin(2 * X[:, 0]) * torch.cos(X[:, 1])
         + 0.5 * X[:, 2] * X[:, 3]).reshape(n, 1)
    net = make_net(torch, widths, act)
    out["teacher"] = (flat_params(net).numpy(), X.numpy(), Y.numpy())
    # fashion: the first n training images, pixels / 255, one-hot targets;
    # the default initialization from torch's generator seeded with SEED + 1.
    widths, act, _, n = CASES["fashion"]
    try:
        Xf = read_idx(os.path.join(args.fashion,
                                   "train-images-idx3-ubyte.gz"), n)
        yf = read_idx(os.path.join(args.fashion,
                                   "train-labels-idx1-ubyte.gz"), n)
    except OSError as e:
        die(f"{e} (apt-get install dataset-fashion-mnist)")
    Xf = Xf.astype(np.float64) / 255.0
    yf = yf[:, 0].astype(np.int64)
    torch.manual_seed(SEED + 1)
    net = make_net(torch, widths, act)
    out["fashion"] = (flat_params(net).numpy(), Xf,
                      np.eye(widths[-1])[yf])
    for case, (theta, X, Y) in out.items():
        assert theta.size == nparams(CASES[case][0])
        for name, a in (("theta", theta), ("X", X), ("Y", Y)):
            np.save(os.path.join(args.dir, f"{case}.{name}.npy"),
                    np.ascontiguousarray(a, dtype=np.float64))
    times = args.h * np.arange(1, args.steps + 1, dtype=np.float64)
    np.save(os.path.join(args.dir, "times.npy"), times)
    print(f"# inputs (seed {SEED}, torch {torch.__version__} default "
          "nn.Linear initialization, no training):")
    for case, (theta, X, Y) in out.items():
        widths, act, loss, _ = CASES[case]
        print(f"#   {case}: {'-'.join(map(str, widths))} {act}, loss {loss}, "
              f"n = {X.shape[0]}, p = {theta.size}, ||theta0||inf = "
              f"{np.max(np.abs(theta)):.6g}")
    print(f"#   fashion: the first {out['fashion'][1].shape[0]} images of "
          f"{args.fashion} (train), pixels / 255; labels "
          f"{np.bincount(yf, minlength=10).tolist()}")
    print(f"#   grid: t_j = j*h, h = {args.h:g}, j = 1..{args.steps} "
          f"(T = {times[-1]:g}); lambda = h/4 = {args.h / 4:g}")


# ---- the vector field ------------------------------------------------------

class Problem:
    """A case's network (the nn.Sequential), data and loss, and the modified
    flow's vector field as a practitioner writes it for solve_ivp: θ copied
    into the module's parameters, the gradient by autograd with
    create_graph=True, the HVP H g by a second autograd.grad (double
    backprop)."""

    def __init__(self, torch, d, case, lam):
        self.torch = torch
        self.case = case
        self.lam = lam
        self.widths, self.act, self.lossname, _ = CASES[case]

        def ld(k):
            path = os.path.join(d, f"{case}.{k}.npy")
            try:
                return np.load(path)
            except (OSError, ValueError) as e:
                die(f"{path}: {e} (write the inputs with `{PROG} gen DIR`)")
        self.theta0 = ld("theta").astype(np.float64).reshape(-1)
        self.X = torch.from_numpy(ld("X").astype(np.float64))
        self.Y = torch.from_numpy(ld("Y").astype(np.float64))
        n = self.X.shape[0]
        if self.lossname == "mse":
            mse = torch.nn.MSELoss()
            self.lossfn = lambda f: mse(f, self.Y)
        else:
            self.lossfn = lambda f: 0.5 * ((f - self.Y) ** 2).sum() / n
        self.net = make_net(torch, self.widths, self.act)
        self.params = list(self.net.parameters())
        self.p = sum(q.numel() for q in self.params)
        self.n = n
        if self.theta0.size != self.p:
            die(f"{case}.theta.npy has {self.theta0.size} entries, the network "
                f"{self.p}")
        self.nfev = 0

    def field(self, t, y):
        """f(θ) = -(∇E + 2λ H ∇E), the function handed to solve_ivp."""
        torch = self.torch
        self.nfev += 1
        torch.nn.utils.vector_to_parameters(torch.from_numpy(y), self.params)
        L = self.lossfn(self.net(self.X))
        g = torch.autograd.grad(L, self.params, create_graph=True)
        hg = torch.autograd.grad(g, self.params,
                                 grad_outputs=[gi.detach() for gi in g])
        f = torch.cat([gi.detach().reshape(-1) for gi in g])
        f.add_(torch.cat([x.reshape(-1) for x in hg]), alpha=2 * self.lam)
        return f.neg_().numpy()

    def grad_only(self, y):
        """The loss gradient alone (no create_graph), for the breakdown."""
        torch = self.torch
        torch.nn.utils.vector_to_parameters(torch.from_numpy(y), self.params)
        L = self.lossfn(self.net(self.X))
        g = torch.autograd.grad(L, self.params)
        return torch.cat([gi.reshape(-1) for gi in g]).numpy()

    def field_one_backward(self, y):
        """For information: the same field as the gradient of the modified
        loss E + λ||∇E||², one backward pass through the double graph."""
        torch = self.torch
        torch.nn.utils.vector_to_parameters(torch.from_numpy(y), self.params)
        L = self.lossfn(self.net(self.X))
        g = torch.autograd.grad(L, self.params, create_graph=True)
        R = L + self.lam * sum((gi * gi).sum() for gi in g)
        f = torch.autograd.grad(R, self.params)
        return torch.cat([x.reshape(-1) for x in f]).neg_().numpy()

    def field_functional(self, y):
        """For information: θ as one leaf tensor, the parameters as views of
        it (torch.func.functional_call; torch.nn.utils.stateless in torch
        1.13), gradients with respect to θ directly."""
        torch = self.torch
        th = torch.from_numpy(y).requires_grad_(True)
        names = [k for k, _ in self.net.named_parameters()]
        views = {k: c.view_as(q) for k, c, q in
                 zip(names, torch.split(th, [q.numel() for q in self.params]),
                     self.params)}
        L = self.lossfn(functional_call()(self.net, views, (self.X,)))
        (g,) = torch.autograd.grad(L, th, create_graph=True)
        (hg,) = torch.autograd.grad(g, th, grad_outputs=g.detach())
        return (-(g.detach() + 2 * self.lam * hg)).numpy()


def functional_call():
    try:
        from torch.func import functional_call as fc
    except ImportError:
        from torch.nn.utils.stateless import functional_call as fc
    return fc


def time_loop(fn, ys, min_time):
    """One loop of N calls lasting at least min_time seconds (N doubled from
    1 after a warm-up call), alternating the arguments ys; per-call wall and
    CPU seconds of that loop."""
    fn(ys[0])
    calls = 1
    while True:
        c0 = time.process_time()
        t0 = time.perf_counter()
        for i in range(calls):
            fn(ys[i & 1])
        el = time.perf_counter() - t0
        cpu = time.process_time() - c0
        if el >= min_time or calls >= 1 << 22:
            return {"seconds": el / calls, "cpu_seconds": cpu / calls,
                    "calls": calls}
        calls = max(2 * calls, int(math.ceil(calls * 1.2 * min_time
                                             / max(el, 1e-9))))


# ---- run --------------------------------------------------------------------

def cmd_run(args):
    torch = import_torch(args.threads)
    from scipy.integrate import DOP853, solve_ivp
    lam = args.h / 4
    pb = Problem(torch, args.dir, args.case, lam)
    times = np.load(os.path.join(args.dir, "times.npy")).reshape(-1)
    th0 = pb.theta0.copy()
    atol = args.rtol * max(float(np.max(np.abs(th0))), 1.0)
    T = float(times[-1])
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.from_numpy(th0), pb.params)
        loss0 = float(pb.lossfn(pb.net(pb.X)))
    note(f"torch {args.case}: p = {pb.p}, n = {pb.n}, "
         f"{torch.get_num_threads()} threads, DOP853 rtol {args.rtol:g} "
         f"atol {atol:g}, T = {T:g}, {times.size} outputs")
    out = {"side": "torch", "case": args.case,
           "threads": torch.get_num_threads(), "p": pb.p, "n": pb.n,
           "K": int(times.size), "h": args.h, "lambda": lam,
           "rtol": args.rtol, "atol": atol,
           "theta0_inf": float(np.max(np.abs(th0))), "loss0": loss0,
           "method": "scipy.integrate.solve_ivp(method='DOP853', "
                     "t_eval=grid)"}
    # Per-call times first: they also warm the process up (as on the C
    # side), at θ₀ and a second point in turn.
    th1 = th0 + 1e-3 * pb.field(0.0, th0)
    ys = [th0, th1]
    fn = pb.field
    out["field"] = time_loop(lambda y: fn(0.0, y), ys, args.min_time)
    out["grad"] = time_loop(pb.grad_only, ys, args.min_time)
    out["field_one_backward"] = time_loop(pb.field_one_backward, ys,
                                          args.min_time)
    out["field_functional"] = time_loop(pb.field_functional, ys,
                                        args.min_time)
    f0 = fn(0.0, th0)
    out["field_variants_maxdiff"] = max(
        float(np.max(np.abs(pb.field_one_backward(th0) - f0))),
        float(np.max(np.abs(pb.field_functional(th0) - f0))))
    # The timed integration.
    pb.nfev = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    sol = solve_ivp(pb.field, (0.0, T), th0, method="DOP853",
                    rtol=args.rtol, atol=atol, t_eval=times)
    el = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if sol.status != 0:
        die(f"solve_ivp failed on {args.case}: {sol.message}")
    np.save(os.path.join(args.dir, f"{args.case}.scipy.npy"),
            np.ascontiguousarray(sol.y.T))
    out["flow"] = {"seconds": el, "cpu_seconds": cpu, "nfev": int(sol.nfev),
                   "nfev_counted": pb.nfev}
    note(f"torch {args.case}: solve_ivp {el:.3f} s, {sol.nfev} evaluations")
    # For information, timed: solve_ivp with max_step = h, steps no longer
    # than the grid spacing, as implreg's exact landings impose.
    c0 = time.process_time()
    t0 = time.perf_counter()
    s2 = solve_ivp(pb.field, (0.0, T), th0, method="DOP853", rtol=args.rtol,
                   atol=atol, t_eval=times, max_step=args.h)
    el2 = time.perf_counter() - t0
    out["flow_maxstep"] = {"seconds": el2,
                           "cpu_seconds": time.process_time() - c0,
                           "nfev": int(s2.nfev), "status": s2.status}
    np.save(os.path.join(args.dir, f"{args.case}.scipy_maxstep.npy"),
            np.ascontiguousarray(s2.y.T))
    if args.count:
        # Untimed: the same integration stepped by hand with the solver
        # class solve_ivp uses: its accepted steps, and its evaluations
        # without the dense output solve_ivp builds for t_eval (DOP853: 2 to
        # start, 12 per step attempt, 3 per dense output).
        s = DOP853(pb.field, 0.0, th0, T, rtol=args.rtol, atol=atol)
        steps = 0
        while s.status == "running":
            s.step()
            steps += 1
        if s.status != "finished":
            die(f"DOP853 step loop failed on {args.case}")
        out["flow"]["nsteps"] = steps
        out["flow"]["nfev_steps"] = int(s.nfev)
        out["flow"]["nfev_dense"] = int(sol.nfev) - int(s.nfev)
        out["flow"]["nrejected"] = (int(s.nfev) - 2) // 12 - steps
    emit(out)


# ---- report ----------------------------------------------------------------


def runs(d, side, case):
    paths = sorted(glob.glob(os.path.join(d, f"{side}.{case}.*.json")))
    return [r for r in (load_json(p) for p in paths) if isinstance(r, dict)]


def best(rs, *keys):
    """The smallest value of r[k0][k1]... over the runs rs (None if none)."""
    vals = []
    for r in rs:
        v = r
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            vals.append(v)
    return min(vals) if vals else None


def first(rs, *keys):
    for r in rs:
        v = r
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None:
            return v
    return None


def fmt_t(x):
    if x is None:
        return "-"
    if x < 0:
        return "-" + fmt_t(-x)
    if x < 1e-3:
        return f"{x * 1e6:.1f} us"
    if x < 1:
        return f"{x * 1e3:.2f} ms"
    return f"{x:.3f} s"


def ratio(a, b):
    return a / b if a and b else None


def fr(x, w=7):
    return f"{x:{w}.2f}" if x is not None else f"{'-':>{w}}"


def load_sol(d, case, what):
    try:
        return np.load(os.path.join(d, f"{case}.{what}.npy"))
    except (OSError, ValueError):
        return None


def cmd_report(args):
    d = args.dir
    W = 79
    missed, unmeasured, disagree = 0, [], 0
    T = {c: runs(d, "torch", c) for c in CASES}
    C = {c: runs(d, "implreg", c) for c in CASES}
    print("=" * W)
    any_c = any(C.values())
    if not any_c:
        print("NO implreg RESULTS (the C bench did not build or run): torch "
              "side only")
    k0 = next((r for c in CASES for r in T[c] + C[c]), {})
    print(f"Modified flow theta' = -(grad E + 2 lambda H grad E), lambda "
          f"= h/4 = {k0.get('lambda', 0):g},")
    print(f"from theta0 over [0, {k0.get('K', 0)} h], outputs at t_j = j h "
          f"(h = {k0.get('h', 0):g}), rtol {k0.get('rtol', 0):g},")
    print("atol = rtol*max(|theta0|inf, 1), the same on both sides.")
    print("scipy+torch: solve_ivp(DOP853, t_eval = grid), the field by torch "
          "autograd")
    print("(gradient with create_graph, HVP by a second autograd.grad); "
          "implreg:")
    print("ir_flow_solve (rk8pd, global_error 0).  Best of the alternating "
          "runs;")
    print("ratio = scipy+torch seconds / implreg seconds.")
    print("-" * W)
    print(f"{'case':8} {'p':>6} {'scipy+torch':>12} {'implreg':>10} "
          f"{'ratio':>7} {'cpu ratio':>9}  {'goal':>6}  met")
    for c in CASES:
        ts, cs = best(T[c], "flow", "seconds"), best(C[c], "flow", "seconds")
        tcpu = best(T[c], "flow", "cpu_seconds")
        ccpu = best(C[c], "flow", "cpu_seconds")
        r = ratio(ts, cs)
        if r is None:
            met = "n/a"
            unmeasured.append(c)
        else:
            met = "yes" if r >= GOAL else "NO"
            missed += r < GOAL
        p = first(T[c] + C[c], "p")
        print(f"{c:8} {p if p else '-':>6} {fmt_t(ts):>12} {fmt_t(cs):>10} "
              f"{fr(r)} {fr(ratio(tcpu, ccpu), 9)}  {'>=' + f'{GOAL:g}x':>6}"
              f"  {met}")
    print("-" * W)
    print("Evaluations of the field (one gradient + one HVP each) and steps."
          "  scipy: steps")
    print("from an untimed DOP853 step loop (2 evaluations to start, 12 per "
          "step attempt),")
    print("dense = the 3 per step solve_ivp adds for t_eval.  implreg: 2 to "
          "start, 13 per")
    print("rk8pd step attempt; each output time ends a step (GSL lands on it "
          "exactly).")
    print(f"{'case':8} {'side':8} {'evals':>7} {'steps':>6} {'rejected':>8} "
          f"{'dense':>6} {'evals/step':>10}")

    def row(c, side, fl, extra=""):
        st = fl.get("nsteps")
        ev = fl.get("nfev")
        print(f"{c:8} {side:8} {ev if ev else '-':>7} {st if st else '-':>6} "
              f"{fl.get('nrejected', '-'):>8} {fl.get('nfev_dense', '-'):>6} "
              f"{(f'{ev / st:.2f}' if ev and st else '-'):>10}{extra}")
    for c in CASES:
        tr = (T[c] or [{}])[0].get("flow")
        cr = (C[c] or [{}])[0].get("flow")
        if tr:
            row(c, "scipy", tr)
        if cr:
            row("" if tr else c, "implreg", cr)
        lo = (C[c] or [{}])[0].get("flow_last_only")
        if lo:
            row("", "implreg", lo, "  T only (info)")
        ms = (T[c] or [{}])[0].get("flow_maxstep")
        if ms:
            row("", "scipy", ms, "  max_step=h (info)")
    print("-" * W)
    print("Per evaluation (best of the runs; loops of N calls at two points "
          "in turn).")
    print("field: what the integrator calls; torch = the function given to "
          "solve_ivp,")
    print("numpy <-> torch included; implreg = ir_flow_field.  grad: the "
          "loss gradient")
    print("alone.")
    print(f"{'case':8} {'operation':26} {'torch':>10} {'implreg':>10} "
          f"{'ratio':>7}")
    for c in CASES:
        for key, name in (("field", "field (gradient + HVP)"),
                          ("grad", "gradient alone")):
            ts, cs = best(T[c], key, "seconds"), best(C[c], key, "seconds")
            print(f"{c:8} {name:26} {fmt_t(ts):>10} {fmt_t(cs):>10} "
                  f"{fr(ratio(ts, cs))}")
        fs, gs = best(T[c], "field", "seconds"), best(T[c], "grad", "seconds")
        fc, gc = best(C[c], "field", "seconds"), best(C[c], "grad", "seconds")
        hs = fs - gs if fs and gs else None
        hc = fc - gc if fc and gc else None
        print(f"{'':8} {'HVP part (field - grad)':26} {fmt_t(hs):>10} "
              f"{fmt_t(hc):>10} {fr(ratio(hs, hc))}")
        fl = field_flops(CASES[c][0], CASES[c][3])
        print(f"{'':8} {'field GFLOP/s':26} "
              f"{(f'{fl / fs / 1e9:.2f}' if fs else '-'):>10} "
              f"{(f'{fl / fc / 1e9:.2f}' if fc else '-'):>10}   "
              f"({fl / 1e6:.3g} MFLOP/eval)")
        dq, dfd = first(C[c], "dgemm_gflops"), first(C[c], "dgemm_field_gflops")
        if dq and dfd:
            w = CASES[c][0]
            print(f"{'':8} (dgemm, same OpenBLAS: 2000^3 {dq:.1f} GFLOP/s; "
                  f"{CASES[c][3]}x{w[0]}x{w[1]}, the shape")
            print(f"{'':8}  of the field's four big products, "
                  f"{dfd:.1f} GFLOP/s)")
        for key, name in (("field_one_backward", "(info) grad of E+lam|g|^2"),
                          ("field_functional", "(info) functional_call")):
            ts = best(T[c], key, "seconds")
            if ts:
                print(f"{'':8} {name:26} {fmt_t(ts):>10} {'':>10} "
                      f"{fr(ratio(ts, fc))}")
        md = first(T[c], "field_variants_maxdiff")
        if md is not None:
            print(f"{'':8} (the torch variants agree to {md:.1e} absolute)")

    print("-" * W)
    print("Where the time goes: evals x per-evaluation time (from the loops "
          "above), and")
    print("the rest (the integrator: SciPy's step logic in Python, dense "
          "output; GSL's")
    print("stage sums; and noise: a negative rest means the loop ran slower "
          "than the")
    print("integration).  ratio line: each factor as scipy / implreg.")
    print(f"{'case':8} {'side':8} {'integration':>12} {'evals x t_eval':>15} "
          f"{'share':>6} {'rest':>10} {'rest/step':>10}")
    for c in CASES:
        for side, rs, nm in (("scipy", T[c], c), ("implreg", C[c], "")):
            if not rs:
                continue
            fl = rs[0].get("flow", {})
            tot = best(rs, "flow", "seconds")
            te = best(rs, "field", "seconds")
            if tot is None or te is None:
                continue
            ev = fl.get("nfev", 0) * te
            st = fl.get("nsteps")
            rest = tot - ev
            print(f"{nm:8} {side:8} {fmt_t(tot):>12} {fmt_t(ev):>15} "
                  f"{100 * ev / tot:5.0f}% {fmt_t(rest):>10} "
                  f"{fmt_t(rest / st) if st else '-':>10}")
        ts, cs = best(T[c], "flow", "seconds"), best(C[c], "flow", "seconds")
        tf, cf = best(T[c], "field", "seconds"), best(C[c], "field", "seconds")
        nt = first(T[c], "flow", "nfev")
        nc = first(C[c], "flow", "nfev")
        if ts and cs and tf and cf and nt and nc:
            print(f"{'':8} ratio {ts / cs:.2f} = per evaluation "
                  f"{tf / cf:.2f} x evaluations {nt / nc:.2f} x rest "
                  f"{ts / cs / (tf / cf) / (nt / nc):.2f}")

    print("-" * W)
    print("Agreement: max_j |theta_a(t_j) - theta_b(t_j)|inf / max_j "
          "|theta(t_j)|inf over")
    print("the grid (theta: scipy's solution).")
    print("tight = implreg's solution at rtol/100, atol/100 (global_error 1): "
          "the")
    print("reference for each side's own error.  est = implreg's "
          "global-error estimate")
    print("max_j err_j (2-norm, from the loose-tight difference), relative.  "
          "Goal for")
    print(f"implreg-scipy: <= {AGREE_TOL:g}.")
    print(f"{'case':8} {'implreg-scipy':>14} {'implreg-tight':>14} "
          f"{'scipy-tight':>12} {'est':>9}  ok")
    extra = []
    for c in CASES:
        a, b, t = (load_sol(d, c, w) for w in ("implreg", "scipy", "tight"))
        if a is None or b is None:
            print(f"{c:8} {'(missing)':>14}")
            continue
        if a.shape != b.shape:
            print(f"{c:8} shapes differ: {a.shape} vs {b.shape}")
            disagree += 1
            continue
        scale = float(np.max(np.abs(b)))
        ab = float(np.max(np.abs(a - b))) / scale
        at = float(np.max(np.abs(a - t))) / scale if t is not None else None
        bt = float(np.max(np.abs(b - t))) / scale if t is not None else None
        em = first(C[c], "flow_global_error", "err_max")
        ok = ab <= AGREE_TOL
        disagree += not ok
        print(f"{c:8} {ab:14.1e} "
              f"{(f'{at:.1e}' if at is not None else '-'):>14} "
              f"{(f'{bt:.1e}' if bt is not None else '-'):>12} "
              f"{(f'{em / scale:.1e}' if em is not None else '-'):>9}  "
              f"{'yes' if ok else 'NO'}")
        if t is not None and np.array_equal(a, t):
            extra.append(f"  {c}: implreg's rtol and rtol/100 runs are "
                         "bitwise equal at every grid")
            extra.append(f"  {' ' * len(c)}  time (the grid, not the "
                         "tolerance, sets their steps): 'tight' is no")
            extra.append(f"  {' ' * len(c)}  independent check there; "
                         "scipy with max_step = h (below) is one")
        if t is not None:
            e = np.max(np.abs(b - t), axis=1) / scale
            j = int(np.argmax(e))
            extra.append(f"  {c}: scipy's error by grid time: median "
                         f"{np.median(e):.1e}, worst {e[j]:.1e} at t_{j + 1}")
            m = load_sol(d, c, "scipy_maxstep")
            if m is not None and m.shape == t.shape:
                ms = (T[c] or [{}])[0].get("flow_maxstep", {})
                extra.append(f"  {c}: scipy with max_step = h (info): "
                             f"{float(np.max(np.abs(m - t))) / scale:.1e} "
                             f"from tight, {ms.get('nfev', '-')} evaluations")
    for line in extra:
        print(line)
    for c in CASES:
        tl, cl = first(T[c], "loss0"), first(C[c], "loss0")
        idx = first(C[c], "idx_max_diff")
        msg = ""
        if tl is not None and cl is not None:
            msg = f"loss at theta0 {tl:.10g} (torch), relative difference " \
                  f"{abs(tl - cl) / abs(tl):.1e}"
        if idx is not None:
            msg += f";\n  {' ' * len(c)}  X against ir_data_read_idx / 255: " \
                   f"max difference {idx:.1e}"
        ta, ca = first(T[c], "atol"), first(C[c], "atol")
        if ta is not None and ca is not None and ta != ca:
            msg += f"; atol DIFFERS ({ta:g} vs {ca:g})"
        if msg:
            print(f"  {c}: {msg}")

    print("-" * W)
    print("For information: implreg with global_error = 1 (a second "
          "integration at")
    print("rtol/100); scipy with max_step = h, which takes steps like "
          "implreg's and")
    print("reaches its accuracy.")
    print(f"{'case':8} {'seconds':>10} {'vs ge=0':>8} {'evals':>7} "
          f"{'scipy/this':>10}")
    for c in CASES:
        g = best(C[c], "flow_global_error", "seconds")
        g0 = best(C[c], "flow", "seconds")
        ts = best(T[c], "flow", "seconds")
        ev = first(C[c], "flow_global_error", "nfev")
        if g:
            print(f"{c:8} {fmt_t(g):>10} {fr(ratio(g, g0), 8)} "
                  f"{ev if ev else '-':>7} {fr(ratio(ts, g), 10)}")
    for c in CASES:
        ms = best(T[c], "flow_maxstep", "seconds")
        cs = best(C[c], "flow", "seconds")
        if ms:
            print(f"{c:8} scipy, max_step = h: {fmt_t(ms)}, "
                  f"{first(T[c], 'flow_maxstep', 'nfev')} evaluations; "
                  f"/ implreg: {fr(ratio(ms, cs), 0)}")
    print("-" * W)
    for c in CASES:
        a = [r.get("flow", {}).get("seconds") for r in T[c]]
        b = [r.get("flow", {}).get("seconds") for r in C[c]]
        print(f"  all runs, {c}: scipy+torch "
              + ", ".join(f"{x:.3f}" for x in a if x) + " s;")
        print(f"  {' ' * (10 + len(c))}implreg "
              + ", ".join(f"{x:.4f}" for x in b if x) + " s")
    print("=" * W)
    if unmeasured:
        print("not measured: " + ", ".join(unmeasured))
    print(f"{missed} goal(s) missed" if missed else
          ("all goals met" if not unmeasured else "no goal missed among "
           "those measured"))
    if disagree:
        print(f"{disagree} case(s) where the two solutions disagree by more "
              f"than {AGREE_TOL:g}")


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("info")
    s.add_argument("--threads", type=int, default=0)
    s = sub.add_parser("gen")
    s.add_argument("dir")
    s.add_argument("--fashion", default=FASHION)
    s.add_argument("--h", type=float, default=0.05)
    s.add_argument("--steps", type=int, default=64)
    s = sub.add_parser("run")
    s.add_argument("dir")
    s.add_argument("case", choices=sorted(CASES))
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--h", type=float, default=0.05)
    s.add_argument("--rtol", type=float, default=1e-10)
    s.add_argument("--min-time", type=float, default=0.3)
    s.add_argument("--count", action="store_true",
                   help="also count DOP853's steps (an untimed pass)")
    s = sub.add_parser("report")
    s.add_argument("dir")
    args = ap.parse_args()
    for k, least in (("threads", 0), ("steps", 1), ("h", 1e-300),
                     ("rtol", 1e-300), ("min_time", 0.0)):
        if hasattr(args, k) and not getattr(args, k) >= least:
            ap.error(f"--{k.replace('_', '-')} must be >= {least:g}")
    {"info": cmd_info, "gen": cmd_gen, "run": cmd_run,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
