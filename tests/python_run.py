#!/usr/bin/env python3
"""python_run.py — implreg.run: an analysis run from Python returns the
tables and checks it wrote (the model table against numpy's own reading of
the CSV, the checks against checks.csv, the manifest), the same bits on a
second run, a check broken on purpose (IMPLREG_BREAK) seen as FAIL with
exit status 0, and refused options or analyses as ValueError with
implreg's message.  PASS/FAIL lines."""
import os
import shutil
import sys
import tempfile

import numpy as np
from pycheck import check, finish

import implreg


tmp = tempfile.mkdtemp()
out = os.path.join(tmp, "dd")
r = implreg.run("double-descent", quick=True, out=out, threads=1)
check("run: the folder asked for, a manifest of double-descent",
      r.out == out and r.manifest["analysis"] == "double-descent", r)
csvs = sorted(f[:-4] for f in os.listdir(out)
              if f.endswith(".csv") and f != "checks.csv")
check("run: one Table per CSV", sorted(r.tables) == csvs,
      (sorted(r.tables), csvs))
ref = np.genfromtxt(os.path.join(out, "model.csv"), delimiter=",",
                    names=True)
check("run: model.test_mse = numpy's reading of model.csv",
      np.array_equal(r.tables["model"]["test_mse"], ref["test_mse"]) and
      len(r.tables["model"]) == len(ref), r.tables["model"])
check("run: a text column comes back as strings",
      set(r.tables["model"]["method"]) <= {"cholesky", "svd", "cod",
                                           "gram", "csne", "qr"},
      r.tables["model"]["method"][:3])
nrows = sum(1 for _ in open(os.path.join(out, "checks.csv"))) - 1
check("run: every check of checks.csv, all PASS (%d)" % len(r.checks),
      len(r.checks) == nrows and nrows > 0 and r.passed and
      all(isinstance(c["measured"], float) for c in r.checks), r.checks[:2])
r2 = implreg.run("double-descent", quick=True, threads=1,
                 out=os.path.join(tmp, "dd2"))
same = all(open(os.path.join(out, n + ".csv")).read() ==
           open(os.path.join(tmp, "dd2", n + ".csv")).read() for n in csvs)
check("run: a second run gives the same tables bit for bit", same)
os.environ["IMPLREG_BREAK"] = "test-mse"
try:
    r3 = implreg.run("double-descent", quick=True, threads=1,
                     out=os.path.join(tmp, "broken"))
finally:
    del os.environ["IMPLREG_BREAK"]
check("run: a broken computation shows as FAIL (exit 0 without --strict)",
      not r3.passed and r3.status == 0 and
      any(c["verdict"] == "FAIL" for c in r3.checks), r3)
for args, kw, word in ((("double-descent",), {"bogus": 1}, "bogus"),
                       (("no-such-analysis",), {}, "no-such-analysis"),
                       (("--out",), {}, "analysis")):
    try:
        implreg.run(*args, **kw)
        check("run: %s refused" % word, False, "no error")
    except ValueError as e:
        check("run: %s refused with the message" % word, word in str(e),
              str(e))
shutil.rmtree(tmp)
finish()
