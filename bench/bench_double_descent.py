#!/usr/bin/python3
"""NumPy side of bench/double-descent: data, the NumPy sweep, the table.

Subcommands (bench/double-descent calls them in this order):
  info                  OpenBLAS build and core NumPy uses (as bench/minnorm)
  gen DIR               Fashion-MNIST subset, random Fourier feature
                        parameters and the grid, written as DIR/*.npy
  sweep DIR             the model-wise sweep as users write it in NumPy:
                        features recomputed and numpy.linalg.lstsq per N
  report DIR RESULTS    agreement of the curves, flop counts and the table

Every measurement is printed as one line "name value"; other lines start with
'#'.  The same .npy files are read by bench_double_descent.c.
"""
import argparse
import gzip
import math
import os
import sys
import textwrap
import time

import numpy as np

# bench_minnorm.py is next to this file (sys.path[0]): reuse its OpenBLAS
# report and its reader of "name value" result lines.
from bench_minnorm import cmd_info, read_results

SEED = 20241128  # fixed, so every run times the same data and features
FASHION = "/usr/share/datasets/fashion-mnist"
EPS = np.finfo(float).eps
# Speed goal: NumPy sweep seconds / implreg sweep seconds (features included).
SPEED_GOAL = 5.0
# Curve goal away from the threshold (|N/n - 1| >= NEAR): relative difference
# of the test MSE.
AGREE_TOL = 1e-6
NEAR = 0.1
# Next to the threshold the two sides may differ by what the conditioning
# allows: ALLOW_C * eps * cond(Phi_N)^2 (the first-order perturbation bound
# of least squares with a nonzero residual grows like eps*cond^2: Wedin 1973,
# Golub & Van Loan, Matrix Computations, section 5.3; the Gram route's own
# error is eps*cond(Gram) = eps*cond^2 too), and never less than AGREE_TOL.
ALLOW_C = 10.0


def read_idx(path, count):
    """The first `count` items of a gzip'd IDX file of unsigned bytes, as an
    array of shape (count, prod(item dims))."""
    with gzip.open(path, "rb") as f:
        head = f.read(4)
        if head[:2] != b"\0\0" or head[2] != 0x08:
            sys.exit(f"bench_double_descent.py: {path}: not an IDX ubyte file")
        ndim = head[3]
        dims = np.frombuffer(f.read(4 * ndim), dtype=">u4").astype(int)
        item = int(np.prod(dims[1:])) if ndim > 1 else 1
        count = min(count, int(dims[0]))
        data = np.frombuffer(f.read(count * item), dtype=np.uint8)
    return data.reshape(count, item)


def dd_default_grid(n, Nmax, points):
    """implreg's dd_default_grid (analyses/an_double_descent.c): points - 7
    sizes log-spaced from max(1, n/20) to Nmax, plus N/n in {0.8, 0.9, 0.95,
    1, 1.05, 1.1, 1.25}; unique and sorted.  llround is round-half-away, i.e.
    floor(x + 0.5) for x >= 0."""
    near = (0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25)
    base = points - len(near) if points > len(near) else 2
    lo = max(1.0, n / 20.0)
    g = [math.floor(lo * math.pow(Nmax / lo, i / (base - 1) if base > 1 else 1.0)
                    + 0.5) for i in range(base)]
    g += [v for v in (math.floor(f * n + 0.5) for f in near) if 1 <= v <= Nmax]
    return sorted(set(g))


def cmd_gen(args):
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    d = args.fashion
    try:
        Xall = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"), 60000)
        yall = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), 60000)
        Xtall = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 10000)
        ytall = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 10000)
    except OSError as e:
        sys.exit(f"bench_double_descent.py: {e} (apt-get install "
                 "dataset-fashion-mnist)")
    tr = rng.choice(len(Xall), args.n, replace=False)
    te = rng.choice(len(Xtall), args.ntest, replace=False)
    X, Xt = Xall[tr] / 255.0, Xtall[te] / 255.0
    Y = np.eye(10)[yall[tr, 0]]
    Yt = np.eye(10)[ytall[te, 0]]
    # sigma: median distance over all pairs of the training subset (the
    # median heuristic of implreg's features.h on n(n-1)/2 pairs).
    sq = np.einsum("ij,ij->i", X, X)
    D2 = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    iu = np.triu_indices(args.n, 1)
    sigma = float(np.median(np.sqrt(np.maximum(D2[iu], 0.0))))
    W = rng.standard_normal((args.Nmax, X.shape[1])) / sigma
    b = rng.uniform(0.0, 2.0 * np.pi, args.Nmax)
    grid = dd_default_grid(args.n, args.Nmax, args.points)
    for name, a in (("X", X), ("Xt", Xt), ("Y", Y), ("Yt", Yt), ("W", W),
                    ("b", b), ("grid", np.array(grid, dtype=np.int64))):
        np.save(os.path.join(args.dir, name + ".npy"), a)
    print(f"# data: Fashion-MNIST ({d}), seed {SEED}: n = {args.n} training and "
          f"{args.ntest} test images, d = {X.shape[1]}, K = 10 (one-hot), "
          f"pixels / 255")
    print(f"# features: random Fourier, Nmax = {args.Nmax}, sigma = {sigma:.6g} "
          f"(median distance over {len(iu[0])} pairs), W ~ N(0, sigma^-2), "
          f"b ~ U[0, 2pi)  [{time.perf_counter() - t0:.1f} s]")
    print(f"# grid ({len(grid)} points, implreg's dd_default_grid(n = {args.n}, "
          f"Nmax = {args.Nmax}, points = {args.points})):")
    print("#   " + " ".join(str(g) for g in grid))


def sweep_once(X, Xt, Y, Yt, W, b, grid):
    """One sweep: per N, (N, test MSE, rank, cond, feature s, solve s), cond
    = s_max / s_min over the singular values lstsq kept (the exact 2-norm
    condition number of Phi_N when it has full rank)."""
    rows = []
    for N in grid:
        t0 = time.perf_counter()
        Phi = np.sqrt(2.0 / N) * np.cos(X @ W[:N].T + b[:N])
        Phit = np.sqrt(2.0 / N) * np.cos(Xt @ W[:N].T + b[:N])
        t1 = time.perf_counter()
        coef, _, rank, s = np.linalg.lstsq(Phi, Y, rcond=None)
        mse = float(np.sum((Phit @ coef - Yt) ** 2)) / len(Yt)
        t2 = time.perf_counter()
        cond = s[0] / s[rank - 1] if rank > 0 else math.nan
        rows.append((N, mse, rank, cond, t1 - t0, t2 - t1))
    return rows


def cmd_sweep(args):
    """The sweep as users write it: features for N recomputed from the raw
    parameters, then lstsq, for every N of the grid.  One run, numbered by
    --tag (bench/double-descent alternates the two sides)."""
    ld = lambda name: np.load(os.path.join(args.dir, name + ".npy"))
    data = [ld(k) for k in ("X", "Xt", "Y", "Yt", "W", "b")]
    grid = ld("grid")
    t0, c0 = time.perf_counter(), time.process_time()
    rows = sweep_once(*data, grid)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    np.save(os.path.join(args.dir, f"dd.numpy.{args.tag}.npy"),
            np.array(rows, dtype=float))
    tf = sum(r[4] for r in rows)
    print(f"numpy.sweep.{args.tag} {t:.6f}")
    print(f"# numpy.sweep.{args.tag} cpu={c:.3f} points={len(grid)}")
    print(f"numpy.features.{args.tag} {tf:.6f}")
    print(f"numpy.solves.{args.tag} {t - tf:.6f}")


# ---- Flop counts (multiply and add each count one; cos not counted) -------

# The fit methods of include/implreg/nested.h (IR_NESTED_*).
METH_NAME = {1: "chol", 2: "svd", 4: "cod", 5: "csne"}


def dgelsd_flops(M, N, K):
    """Approximate flops of LAPACK dgelsd on an M x N matrix with K right-hand
    sides (LAWN 41 counts; a = max(M, N), m = min(M, N)): when a >= 1.6 m
    (dgelsd's MNTHR) a QR/LQ first (2 a m^2 - 2 m^3/3), then the bidiagonal
    reduction of the m x m factor (8 m^3/3); otherwise the bidiagonal
    reduction of the whole matrix (4 a m^2 - 4 m^3/3).  Plus applying the
    orthogonal factors to the K right-hand sides (4 a m K + 4 m^2 K).  The
    divide-and-conquer bidiagonal solve (O(m^2 K), O(m^2 log m)) is left
    out."""
    a, m = max(M, N), min(M, N)
    if a >= 1.6 * m:
        f = 2 * a * m * m - 2 * m ** 3 / 3 + 8 * m ** 3 / 3
    else:
        f = 4 * a * m * m - 4 * m ** 3 / 3
    return f + 4 * a * m * K + 4 * m * m * K


def implreg_flops(n, nt, d, K, grid, methods):
    """Flops of the implreg sweep, per grid point: (grow, solve).  What
    src/nested.c calls, with m = min(n, N):
      grow    n^2 dN (dsyrk of the dual Gram, from the previous N0 to N)
              + 2 n Np (Np - N0) while N0 < n, Np = min(N, n) (the new
              block of the primal Gram)
      solve   Cholesky point: m^3/3 (dpotrf) + 2 m^2 K (two dtrsm)
              + 2 n N K (primal right-hand side Phi^T Y, N <= n);
              CSNE point (corrected semi-normal equations next to the
              threshold): the same Cholesky, its solve 2 m^2 K, and per
              refinement step the residual 2 n N K, Phi^T R (primal,
              2 n N K) and 2 m^2 K; two steps counted (the usual number;
              the sweep stops at three or when the correction is small);
              SVD/COD point: the Cholesky attempt refused by the condition
              check (m^3/3, + 2 n N K when N <= n) + dgelsd(n, N, K);
              both: 2 n N K (training residual) + 2 nt N K (test
              predictions), + 2 n N K (W = Phi^T alpha) at dual Cholesky
              points.
    The features (once) are 2 (n + nt) d Nmax: see features_flops."""
    out, N0 = [], 0
    for N, meth in zip(grid, methods):
        grow = float(n) * n * (N - N0)
        if N0 < n:
            Np = min(N, n)
            grow += 2.0 * n * Np * (Np - N0)
        m = min(n, N)
        solve = m ** 3 / 3.0 + (2.0 * n * N * K if N <= n else 0.0)
        if meth == 1:
            solve += 2.0 * m * m * K + (2.0 * n * N * K if N > n else 0.0)
        elif meth == 5:
            step = 2.0 * n * N * K + (2.0 * n * N * K if N <= n else 0.0) \
                + 2.0 * m * m * K
            solve += 2.0 * m * m * K + 2 * step
        else:
            solve += dgelsd_flops(n, N, K)
        solve += 2.0 * n * N * K + 2.0 * nt * N * K
        out.append((grow, solve))
        N0 = N
    return out


def features_flops(n, nt, d, N):
    """The dgemm of the features of n + nt rows (cos not counted)."""
    return 2.0 * (n + nt) * d * N


def numpy_flops(n, nt, d, K, grid):
    """Flops of the NumPy sweep: per point the features 2 (n + nt) d N, dgelsd
    and the test predictions 2 nt N K."""
    return sum(2.0 * (n + nt) * d * N + dgelsd_flops(n, N, K)
               + 2.0 * nt * N * K for N in grid)


# ---- Report -------------------------------------------------------------------

def cmd_report(args):
    res, cpu = read_results(args.results)
    ld = lambda name: np.load(os.path.join(args.dir, name + ".npy"))
    X, Xt, Y = ld("X"), ld("Xt"), ld("Y")
    grid = [int(g) for g in ld("grid")]
    n, d = X.shape
    nt, K = Xt.shape[0], Y.shape[1]
    # The best run of each side (the driver alternates them, --rounds runs
    # each): numpy's shortest sweep, implreg's shortest features + sweep.
    rounds = [str(r) for r in range(1, args.rounds + 1)]
    rn = min(rounds, key=lambda r: res.get(f"numpy.sweep.{r}", math.inf))
    ri = min(rounds, key=lambda r: res.get(f"implreg.features.{r}", math.inf)
             + res.get(f"implreg.sweep.{r}", math.inf))
    runs_n = [res.get(f"numpy.sweep.{r}", math.nan) for r in rounds]
    runs_i = [res.get(f"implreg.features.{r}", math.nan)
              + res.get(f"implreg.sweep.{r}", math.nan) for r in rounds]
    res = {k.rsplit(".", 1)[0]: v for k, v in res.items()
           if k.rsplit(".", 1)[-1] == (rn if k.startswith("numpy") else ri)}
    cpu = {k.rsplit(".", 1)[0]: v for k, v in cpu.items()
           if k.rsplit(".", 1)[-1] == (rn if k.startswith("numpy") else ri)}
    # Per grid point.  numpy: N, test MSE, rank, cond, feature s, solve s.
    # implreg (bench_double_descent.c): N, test MSE, train MSE, method, cond,
    # rank, rcond, grow s, minnorm s.
    npy, imp = ld(f"dd.numpy.{rn}"), ld(f"dd.implreg.{ri}")
    if [int(x) for x in npy[:, 0]] != grid or [int(x) for x in imp[:, 0]] != grid:
        sys.exit("bench_double_descent.py: the two sweeps ran different grids")
    meths = [int(m) for m in imp[:, 3]]
    width = 79
    print("=" * width)
    print(textwrap.fill(
        f"Best of {args.rounds} alternating run(s) of each side.  "
        f"Model-wise sweep: Fashion-MNIST, n = {n}, {nt} test images, random "
        f"Fourier features, {len(grid)} sizes N = {grid[0]}..{grid[-1]}, "
        f"K = {K} outputs.  numpy: features recomputed (feat s) and lstsq "
        "per N, as users write it; implreg: ir_nested_grow + "
        "ir_nested_minnorm (features computed once, below).  meth: chol = "
        "Cholesky of the Gram matrix, csne = the same factor refined with "
        "residuals of Phi_N (eps*cond(Gram) in (1e-8, 1e-2]), cod/svd = "
        "dgelsy/dgelsd on Phi_N.  cond = cond(Phi_N) from NumPy's "
        "singular values.  rel diff = |MSE_implreg - MSE_numpy| / MSE_numpy; "
        f"allowed: {AGREE_TOL:g} where |N/n - 1| >= {NEAR}, max({AGREE_TOL:g}, "
        f"{ALLOW_C:g} eps cond^2) nearer.  The C side's features lack the "
        "sqrt(2/N) factor (min-norm predictions do not depend on a global "
        "scale of the features): rel diff checks that too.", width))
    print("-" * width)
    print(f"{'N':>6}{'N/n':>6}{'feat s':>7}{'lstsq s':>8}{'implreg':>8} "
          f"{'meth':<5}{'cond':>8}{'test MSE':>9}{'rel diff':>9}"
          f"{'allowed':>8} ok")
    far_worst, near_bad, near_rows = 0.0, 0, []
    for g, N in enumerate(grid):
        mse_n, cond, tf, ts = npy[g, 1], npy[g, 3], npy[g, 4], npy[g, 5]
        mse_i, tg, tsol = imp[g, 1], imp[g, 7], imp[g, 8]
        rel = abs(mse_i - mse_n) / mse_n
        near = abs(N - n) < NEAR * n - 1e-9  # |N/n - 1| < 0.1 exactly
        allowed = (max(AGREE_TOL, ALLOW_C * EPS * cond * cond) if near
                   else AGREE_TOL)
        ok = rel <= allowed
        if near:
            near_bad += not ok
            near_rows.append((N, rel, cond))
        else:
            far_worst = max(far_worst, rel)
        print(f"{N:6d}{N / n:6.2f}{tf:7.3f}{ts:8.3f}{tg + tsol:8.3f} "
              f"{METH_NAME.get(int(meths[g]), '?'):<5}{cond:8.1e}"
              f"{mse_i:9.4g}{rel:9.1e}{allowed:8.0e} {'yes' if ok else 'NO'}")

    tn, tn_feat, tn_sol = (res.get(k) for k in
                           ("numpy.sweep", "numpy.features", "numpy.solves"))
    ti_feat, ti_cos, ti_sweep, t_dgemm = (
        res.get(k) for k in ("implreg.features", "implreg.features_cos",
                             "implreg.sweep", "implreg.dgemm2000"))
    if None in (tn, tn_feat, tn_sol, ti_feat, ti_cos, ti_sweep, t_dgemm):
        sys.exit("bench_double_descent.py: missing timings in " + args.results)
    ti = ti_feat + ti_sweep
    rate = 2.0 * 2000 ** 3 / t_dgemm / 1e9
    fl = implreg_flops(n, nt, d, K, grid, meths)
    fl_feat = features_flops(n, nt, d, grid[-1])
    fl_npfeat = sum(features_flops(n, nt, d, N) for N in grid)
    fl_np = numpy_flops(n, nt, d, K, grid)
    chol = [g for g in range(len(grid)) if meths[g] == 1]
    csne = [g for g in range(len(grid)) if meths[g] == 5]
    svd = [g for g in range(len(grid)) if meths[g] not in (1, 5)]
    near = csne + svd  # the points next to the threshold
    print("-" * width)
    print(textwrap.fill(
        "Where the time goes.  GFLOP: flop count of the stage (formulas: "
        "implreg_flops and dgelsd_flops in bench_double_descent.py; cos not "
        "counted); % dgemm: its rate against a 2000x2000 dgemm through the "
        f"same OpenBLAS, {rate:.1f} GFLOP/s (best of 3, {t_dgemm:.3f} s).",
        width))
    print("-" * width)
    print(f"{'stage':<44}{'seconds':>9}{'GFLOP':>8}{'GFLOP/s':>9}"
          f"{'% dgemm':>9}")

    def stage(label, t, f):
        if not f:  # not counted
            print(f"{label:<44}{t:9.3f}{'-':>8}")
            return
        r = f / t / 1e9
        print(f"{label:<44}{t:9.3f}{f / 1e9:8.1f}{r:9.1f}{100 * r / rate:8.0f}%")
    stage("implreg features once: dgemm", ti_feat - ti_cos, fl_feat)
    stage("implreg features once: cos (1 thread)", ti_cos, 0)
    stage("implreg grow (dsyrk + primal block)", float(imp[:, 7].sum()),
          sum(f[0] for f in fl))
    stage(f"implreg minnorm at {len(chol)} Cholesky points",
          float(imp[chol, 8].sum()), sum(fl[g][1] for g in chol))
    if csne:
        stage(f"implreg minnorm at {len(csne)} CSNE points",
              float(imp[csne, 8].sum()), sum(fl[g][1] for g in csne))
    if svd:
        stage(f"implreg minnorm at {len(svd)} SVD/COD points",
              float(imp[svd, 8].sum()), sum(fl[g][1] for g in svd))
    stage("implreg sweep (grow + minnorm)", ti_sweep, sum(map(sum, fl)))
    stage("implreg total", ti, fl_feat + sum(map(sum, fl)))
    stage("numpy features (recomputed per point)", tn_feat, fl_npfeat)
    stage("numpy lstsq + predictions", tn_sol, fl_np - fl_npfeat)
    stage(f"  of which at implreg's {len(near)} non-Cholesky points",
          float(npy[near, 5].sum()),
          sum(dgelsd_flops(n, grid[g], K) + 2.0 * nt * grid[g] * K
              for g in near))
    stage("numpy total", tn, fl_np)
    print("-" * width)
    speed, speed_sol = tn / ti, tn_sol / ti_sweep
    cn = cpu.get("numpy.sweep")
    ci = (cpu.get("implreg.features") or math.nan) + \
        (cpu.get("implreg.sweep") or math.nan)
    print(f"numpy {tn:.3f} s ({tn_feat:.3f} s features, {tn_sol:.3f} s "
          f"solves); implreg {ti:.3f} s ({ti_feat:.3f} s")
    print(f"features, {ti_sweep:.3f} s sweep).  Without features: "
          f"{speed_sol:.2f}x; ratio of CPU seconds")
    print(f"(all threads, for information on a shared machine): "
          f"{cn / ci if cn else math.nan:.2f}x.")
    print("All runs (seconds): numpy " + ", ".join(f"{t:.2f}" for t in runs_n)
          + "; implreg " + ", ".join(f"{t:.2f}" for t in runs_i) + ".")
    missed = 0

    def goal(text, ok):
        nonlocal missed
        missed += not ok
        print(f"{text:<66}{'GOAL MET' if ok else 'GOAL MISSED'}")
    goal(f"speedup, features included: {speed:.2f}x (goal >= {SPEED_GOAL:g}x)",
         speed >= SPEED_GOAL)
    goal(f"test MSE where |N/n - 1| >= {NEAR}: max rel diff {far_worst:.1e} "
         f"(<= {AGREE_TOL:g})", far_worst <= AGREE_TOL)
    worst = max(near_rows, key=lambda r: r[1]) if near_rows else (0, 0.0, 0.0)
    print(f"test MSE where |N/n - 1| < {NEAR}: worst {worst[1]:.1e} at "
          f"N = {worst[0]} (cond {worst[2]:.1e});")
    goal(f"  {len(near_rows) - near_bad} of {len(near_rows)} points within "
         f"max({AGREE_TOL:g}, {ALLOW_C:g} eps cond^2)", near_bad == 0)
    print("=" * width)
    print("all goals met" if missed == 0 else f"{missed} goal(s) missed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--n", type=int, default=1000)
    g.add_argument("--ntest", type=int, default=2000)
    g.add_argument("--Nmax", type=int, default=10000)
    g.add_argument("--points", type=int, default=28)
    g.add_argument("--fashion", default=FASHION)
    s = sub.add_parser("sweep")
    s.add_argument("dir")
    s.add_argument("--tag", default="1")
    r = sub.add_parser("report")
    r.add_argument("dir")
    r.add_argument("results")
    r.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    {"info": cmd_info, "gen": cmd_gen, "sweep": cmd_sweep,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
