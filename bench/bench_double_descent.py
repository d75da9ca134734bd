#!/usr/bin/python3
"""NumPy reference of bench/double-descent, and its report.

Subcommands (bench/double-descent calls them):
  info                      OpenBLAS build and core NumPy uses
  grid N NMAX POINTS        the model sizes of `implreg double-descent`
                            (dd_default_grid), comma-separated
  ref OUT --n N --ntest M --grid LIST --sigma S [--params DIR] [--seed S]
                            the default model-wise analysis as a NumPy user
                            writes it, as one process: Fashion-MNIST subset
                            (gzip IDX decompressed, random subset), random
                            Fourier features once at Nmax (nested: size N
                            uses the first N columns times sqrt(2/N)), per
                            grid point numpy.linalg.lstsq (min-norm curve)
                            and, for each ridge lambda, numpy.linalg.solve on
                            the Gram matrix of the smaller side plus lambda*I
                            (optimal-ridge curve); the table as CSV and the
                            two figures rendered by gnuplot.  With --params
                            the data and features are read from DIR (written
                            by bench_double_descent --dump: implreg's own
                            draws) instead of drawn, for the agreement check.
                            Prints "ref_<stage> seconds" lines.
  report RESULTS IMPLREG_CSV REF_CSV
                            medians, stage breakdown, ratio, agreement
"""
import argparse
import gzip
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

# bench_minnorm.py is next to this file (sys.path[0]): its OpenBLAS report.
from bench_minnorm import cmd_info  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"
EPS = np.finfo(float).eps
RIDGE = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]  # implreg's default --ridge list
SPEED_GOAL = 0.2  # implreg seconds / reference seconds, whole processes
# Curve agreement: relative difference of the min-norm test MSE AGREE_TOL
# where |N/n - 1| >= NEAR; nearer, what the conditioning allows:
# ALLOW_C*eps*cond(Phi_N)^2 (least squares with a nonzero residual:
# Wedin 1973; Golub & Van Loan section 5.3), never less than AGREE_TOL.
AGREE_TOL = 1e-6
NEAR = 0.1
ALLOW_C = 10.0
# Optimal-ridge test MSE: both sides solve systems of condition
# (mu_max + lambda)/lambda <= about 1e5 here for the smallest lambda (1e-4):
# rounding of eps*1e5 ~ 2e-11, allowed 1e-8.
RIDGE_TOL = 1e-8


def default_grid(n, nmax, points):
    """dd_default_grid of analyses/an_double_descent.c."""
    near = [0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25]
    base = points - len(near) if points > len(near) else 2
    lo = max(1.0, n / 20.0)
    g = []
    for i in range(base):
        t = i / (base - 1) if base > 1 else 1.0
        g.append(int(round_half_away(lo * (nmax / lo) ** t)))
    for r in near:
        v = int(round_half_away(r * n))
        if 1 <= v <= nmax:
            g.append(v)
    return sorted(set(g))


def round_half_away(x):
    """C's llround."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def cmd_grid(a):
    print(",".join(str(v) for v in default_grid(a.n, a.nmax, a.points)))


def read_idx(path, count=None):
    """A gzip'd IDX file of unsigned bytes as (count, item) uint8: all its
    items, or the first `count` (bench_hessian, _igr, _train and _flatness
    import this one)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = np.frombuffer(raw[4:4 + 4 * ndim], dtype=">u4").astype(int)
    item = int(np.prod(dims[1:])) if ndim > 1 else 1
    total = int(dims[0]) if count is None else min(int(count), int(dims[0]))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim,
                         count=total * item)
    return data.reshape(total, item)


def load_split(split, count, rng):
    pre = "train" if split == 0 else "t10k"
    X = read_idx(os.path.join(FASHION, f"{pre}-images-idx3-ubyte.gz"))
    lab = read_idx(os.path.join(FASHION, f"{pre}-labels-idx1-ubyte.gz"))[:, 0]
    idx = rng.choice(X.shape[0], size=count, replace=False)
    Xs = X[idx].astype(float) / 255.0
    Y = np.zeros((count, 10))
    Y[np.arange(count), lab[idx]] = 1.0
    return Xs, Y, lab[idx]


def read_params(d):
    shapes = {}
    with open(os.path.join(d, "shapes.txt")) as f:
        for line in f:
            name, r, c = line.split()
            shapes[name] = (int(r), int(c))
    out = {}
    for name, (r, c) in shapes.items():
        a = np.fromfile(os.path.join(d, name + ".f64"), dtype="<f8")
        out[name] = a.reshape(r, c)
    return out


GP = """set terminal pngcairo size 900,600
set output "{name}.png"
set logscale x; set logscale y; set grid
set xlabel "N / n"; set ylabel "{ylab}"
plot {plots}
set terminal pdfcairo
set output "{name}.pdf"
replot
"""


def cmd_ref(a):
    t0 = time.perf_counter()
    stages = {}
    grid = [int(v) for v in a.grid.split(",")]
    nmax = grid[-1]
    if a.params:
        p = read_params(a.params)
        X, Y, Xt, Yt, W, b = p["X"], p["Y"], p["Xt"], p["Yt"], p["W"], p["b"]
        b = b[:, 0]
        labels_t = Yt.argmax(axis=1)
        W = W[:nmax]
        b = b[:nmax]
        stages["load"] = time.perf_counter() - t0
        t = time.perf_counter()
    else:
        rng = np.random.default_rng(a.seed)
        X, Y, _ = load_split(0, a.n, rng)
        Xt, Yt, labels_t = load_split(1, a.ntest, rng)
        stages["load"] = time.perf_counter() - t0
        t = time.perf_counter()
        W = rng.standard_normal((nmax, X.shape[1])) / a.sigma
        b = rng.uniform(0.0, 2 * math.pi, nmax)
    Phi = np.cos(X @ W.T + b)
    Phit = np.cos(Xt @ W.T + b)
    stages["features"] = time.perf_counter() - t
    n, nt = X.shape[0], Xt.shape[0]
    rows = []
    tl = tr = 0.0
    for N in grid:
        t = time.perf_counter()
        c = math.sqrt(2.0 / N)
        A = c * Phi[:, :N]
        At = c * Phit[:, :N]
        Wm, _, rank, sv = np.linalg.lstsq(A, Y, rcond=None)
        P = At @ Wm
        test_mse = ((P - Yt) ** 2).sum() / nt
        train_mse = ((A @ Wm - Y) ** 2).sum() / n
        test_err = float(np.mean(P.argmax(axis=1) != labels_t))
        cond = sv[0] / sv[-1] if sv[-1] > 0 else math.inf
        norm = np.linalg.norm(Wm)
        t1 = time.perf_counter()
        tl += t1 - t
        best, blam = math.inf, math.nan
        if N <= n:
            G = A.T @ A
            rhs = A.T @ Y
        else:
            G = A @ A.T
        I = np.eye(G.shape[0])
        for lam in RIDGE:
            if N <= n:
                Pr = At @ np.linalg.solve(G + lam * I, rhs)
            else:
                Pr = At @ (A.T @ np.linalg.solve(G + lam * I, Y))
            m = ((Pr - Yt) ** 2).sum() / nt
            if m < best:
                best, blam = m, lam
        tr += time.perf_counter() - t1
        rows.append((N, n, N / n, train_mse, test_mse, test_err, norm,
                     int(rank), cond, best, blam))
    stages["minnorm"] = tl
    stages["ridge"] = tr
    t = time.perf_counter()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.csv"), "w") as f:
        f.write("N,n,N_over_n,train_mse,test_mse,test_err,norm,rank,cond,"
                "test_mse_opt_ridge,opt_lambda\n")
        for r in rows:
            f.write(",".join(repr(float(v)) if isinstance(v, float) else
                             str(v) for v in r) + "\n")
    with open(os.path.join(a.out, "model.dat"), "w") as f:
        for r in rows:
            f.write(f"{r[2]:.17g} {r[4]:.17g} {r[9]:.17g} {r[6]:.17g}\n")
    figs = [("model_risk", "test MSE",
             '"model.dat" using 1:2 with linespoints title "min-norm", '
             '"model.dat" using 1:3 with linespoints title "optimal ridge"'),
            ("model_norm", "norm",
             '"model.dat" using 1:4 with linespoints title "||W||"')]
    if shutil.which("gnuplot"):
        for name, ylab, plots in figs:
            with open(os.path.join(a.out, name + ".gp"), "w") as f:
                f.write(GP.format(name=name, ylab=ylab, plots=plots))
            subprocess.run(["gnuplot", name + ".gp"], cwd=a.out, check=True)
    stages["write"] = time.perf_counter() - t
    for k, v in stages.items():
        print(f"ref_{k} {v:.4f}")
    print(f"ref_inprocess {time.perf_counter() - t0:.4f}")


def read_csv(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [dict(zip(head, line.strip().split(","))) for line in f]
    return rows


def fnum(s):
    return float(s) if s not in ("", None) else math.nan


def cmd_report(a):
    runs = {"implreg": [], "numpy": []}
    cpus = {"implreg": [], "numpy": []}
    istage, rstage = {}, {}
    with open(a.results) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "whole" and w[1] in runs:
                runs[w[1]].append(float(w[2]))
            elif len(w) == 3 and w[0] == "cpu" and w[1] in cpus:
                cpus[w[1]].append(float(w[2]))
            elif len(w) == 2 and w[0].startswith("ref_"):
                rstage.setdefault(w[0][4:], []).append(float(w[1]))
            elif len(w) == 2 and w[0].startswith("implreg_"):
                istage.setdefault(w[0][8:], []).append(float(w[1]))
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    line = "=" * 79
    print(line)
    print(f"Whole processes, median of {len(runs['implreg'])} alternating "
          "runs each (wall seconds).")
    print("implreg: the analysis as users run it (features, min-norm and "
          "optimal-ridge\ncurves, the direct QR self-check, tables, checks, "
          "figures); numpy: the same\nwork in NumPy (features once, lstsq per "
          "point, one solve per ridge lambda,\nCSV table, figures by "
          "gnuplot).")
    print("-" * 79)
    print(f"{'stage':30s} {'implreg s':>10s} {'numpy s':>10s}")
    keys = ["load", "features", "grow", "solve", "minnorm", "ridge", "direct",
            "write", "write.figures"]
    for k in keys:
        iv = istage.get(k)
        rv = rstage.get(k)
        if iv is None and rv is None:
            continue
        fmt = lambda v: f"{statistics.median(v):10.3f}" if v else f"{'-':>10s}"
        print(f"{k:30s} {fmt(iv)} {fmt(rv)}")
    print(f"{'whole process':30s} {med.get('implreg', math.nan):10.3f} "
          f"{med.get('numpy', math.nan):10.3f}")
    print("-" * 79)
    for k, v in runs.items():
        print(f"all runs {k}: " + ", ".join(f"{x:.2f}" for x in v))
    if cpus["implreg"] and cpus["numpy"]:
        ci = statistics.median(cpus["implreg"])
        cn = statistics.median(cpus["numpy"])
        print(f"CPU seconds (user + sys, all threads; medians): implreg "
              f"{ci:.2f}, numpy {cn:.2f}, ratio {ci / cn:.3f}")
    ratio = med["implreg"] / med["numpy"]
    ok = ratio <= SPEED_GOAL
    print(f"implreg / numpy, whole processes: {ratio:.3f} (goal <= "
          f"{SPEED_GOAL}){'GOAL MET':>20s}" if ok else
          f"implreg / numpy, whole processes: {ratio:.3f} (goal <= "
          f"{SPEED_GOAL}){'GOAL NOT MET':>20s}")
    # Agreement on implreg's own draws.
    ir = read_csv(a.implreg_csv)
    rf = read_csv(a.ref_csv)
    if len(ir) != len(rf):
        sys.exit("report: the two tables have different grids")
    print("-" * 79)
    print("Agreement (numpy fed implreg's data and feature parameters):")
    print(f"{'N':>6s} {'N/n':>5s} {'method':>8s} {'cond':>8s} {'test MSE':>10s}"
          f" {'rel diff':>8s} {'allowed':>8s} {'ridge rd':>8s}")
    worst_far = worst_near = worst_ridge = 0.0
    bad = 0
    for x, y in zip(ir, rf):
        N, n = int(x["N"]), int(x["n"])
        cond = fnum(y["cond"])
        m1, m2 = fnum(x["test_mse"]), fnum(y["test_mse"])
        rd = abs(m1 - m2) / m2
        far = abs(N - n) >= NEAR * n - 1e-9  # N = 0.9n is "far", exactly
        allow = AGREE_TOL if far else max(AGREE_TOL, ALLOW_C * EPS * cond ** 2)
        r1, r2 = fnum(x.get("test_mse_opt_ridge")), fnum(y["test_mse_opt_ridge"])
        rr = abs(r1 - r2) / r2
        if far:
            worst_far = max(worst_far, rd)
        else:
            worst_near = max(worst_near, rd)
        worst_ridge = max(worst_ridge, rr)
        bad += (rd > allow) + (rr > RIDGE_TOL)
        print(f"{N:6d} {N / n:5.2f} {x['method']:>8s} {cond:8.1e} {m1:10.4g} "
              f"{rd:8.1e} {allow:8.0e} {rr:8.1e}")
    print(f"min-norm test MSE, |N/n - 1| >= {NEAR}: max rel diff "
          f"{worst_far:.1e}; nearer: {worst_near:.1e}")
    print(f"optimal-ridge test MSE: max rel diff {worst_ridge:.1e} (allowed "
          f"{RIDGE_TOL:g})")
    print(f"agreement: {'all points within the allowed' if bad == 0 else f'{bad} value(s) outside'}")
    print(line)
    return 0 if bad == 0 else 1


def cmd_scaling(a):
    """Fits seconds = c * n^k by least squares on log-log over the rows
    "n seconds peak_kb" of a.results, prints the table and the exponent,
    and writes the log-log figure (gnuplot) as a.plot.png and .svg."""
    rows = []
    with open(a.results) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "scaling":
                cpu = float(w[4]) + float(w[5]) if len(w) > 5 else math.nan
                rows.append((int(w[1]), float(w[2]), int(w[3]) if len(w) > 3
                             else 0, cpu))
    if len(rows) < 2:
        sys.exit("scaling: need at least two sizes")
    x = np.log([r[0] for r in rows])
    y = np.log([r[1] for r in rows])
    k, logc = np.polyfit(x, y, 1)
    fit_from = a.fit_from or rows[0][0]
    sel = [i for i, r in enumerate(rows) if r[0] >= fit_from]
    k2 = np.polyfit(x[sel], y[sel], 1)[0] if len(sel) >= 2 else math.nan
    print(f"{'n':>6s} {'N max':>7s} {'wall s':>9s} {'CPU s':>9s} "
          f"{'peak RSS':>9s}")
    for r in rows:
        print(f"{r[0]:6d} {10 * r[0]:7d} {r[1]:9.2f} {r[3]:9.2f} "
              f"{r[2] / 1048576:7.2f} GB")
    print(f"fitted exponent of wall time (all sizes): {k:.2f}; from n = "
          f"{fit_from}: {k2:.2f} (goal <= 3.2)")
    cpu = np.log([r[3] for r in rows])
    if np.all(np.isfinite(cpu)):
        kc = np.polyfit(x, cpu, 1)[0]
        kl = (cpu[-1] - cpu[-2]) / (x[-1] - x[-2])
        print(f"exponent of CPU time (user + sys): {kc:.2f} (all sizes), "
              f"{kl:.2f} (the last two)")
    if a.plot and shutil.which("gnuplot"):
        dat = a.plot + ".dat"
        with open(dat, "w") as f:
            for r in rows:
                f.write(f"{r[0]} {r[1]:.4f} {r[3]:.4f}\n")
        has_cpu = all(math.isfinite(r[3]) for r in rows)
        c = math.exp(logc)
        for term, ext in (("pngcairo size 720,480", "png"),
                          ("svg size 720,480", "svg")):
            gp = (f'set terminal {term}\nset output "{a.plot}.{ext}"\n'
                  'set logscale xy\nset grid\nset key top left\n'
                  'set xlabel "n (training samples; N up to 10n, 25 sizes)"\n'
                  'set ylabel "wall seconds, whole process"\n'
                  f'set title "implreg double-descent, 2 cores: wall time = c n^{{{k:.2f}}}"\n'
                  f'plot "{dat}" using 1:2 with linespoints pt 7 title "wall", '
                  + (f'"{dat}" using 1:3 with linespoints pt 5 title "CPU (user + sys)", '
                     if has_cpu else '')
                  + f'{c:.6g}*x**{k:.4f} with lines dt 2 title "fit of wall: n^{{{k:.2f}}}"\n')
            subprocess.run(["gnuplot"], input=gp.encode(), check=True)
        print(f"figure: {a.plot}.png, {a.plot}.svg")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    g = sub.add_parser("grid")
    g.add_argument("n", type=int)
    g.add_argument("nmax", type=int)
    g.add_argument("points", type=int)
    r = sub.add_parser("ref")
    r.add_argument("out")
    r.add_argument("--n", type=int, default=1000)
    r.add_argument("--ntest", type=int, default=2000)
    r.add_argument("--grid", required=True)
    r.add_argument("--sigma", type=float, default=11.5)
    r.add_argument("--seed", type=int, default=20261205)
    r.add_argument("--params")
    p = sub.add_parser("report")
    p.add_argument("results")
    p.add_argument("implreg_csv")
    p.add_argument("ref_csv")
    c = sub.add_parser("scaling")
    c.add_argument("results")
    c.add_argument("--plot")
    c.add_argument("--fit-from", type=int, default=0)
    a = ap.parse_args()
    return {"info": cmd_info, "grid": cmd_grid, "ref": cmd_ref,
            "report": cmd_report, "scaling": cmd_scaling}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
