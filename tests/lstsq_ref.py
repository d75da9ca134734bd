#!/usr/bin/env python3
"""lstsq_ref.py — `implreg minnorm` against numpy.linalg.lstsq(rcond=None).

Usage: lstsq_ref.py IMPLREG WORKDIR

Generates (fixed seed) well-conditioned problems of every shape (n < p,
n = p, n > p; K = 1 and K = 3) and rank-deficient ones, saves them as .npy
(and once as CSV and once in Fortran order), runs `implreg minnorm` with
--method svd (the default) and cod (and gram where X has full rank), and
requires

    ||W_implreg - W_numpy||_F / ||W_numpy||_F <= 1e-10

where W_numpy = numpy.linalg.lstsq(X, Y, rcond=None)[0], the minimum-norm
least-squares solution with numpy's default cutoff eps * max(n, p) (the
cutoff implreg uses by default).  Also checks the rank implreg reports,
--intercept against lstsq on [X 1], --ridge against the closed form from
numpy's SVD, and that --method gram refuses a rank-deficient X (exit 2).

Exit status: 0 all passed, 1 a case failed, 77 numpy is not installed
(automake's "skipped"), 99 bad usage.
"""
import json
import os
import subprocess
import sys

TOL = 1e-10


def main():
    if len(sys.argv) != 3:
        print("usage: lstsq_ref.py IMPLREG WORKDIR", file=sys.stderr)
        return 99
    try:
        import numpy as np
    except ImportError:
        print("lstsq_ref: SKIP: numpy is not installed for %s" % sys.executable)
        return 77
    implreg, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(20240611)
    results = {"pass": 0, "fail": 0}

    def report(ok, label, detail=""):
        if ok:
            results["pass"] += 1
        else:
            results["fail"] += 1
            print("FAIL %s%s" % (label, ": " + detail if detail else ""))

    def orth(m, r):
        q, _ = np.linalg.qr(rng.standard_normal((m, r)))
        return q

    def well_conditioned(n, p, cond=10.0):
        r = min(n, p)
        s = 3.0 * np.geomspace(1.0, 1.0 / cond, r)
        return (orth(n, r) * s) @ orth(p, r).T

    def rank_deficient(n, p, r):
        return rng.standard_normal((n, r)) @ rng.standard_normal((r, p))

    def run(args):
        cmd = [implreg, "minnorm", "--quiet"] + args
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        return p.returncode, p.stdout, p.stderr, " ".join(["implreg"] + cmd[1:])

    def load(path):
        if path.endswith(".npy"):
            return np.load(path)
        with open(path) as f:
            first = f.readline().split(",")
        try:
            [float(v) for v in first]
            skip = 0
        except ValueError:
            skip = 1  # a header line
        return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=skip)

    def relerr(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    def safe(label):
        for a, b in ((" ", "_"), ("<", "lt"), (">", "gt"), ("=", "eq")):
            label = label.replace(a, b)
        return label

    def solve_and_compare(label, xpath, ypath, ref, rank, extra=(),
                          out_ext=".npy", shape=None):
        out = os.path.join(work, safe(label) + out_ext)
        diag = os.path.join(work, safe(label) + ".json")
        rc, so, se, cmd = run(["--X", xpath, "--Y", ypath, "--out", out,
                               "--diagnostics", diag] + list(extra))
        if rc != 0:
            report(False, label, "exit %d from %s; stderr: %s"
                   % (rc, cmd, se.strip()))
            return
        W = load(out)
        want = shape if shape is not None else ref.shape
        if W.shape != want:
            report(False, label, "W has shape %s, expected %s (%s)"
                   % (W.shape, want, cmd))
            return
        err = relerr(W, ref)
        report(err <= TOL, label, "relative error %.3g > %g (%s)"
               % (err, TOL, cmd))
        if rank is not None:
            with open(diag) as f:
                d = json.load(f)
            report(d.get("rank") == rank, label + " (rank)",
                   "implreg reports rank %s, expected %d" % (d.get("rank"), rank))

    def save(name, a, fortran=False):
        path = os.path.join(work, name + ".npy")
        np.save(path, np.asfortranarray(a) if fortran else np.ascontiguousarray(a))
        return path

    cases = [
        # label, X, K, rank (None: full), variants
        ("n<p K=1", well_conditioned(20, 50), 1, None),
        ("n<p K=3", well_conditioned(20, 50), 3, None),
        ("n=p K=1", well_conditioned(30, 30), 1, None),
        ("n=p K=3", well_conditioned(30, 30), 3, None),
        ("n>p K=1", well_conditioned(60, 15), 1, None),
        ("n>p K=3", well_conditioned(60, 15), 3, None),
        ("rank-deficient n>p K=2", rank_deficient(40, 30, 10), 2, 10),
        ("rank-deficient n<p K=1", rank_deficient(20, 50, 6), 1, 6),
        ("rank-deficient n=p K=3", rank_deficient(25, 25, 12), 3, 12),
    ]
    for label, X, K, rank in cases:
        n, p = X.shape
        Y = rng.standard_normal((n, K))
        ref, _, nrank, _ = np.linalg.lstsq(X, Y, rcond=None)
        if rank is not None and nrank != rank:
            print("lstsq_ref: internal: numpy finds rank %d for %s, built %d"
                  % (nrank, label, rank), file=sys.stderr)
            return 99
        tag = safe(label)
        xpath = save(tag + "_X", X, fortran=(label == "n=p K=1"))
        # K = 1: Y as a 1-D array (implreg reads it as n x 1).
        ypath = save(tag + "_Y", Y[:, 0] if K == 1 else Y)
        r = rank if rank is not None else min(n, p)
        solve_and_compare(label + " svd", xpath, ypath, ref, r)
        solve_and_compare(label + " cod", xpath, ypath, ref, r,
                          extra=["--method", "cod"])
        if rank is None:
            solve_and_compare(label + " gram", xpath, ypath, ref, None,
                              extra=["--method", "gram"])
        else:
            out = os.path.join(work, tag + "_gram.csv")
            rc, so, se, cmd = run(["--X", xpath, "--Y", ypath, "--out", out,
                                   "--method", "gram"])
            report(rc == 2 and "--method svd" in se and not os.path.exists(out),
                   label + " gram refused",
                   "exit %d, stderr %r, output written: %s (%s)"
                   % (rc, se.strip(), os.path.exists(out), cmd))

        if label == "n>p K=3":
            # CSV in (%.17g round-trips exactly) and CSV out.
            xc = os.path.join(work, tag + "_X.csv")
            yc = os.path.join(work, tag + "_Y.csv")
            np.savetxt(xc, X, fmt="%.17g", delimiter=",")
            np.savetxt(yc, Y, fmt="%.17g", delimiter=",",
                       header=",".join("y%d" % (k + 1) for k in range(K)),
                       comments="")
            solve_and_compare(label + " csv", xc, yc, ref, r, out_ext=".csv")
        if label == "n<p K=3":
            X1 = np.hstack([X, np.ones((n, 1))])
            ref1 = np.linalg.lstsq(X1, Y, rcond=None)[0]
            solve_and_compare(label + " intercept", xpath, ypath, ref1, n,
                              extra=["--intercept"])
        if label in ("n<p K=3", "n>p K=1"):
            lams = [0.5, 2.0]
            U, s, Vt = np.linalg.svd(X, full_matrices=False)
            refs = [Vt.T @ np.diag(s / (s * s + lam)) @ U.T @ Y for lam in lams]
            # Ridge solutions side by side (CSV, with a header naming the
            # lambdas; cli_minnorm.sh checks --ridge with a .npy --out).
            solve_and_compare(label + " ridge", xpath, ypath, np.hstack(refs),
                              None, extra=["--ridge", "0.5,2"], out_ext=".csv")

    print("lstsq_ref: %d passed, %d failed" % (results["pass"], results["fail"]))
    return 0 if results["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
