#!/usr/bin/python3
"""NumPy side of bench/minnorm: data, baselines, agreement and the table.

Subcommands (bench/minnorm calls them in this order):
  info                         OpenBLAS build and core NumPy uses
  gen DIR [--cases ...]        writes DIR/CASE.X.npy, CASE.Y.npy, lambdas.npy
  solve DIR CASE [--reps R]    numpy.linalg.lstsq, best of R
  ridge DIR CASE               L separate ridge solves (and scikit-learn's
                               Ridge(solver='svd') per lambda when installed)
  report DIR RESULTS           agreement checks and the table

Every measurement is printed as one line "name seconds"; other lines start
with '#'.  The same matrices are read by bench_minnorm.c.
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np

SEED = 20240601  # fixed, so every run times the same matrices
# Agreement threshold: relative Frobenius difference between two solutions of
# a well-conditioned problem (Gaussian X, cond ~ 6) computed by different
# LAPACK drivers.  Differences are ~1e-13; 1e-8 flags a real error.
AGREE_TOL = 1e-8
# Both sides of the svd row call the same LAPACK driver (dgelsd) on the same
# OpenBLAS, so the expected ratio is 1; a miss by less than this is flagged as
# such (run-to-run noise on a shared 2-core machine is of this order).
NOISE_RATIO = 0.95
# The ridge path against the 50 separate solves: at least this many times
# faster than NumPy's (issue 13) and than the same solves in C.
GOAL_NUMPY = 12.0
GOAL_C = 10.0
# scikit-learn's Ridge(solver='svd') refactors X for every lambda: only this
# many fits are timed, and the time is scaled to the whole path.
SKLEARN_FITS = 2


def openblas_info():
    """Config string, core name and thread count of the OpenBLAS NumPy uses,
    read from the library NumPy actually loaded (not from np.show_config(),
    which reports build-time metadata only)."""
    np.linalg.lstsq(np.eye(2), np.ones(2), rcond=None)  # binds LAPACK
    paths = []
    with open("/proc/self/maps") as f:
        for line in f:
            part = line.split()
            if len(part) >= 6 and ("openblas" in part[5] or "libblas" in part[5]):
                if part[5] not in paths:
                    paths.append(part[5])
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
        except (OSError, AttributeError):
            continue
        return (path, lib.openblas_get_config().decode(),
                lib.openblas_get_corename().decode(),
                lib.openblas_get_num_threads())
    return ("?", "not OpenBLAS? loaded: " + " ".join(paths), "?", -1)


def cmd_info(_args):
    path, config, core, threads = openblas_info()
    print(f"# numpy {np.__version__} ({sys.executable})")
    print(f"# openblas_lib {path}")
    print(f"# openblas_config {config}")
    print(f"# openblas_corename {core}")
    print(f"# openblas_threads {threads}")
    try:
        import sklearn
        print(f"# sklearn {sklearn.__version__}")
    except ImportError:
        print("# sklearn not installed (its Ridge baseline is skipped)")


def parse_case(name):
    n, p = name.split("x")
    return int(n), int(p)


def case_path(d, case, suffix):
    return os.path.join(d, f"{case}.{suffix}")


def cmd_gen(args):
    rng = np.random.default_rng(SEED)
    for case in args.cases.split(","):
        n, p = parse_case(case)
        X = rng.standard_normal((n, p))
        Y = rng.standard_normal((n, args.K))
        np.save(case_path(args.dir, case, "X.npy"), X)
        np.save(case_path(args.dir, case, "Y.npy"), Y)
    # lambda spans the squared singular values of the Gaussian X (~3e2..1e4):
    # from nearly the pseudo-inverse to heavy shrinkage.
    lam = np.logspace(-2, 5, args.nlam)
    np.save(os.path.join(args.dir, "lambdas.npy"), lam)
    print(f"# data seed={SEED} cases={args.cases} K={args.K} "
          f"lambdas={args.nlam} in [{lam[0]:g}, {lam[-1]:g}]")


def load(d, case):
    return (np.load(case_path(d, case, "X.npy")),
            np.load(case_path(d, case, "Y.npy")))


def best_of(reps, f):
    """Best wall time of reps calls, the CPU time (all threads) of that call,
    and the result."""
    best, best_cpu, out = float("inf"), float("nan"), None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if t < best:
            best, best_cpu = t, c
    return best, best_cpu, out


def cmd_solve(args):
    X, Y = load(args.dir, args.case)
    t, c, res = best_of(args.reps,
                        lambda: np.linalg.lstsq(X, Y, rcond=None))
    W, _, rank, _ = res
    print(f"numpy.lstsq.{args.case} {t:.6f}")
    print(f"# numpy.lstsq.{args.case} cpu={c:.3f} rank={rank}")
    np.save(case_path(args.dir, args.case, "W.numpy.lstsq.npy"), W)


def ridge_separate(X, Y, lam):
    """What users write: one solve per lambda, forming the Gram matrix each
    time (primal form for n >= p, dual form for n < p)."""
    n, p = X.shape
    out = np.empty((len(lam), p, Y.shape[1]))
    for i, l in enumerate(lam):
        if n >= p:
            out[i] = np.linalg.solve(X.T @ X + l * np.eye(p), X.T @ Y)
        else:
            out[i] = X.T @ np.linalg.solve(X @ X.T + l * np.eye(n), Y)
    return out


def cmd_ridge(args):
    X, Y = load(args.dir, args.case)
    lam = np.load(os.path.join(args.dir, "lambdas.npy"))
    t, c, Ws = best_of(1, lambda: ridge_separate(X, Y, lam))
    print(f"numpy.ridge_separate.{args.case} {t:.6f}")
    print(f"# numpy.ridge_separate.{args.case} cpu={c:.3f} lambdas={len(lam)}")
    np.save(case_path(args.dir, args.case, "ridge.numpy.separate.npy"),
            Ws.reshape(-1, Y.shape[1]))
    try:
        from sklearn.linear_model import Ridge
    except ImportError:
        return
    # One full SVD per fit makes 50 fits far too long for the time budget:
    # time SKLEARN_FITS of them and scale to the whole path.
    fits = lam[:SKLEARN_FITS]

    def fit_some():
        for l in fits:
            Ridge(alpha=l, solver="svd", fit_intercept=False).fit(X, Y)
    t, c, _ = best_of(1, fit_some)
    scale = len(lam) / len(fits)
    print(f"sklearn.ridge_svd_separate.{args.case} {t * scale:.6f}")
    print(f"# sklearn.ridge_svd_separate.{args.case} extrapolated from "
          f"{len(fits)} fits ({t:.3f} s, cpu={c:.3f})")


def rel_diff(A, B):
    nb = np.linalg.norm(B)
    return np.linalg.norm(A - B) / nb if nb > 0 else np.linalg.norm(A)


def read_results(path):
    """(seconds, cpu): name -> wall seconds from the "name seconds" lines of
    both programs, and name -> CPU seconds from their "# name cpu=..." lines."""
    res, cpu = {}, {}
    with open(path) as f:
        for line in f:
            part = line.split()
            if len(part) == 2 and not line.startswith("#"):
                try:
                    res[part[0]] = float(part[1])
                except ValueError:
                    pass
            elif len(part) >= 3 and part[0] == "#" and part[2].startswith("cpu="):
                try:
                    cpu[part[1]] = float(part[2][4:])
                except ValueError:
                    pass
    return res, cpu


def fmt_t(x):
    return f"{x:9.3f}" if x is not None else "        -"


def cmd_report(args):
    res, cpu = read_results(args.results)
    d = args.dir
    cases = [c for c in args.cases.split(",") if c]
    ridge_cases = [c for c in args.ridge_cases.split(",") if c]
    width = 79
    print("=" * width)
    missed = 0
    if cases:
        print("One-shot minimum-norm solve W = X+ Y, K = %d right-hand sides "
              "(best of %d)" % (args.K, args.reps))
        print("ratio = numpy seconds / implreg seconds (> 1: implreg faster); "
              "agreement =")
        print("||W_implreg - W_numpy||_F / ||W_numpy||_F; cpu ratio = the same "
              "ratio of CPU")
        print("seconds (all threads; for information, when the machine is shared)")
        print("-" * width)
        print(f"{'case':<17}{'numpy s':>9}{'implreg s':>11}{'ratio':>8}"
              f"{'cpu ratio':>10}{'agreement':>11}  goal")
        missed = 0
        for case in cases:
            tn = res.get(f"numpy.lstsq.{case}")
            Wn_path = case_path(d, case, "W.numpy.lstsq.npy")
            Wn = np.load(Wn_path) if os.path.exists(Wn_path) else None
            for method in ("svd", "cod", "gram"):
                ti = res.get(f"implreg.{method}.{case}")
                wp = case_path(d, case, f"W.implreg.{method}.npy")
                agree = (rel_diff(np.load(wp), Wn)
                         if Wn is not None and os.path.exists(wp) else None)
                ratio = tn / ti if tn and ti else None
                cn = cpu.get(f"numpy.lstsq.{case}")
                ci = cpu.get(f"implreg.{method}.{case}")
                cratio = cn / ci if cn and ci else None
                label = f"{case} {method}"
                goal = ""
                if method == "svd":
                    # The goal is stated for the default method (what
                    # `implreg minnorm` runs); cod and gram are for information.
                    ok = (ratio is not None and ratio >= 1.0 and agree is not None
                          and agree <= AGREE_TOL)
                    goal = "GOAL MET" if ok else "GOAL MISSED"
                    if not ok and ratio is not None and ratio >= NOISE_RATIO:
                        goal += f" (by < {100 * (1 - NOISE_RATIO):.0f}%)"
                    missed += not ok
                else:
                    goal = "(info)"
                print(f"{label:<17}{fmt_t(tn)}{fmt_t(ti):>11}"
                      f"{(f'{ratio:8.2f}' if ratio else '       -')}"
                      f"{(f'{cratio:10.2f}' if cratio else '         -')}"
                      f"{(f'{agree:11.1e}' if agree is not None else '          -')}"
                      f"  {goal}")
    if ridge_cases:
        nl = len(np.load(os.path.join(d, "lambdas.npy")))
        print("-" * width)
        print(f"Ridge path, {nl} values of lambda.  implreg path = ir_ridge: one "
              "tridiagonal")
        print(f"reduction of the smaller Gram matrix (dsytrd), all {nl} values "
              f"at once, residuals")
        print(f"included (best of {args.reps}); the rows below it are {nl} "
              "separate solves forming the")
        print("Gram matrix each time (timed once).  speedup = their seconds / "
              "implreg path")
        print(f"seconds (goal >= {GOAL_NUMPY:g} against NumPy, issue 13; >= "
              f"{GOAL_C:g} against C).  The SVD path")
        print("(ir_minnorm_factor + ir_minnorm_ridge, timed once) is for "
              "information; its")
        print("speedup is numpy separate / SVD path.  agreement = max over "
              "lambda of the")
        print("relative difference to numpy's separate solves.")
        print("-" * width)
        print(f"{'case':<36}{'seconds':>9}{'speedup':>9}{'agreement':>11}  goal")
        for case in ridge_cases:
            Wref_p = case_path(d, case, "ridge.numpy.separate.npy")
            Wref = np.load(Wref_p) if os.path.exists(Wref_p) else None
            p = parse_case(case)[1]

            def agree_of(name):
                wp = case_path(d, case, name) if name else None
                if Wref is None or wp is None or not os.path.exists(wp):
                    return None
                A = np.load(wp).reshape(nl, p, -1)
                B = Wref.reshape(nl, p, -1)
                return max(rel_diff(A[i], B[i]) for i in range(nl))

            def row(label, t, sp, agree, goal):
                print(f"{case + ' ' + label:<36}{fmt_t(t)}"
                      f"{(f'{sp:9.1f}' if sp else '        -')}"
                      f"{(f'{agree:11.1e}' if agree is not None else '          -')}"
                      f"  {goal}")

            tp = res.get(f"implreg.ridge_path.{case}")
            row("implreg path (ir_ridge)", tp, None,
                agree_of("ridge.implreg.path.npy"), "")
            for key, label, wname, is_goal in (
                    ("numpy.ridge_separate", "  vs numpy separate", None, True),
                    ("implreg.ridge_separate", "  vs C separate (syrk+posv)",
                     "ridge.implreg.separate.npy", True),
                    ("sklearn.ridge_svd_separate",
                     "  vs sklearn Ridge(svd) (extrap.)", None, False)):
                ts = res.get(f"{key}.{case}")
                if ts is None:
                    continue
                sp = ts / tp if tp else None
                goal = "(info)"
                if is_goal:
                    goal_x = GOAL_NUMPY if key.startswith("numpy") else GOAL_C
                    ok = sp is not None and sp >= goal_x
                    goal = "GOAL MET" if ok else "GOAL MISSED"
                    missed += not ok
                row(label, ts, sp, agree_of(wname), goal)
            tsvd = res.get(f"implreg.ridge_svd_path.{case}")
            tnum = res.get(f"numpy.ridge_separate.{case}")
            if tsvd is not None:
                row("SVD path (ir_minnorm_ridge)", tsvd,
                    tnum / tsvd if tnum else None,
                    agree_of("ridge.implreg.svdpath.npy"), "(info)")
    print("=" * width)
    print("all goals met" if missed == 0 else f"{missed} goal(s) missed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--cases", default="2000x4000,4000x2000")
    g.add_argument("--K", type=int, default=10)
    g.add_argument("--nlam", type=int, default=50)
    s = sub.add_parser("solve")
    s.add_argument("dir")
    s.add_argument("case")
    s.add_argument("--reps", type=int, default=3)
    r = sub.add_parser("ridge")
    r.add_argument("dir")
    r.add_argument("case")
    rep = sub.add_parser("report")
    rep.add_argument("dir")
    rep.add_argument("results")
    rep.add_argument("--cases", default="2000x4000,4000x2000")
    rep.add_argument("--ridge-cases", default="2000x4000,4000x2000")
    rep.add_argument("--K", type=int, default=10)
    rep.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    {"info": cmd_info, "gen": cmd_gen, "solve": cmd_solve, "ridge": cmd_ridge,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
