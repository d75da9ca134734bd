#!/usr/bin/python3
"""PyTorch side of bench/train: inputs, torch's training steps, the table.

Subcommands (bench/train calls them in this order):
  info              torch and NumPy versions, the OpenBLAS torch runs on
  gen DIR           the inputs as .npy (DIR/CASE.theta.npy, CASE.X.npy,
                    CASE.Y.npy) and DIR/cases.txt, one line per case:
                    name arch act loss n batch lr check_steps whole_steps
  check DIR CASE    K steps of torch from θ₀ in float64 on the batches
                    implreg drew (DIR/CASE.order.npy, written by bench_train
                    --check); writes DIR/CASE.torch.npy (θ_K)
  time DIR CASE     steady-state steps/s of torch, float64 and float32:
                    --reps blocks of N steps, N calibrated as in
                    bench_train.c (steps 10..N last >= --min-time s and
                    span two epochs), after a warm-up; one JSON line
  whole DIR CASE    import torch, load the data, run S steps, exit (the
                    driver times the whole process)
  report DIR        the table, from DIR/*.json (does not need torch)

The training step is the loop users write:
    out = net(X[b]); loss = crit(out, target[b])
    opt.zero_grad(); loss.backward(); opt.step()
with torch.optim.SGD(lr) (no momentum), net an nn.Sequential of nn.Linear
and the activation, crit nn.CrossEntropyLoss() on class labels (the same
loss as implreg's ce on one-hot rows) or nn.MSELoss() on one-hot targets
(implreg's mse).  Full-batch cases use all n rows every step.
"""
import argparse
import glob
import os
import sys
import time

import numpy as np

from bench_double_descent import read_idx  # noqa: E402
from bench_hessian import (cmd_info, emit, flat_params, load_json,  # noqa: E402
                           make_net, nparams)

PROG = "bench_train.py"
SEED = 20261205
FASHION = "/usr/share/datasets/fashion-mnist"
# name: (widths, act, loss, n, batch (0: full), lr, check steps, whole steps)
CASES = {
    "sgd-ce": ((784, 64, 10), "relu", "ce", 10240, 128, 0.05, 100, 800),
    "sgd-mse": ((784, 64, 10), "relu", "mse", 10240, 128, 0.5, 100, 800),
    "gd-16": ((784, 16, 10), "relu", "ce", 1000, 0, 0.1, 30, 200),
    "gd-64": ((784, 64, 10), "relu", "ce", 1000, 0, 0.1, 30, 100),
    "gd-256": ((784, 256, 10), "relu", "ce", 1000, 0, 0.1, 30, 30),
    "tiny": ((4, 32, 1), "tanh", "mse", 64, 0, 0.05, 200, 5000),
}
GOAL_CASE, GOAL = "sgd-ce", 3.0  # implreg / torch float64 steps/s
WARM = 10


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(1)


def import_torch(threads):
    try:
        import torch
    except ImportError as e:
        die(f"cannot import torch ({e}): apt-get install python3-torch")
    if threads:
        torch.set_num_threads(threads)
    return torch


# ---- gen -------------------------------------------------------------------

def cmd_gen(args):
    torch = import_torch(1)
    torch.set_default_dtype(torch.float64)
    os.makedirs(args.dir, exist_ok=True)
    nmax = max(c[3] for c in CASES.values() if c[0][0] == 784)
    source = "random"
    try:
        X = read_idx(os.path.join(args.fashion,
                                  "train-images-idx3-ubyte.gz"), nmax)
        lab = read_idx(os.path.join(args.fashion,
                                    "train-labels-idx1-ubyte.gz"), nmax)
        X = X.astype(np.float64) / 255.0
        lab = lab[:, 0].astype(np.int64)
        source = f"Fashion-MNIST ({args.fashion}, first training images)"
    except OSError:
        # The same random stand-in for both sides (written once below).
        rng = np.random.default_rng(SEED)
        X = rng.random((nmax, 784))
        lab = rng.integers(0, 10, nmax)
    with open(os.path.join(args.dir, "cases.txt"), "w") as f:
        for i, (name, (w, act, loss, n, B, lr, kc, ks)) in \
                enumerate(CASES.items()):
            torch.manual_seed(SEED + i)
            if w[0] == 784:
                Xc, Yc = X[:n], np.eye(w[-1])[lab[:n]]
            else:  # a teacher: x ~ N(0, I), y = sin(2 x1) cos(x2) + x3 x4 / 2
                Xt = torch.randn(n, w[0])
                Xc = Xt.numpy()
                Yc = (np.sin(2 * Xc[:, 0]) * np.cos(Xc[:, 1])
                      + 0.5 * Xc[:, 2] * Xc[:, 3]).reshape(n, 1)
            net = make_net(torch, w, act)
            theta = flat_params(net).numpy()
            assert theta.size == nparams(w)
            for what, a in (("theta", theta), ("X", Xc), ("Y", Yc)):
                np.save(os.path.join(args.dir, f"{name}.{what}.npy"),
                        np.ascontiguousarray(a, dtype=np.float64))
            f.write(f"{name} {'-'.join(map(str, w))} {act} {loss} {n} {B} "
                    f"{lr!r} {kc} {ks}\n")
    print(f"# data: {source}; pixels / 255, one-hot targets; the tiny case "
          f"is a teacher on x ~ N(0, I4); torch {torch.__version__} default "
          f"nn.Linear initialization, seed {SEED} + case number")


# ---- the torch training loop ----------------------------------------------

class Trainer:
    def __init__(self, torch, d, case, dtype):
        self.torch = torch
        w, act, loss, n, B, lr, _, _ = CASES[case]
        ld = lambda k: np.load(os.path.join(d, f"{case}.{k}.npy"))  # noqa
        self.X = torch.from_numpy(ld("X")).to(dtype)
        Y = ld("Y")
        self.net = make_net(torch, w, act).to(dtype)
        theta = torch.from_numpy(ld("theta")).to(dtype)
        with torch.no_grad():
            k = 0
            for p in self.net.parameters():
                p.copy_(theta[k:k + p.numel()].view_as(p))
                k += p.numel()
        if loss == "ce":
            self.crit = torch.nn.CrossEntropyLoss()
            self.T = torch.from_numpy(Y.argmax(axis=1))
        else:
            self.crit = torch.nn.MSELoss()
            self.T = torch.from_numpy(Y).to(dtype)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr)
        self.full = B == 0 or B >= n
        self.order = None
        if not self.full:
            path = os.path.join(d, f"{case}.order.npy")
            self.order = torch.from_numpy(np.load(path).astype(np.int64))
        self.t = 0

    def steps(self, k):
        net, crit, opt, X, T = self.net, self.crit, self.opt, self.X, self.T
        for _ in range(k):
            if self.full:
                xb, tb = X, T
            else:
                b = self.order[self.t % self.order.shape[0]]
                xb, tb = X[b], T[b]
            loss = crit(net(xb), tb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.t += 1
        return loss

    def theta(self):
        return flat_params(self.net).to(self.torch.float64).numpy()


def cmd_check(args):
    torch = import_torch(args.threads)
    K = CASES[args.case][6]
    tr = Trainer(torch, args.dir, args.case, torch.float64)
    tr.steps(K)
    np.save(os.path.join(args.dir, f"{args.case}.torch.npy"), tr.theta())


def timed(tr, k):
    """Steady-state steps/s of k steps (the clock starts after WARM)."""
    tr.steps(WARM)
    t0 = time.perf_counter()
    tr.steps(k - WARM)
    return (k - WARM) / (time.perf_counter() - t0)


def cmd_time(args):
    torch = import_torch(args.threads)
    out = {"case": args.case, "threads": torch.get_num_threads()}
    for name, dtype in (("float64", torch.float64),
                        ("float32", torch.float32)):
        tr = Trainer(torch, args.dir, args.case, dtype)
        # The same calibration as bench_train.c: steps WARM..k last >=
        # --min-time s and span at least two epochs.
        w, act, loss, n, B, lr, _, _ = CASES[args.case]
        epoch = 1 if B == 0 or B >= n else -(-n // B)
        k = WARM + max(2 * epoch, 3 * WARM)
        while True:  # calibration, also the warm-up
            dt = (k - WARM) / timed(tr, k)
            if dt >= args.min_time:
                break
            k = WARM + int((k - WARM) * min(8.0, 1.1 * args.min_time / dt)) + 1
        rates = [timed(tr, k) for _ in range(args.reps)]
        out[name] = {"rates": rates, "median": float(np.median(rates)),
                     "steps_per_block": k}
    emit(out)


def cmd_whole(args):
    torch = import_torch(args.threads)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    tr = Trainer(torch, args.dir, args.case, dtype)
    loss = tr.steps(CASES[args.case][7])
    emit({"case": args.case, "final_batch_loss": loss.item()})


# ---- report ----------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return float(np.median(xs)) if xs else None


def fr(x, fmt="{:8.0f}"):
    return "       -" if x is None else fmt.format(x)


def cmd_report(args):
    d = args.dir
    W = 79
    threads = sorted({int(p.split(".")[-3][1:]) for p in
                      glob.glob(os.path.join(d, "implreg.*.t*.*.json"))})
    missed = 0
    print("=" * W)
    print("Steady-state steps/s (median over the driver's rounds of each "
          "process's median\nblock; the clock starts after 10 steps; "
          "implreg's includes ir_optim_run's\ndivergence checks).  ratio = "
          "implreg / torch float64 (the same arithmetic), per\nround (the "
          "two processes ran back to back), median over rounds; torch\n"
          "float32 for information.  floor = steps/s if a step cost only its\ndgemm "
          "calls (timed alone in the C program).  agree = max|θ_implreg - "
          "θ_torch|\n/ max|θ_torch| after K steps; allowed = 10·K·max(eps, "
          "spread), spread = the\nsame difference between implreg runs from "
          "θ₀ and from θ₀ moved by one ulp.")
    print("-" * W)
    print(f"{'case':8s} {'net':13s} {'B':>5s} thr {'implreg':>8s} "
          f"{'torch64':>8s} {'ratio':>6s} {'torch32':>8s} {'floor':>7s} "
          f"{'agree':>7s} {'allowed':>7s}")
    bad = 0
    before = {}
    for t in threads:
        for case, (w, act, loss, n, B, lr, K, S) in CASES.items():
            ic = [load_json(p) for p in sorted(glob.glob(os.path.join(
                d, f"implreg.{case}.t{t}.*.json")))]
            tc = [load_json(p) for p in sorted(glob.glob(os.path.join(
                d, f"torch.{case}.t{t}.*.json")))]
            ir = med([r and r.get("median") for r in ic])
            t64 = med([r and r["float64"]["median"] for r in tc])
            t32 = med([r and r["float32"]["median"] for r in tc])
            fl = med([r and r.get("dgemm_floor_s") for r in ic])
            # The ratio of each round (the two processes ran back to back,
            # under the same load), then the median over rounds.
            ratio = med([a["median"] / b["float64"]["median"]
                         for a, b in zip(ic, tc) if a and b])
            bc = [load_json(p) for p in sorted(glob.glob(os.path.join(
                d, f"baseline.{case}.t{t}.*.json")))]
            if bc:
                before[(case, t)] = (med([r and r.get("median") for r in bc]),
                                     med([a["median"] / b["median"] for a, b
                                          in zip(ic, bc) if a and b]), ir)
            agree = allowed = None
            try:
                a = np.load(os.path.join(d, f"{case}.implreg.npy")).ravel()
                b = np.load(os.path.join(d, f"{case}.torch.npy")).ravel()
                c = np.load(os.path.join(d, f"{case}.pert.npy")).ravel()
                scale = np.max(np.abs(b))
                agree = np.max(np.abs(a - b)) / scale
                spread = np.max(np.abs(a - c)) / scale
                allowed = 10 * K * max(np.finfo(float).eps, spread)
            except OSError:
                pass
            ok = agree is not None and agree <= allowed
            bad += not ok
            mark = ""
            if case == GOAL_CASE and ratio is not None:
                mark = " GOAL MET" if ratio >= GOAL else " GOAL MISSED"
                missed += ratio < GOAL
            net = f"{'-'.join(map(str, w))} {act}"
            print(f"{case:8s} {net:13s} {B if B else n:5d} {t:3d} {fr(ir)} "
                  f"{fr(t64)} {fr(ratio, '{:6.2f}')} {fr(t32)} "
                  f"{fr(1 / fl if fl else None, '{:7.0f}')} "
                  f"{fr(agree, '{:7.0e}')} {fr(allowed, '{:7.0e}')}"
                  f"{'' if ok else ' DISAGREE'}{mark}")
    if before:
        print("-" * W)
        print("implreg before (the --baseline build) and now, steady-state "
              "steps/s; speedup\nper round, median over rounds.")
        print(f"{'case':8s} thr {'before':>8s} {'now':>8s} {'speedup':>7s}")
        for (case, t), (b, sp, now) in before.items():
            print(f"{case:8s} {t:3d} {fr(b)} {fr(now)} "
                  f"{fr(sp, '{:7.2f}')}")
    print("-" * W)
    print("Whole process: seconds from exec to exit for S steps (startup, "
          "data loading\nand the steps), median over rounds, 1 thread then "
          "2; ratio = torch / implreg.")
    print(f"{'case':8s} {'S':>5s} thr {'implreg s':>9s} {'torch64 s':>9s} "
          f"{'ratio':>6s}")
    for t in threads:
        for case, c in CASES.items():
            ws = []
            for side in ("implreg", "torch"):
                rs = [load_json(p) for p in glob.glob(os.path.join(
                    d, f"whole.{side}.{case}.t{t}.*.json"))]
                ws.append(med([r and r.get("seconds") for r in rs
                               if r and r.get("status") == 0]))
            ratio = ws[1] / ws[0] if all(ws) else None
            print(f"{case:8s} {c[7]:5d} {t:3d} {fr(ws[0], '{:9.3f}')} "
                  f"{fr(ws[1], '{:9.3f}')} {fr(ratio, '{:6.2f}')}")
    print("=" * W)
    print(f"goal: {GOAL_CASE} implreg >= {GOAL:g}x torch float64 steps/s: "
          + ("missed" if missed else "met"))
    if bad:
        print(f"{bad} row(s) where the two sides' weights disagree (or were "
              "not compared)")


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("info")
    s.add_argument("--threads", type=int, default=0)
    s = sub.add_parser("gen")
    s.add_argument("dir")
    s.add_argument("--fashion", default=FASHION)
    for c in ("check", "time", "whole"):
        s = sub.add_parser(c)
        s.add_argument("dir")
        s.add_argument("case", choices=sorted(CASES))
        s.add_argument("--threads", type=int, default=1)
        if c == "time":
            s.add_argument("--min-time", type=float, default=0.3)
            s.add_argument("--reps", type=int, default=5)
        if c == "whole":
            s.add_argument("--dtype", choices=("float64", "float32"),
                           default="float64")
    s = sub.add_parser("report")
    s.add_argument("dir")
    args = ap.parse_args()
    if getattr(args, "threads", 1) < 0 or getattr(args, "reps", 1) < 1:
        ap.error("--threads must be >= 0 and --reps >= 1")
    {"info": cmd_info, "gen": cmd_gen, "check": cmd_check, "time": cmd_time,
     "whole": cmd_whole, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
