"""implreg.run — any analysis of the `implreg` command from Python, with
its tables and checks back as Python objects.

    r = implreg.run("double-descent", quick=True, out="dd")
    r.passed, r.checks[0]["claim"], r.tables["model"]["test_mse"]

Design: the analysis runs in a child process of the `implreg` program
built with this package (the same code as the command line), not inside
the interpreter.  An analysis owns process-wide state that must not leak
into a notebook: the BLAS thread count, signal handlers that make an
interrupted run clean up, forked workers for sweeps, gnuplot children.  A
child also keeps a crash or a Ctrl-C in a long sweep from taking the
notebook down.  The cost is one process start (about 10 ms) per run.
Progress lines go to sys.stderr as they come.
"""
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from ._lib import ImplregError, ImplregValueError


def _program():
    """The implreg program: $IMPLREG_BIN; the build tree this package sits
    in; <prefix>/bin beside an installed package; then $PATH."""
    env = os.environ.get("IMPLREG_BIN")
    if env:
        return env
    here = pathlib.Path(__file__).resolve().parent
    for up in list(here.parents)[:3]:
        cand = up / "implreg"
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    for up in here.parents:
        if up.name == "lib":
            cand = up.parent / "bin" / "implreg"
            if cand.is_file():
                return str(cand)
            break
    found = shutil.which("implreg")
    if found:
        return found
    raise FileNotFoundError("implreg: the implreg program was not found "
                            "(set IMPLREG_BIN to its path)")


class Table:
    """One table of a run (its .csv): columns in order, rows as dicts;
    table[col] is the column as a numpy array (float when every value is
    a number or empty — empty is NaN — else a list of strings)."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path, newline="") as f:
            rd = csv.reader(f)
            self.columns = next(rd, [])
            self._raw = [row for row in rd]
        self.rows = [dict(zip(self.columns, r)) for r in self._raw]

    def __len__(self):
        return len(self._raw)

    def __getitem__(self, col):
        if col not in self.columns:
            raise KeyError("implreg: table %s has no column %r (columns: %s)"
                           % (self.name, col, ", ".join(self.columns)))
        j = self.columns.index(col)
        vals = [r[j] if j < len(r) else "" for r in self._raw]
        try:
            return np.array([float(v) if v != "" else np.nan for v in vals])
        except ValueError:
            return vals

    def __repr__(self):
        return "Table(%r, %d rows, columns=%s)" % (self.name, len(self),
                                                   self.columns)


def _checks(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for k in ("predicted", "measured", "tolerance"):
                try:
                    row[k] = float(row[k])
                except (KeyError, ValueError):
                    pass
            out.append(row)
    return out


class RunResult:
    """A finished run: out (its folder), checks (dicts: claim, source,
    predicted, measured, tolerance, verdict), passed, tables (name ->
    Table; "sub/name" for the analyses of `all`), manifest (a dict), the
    command and its exit status."""

    def __init__(self, out, argv, status):
        self.out, self.argv, self.status = out, argv, status
        self.checks = _checks(os.path.join(out, "checks.csv"))
        self.passed = all(c.get("verdict") == "PASS" for c in self.checks)
        self.tables = {}
        for root, _, files in os.walk(out):
            for fn in sorted(files):
                if fn.endswith(".csv") and fn != "checks.csv":
                    rel = os.path.relpath(os.path.join(root, fn), out)
                    self.tables[rel[:-4]] = Table(os.path.join(root, fn))
        mp = os.path.join(out, "manifest.json")
        self.manifest = json.load(open(mp)) if os.path.exists(mp) else None

    def __repr__(self):
        bad = sum(c.get("verdict") != "PASS" for c in self.checks)
        return "RunResult(%r, %d tables, %d checks, %d failed)" % (
            self.out, len(self.tables), len(self.checks), bad)


def _options(kw):
    args = []
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if v is None or v is False:
            continue
        if v is True:
            args.append(flag)
        elif isinstance(v, (list, tuple, np.ndarray)):
            args += [flag, ",".join(str(x) for x in v)]
        else:
            args += [flag, str(v)]
    return args


def run(analysis, *args, quick=False, out=None, quiet=True, program=None,
        **options):
    """Runs `implreg <analysis> [args...]` (args: a sub-command such as
    theory's "mp", or file operands) with the given options (keyword
    arguments: threads=2 → --threads 2, lrs=[0.1, 0.2] → --lrs 0.1,0.2,
    full=True → --full) into the folder out (None: a new temporary
    folder, kept) and returns a RunResult.  Progress goes to sys.stderr
    unless quiet.  A refused option or bad input raises ValueError with
    implreg's one-line message; a failed computation RuntimeError; a
    Ctrl-C stops the child cleanly and raises KeyboardInterrupt."""
    if not isinstance(analysis, str) or not analysis or \
            analysis.startswith("-"):
        raise ValueError("implreg: analysis %r; give a name such as "
                         "'double-descent' (implreg --help lists them)"
                         % (analysis,))
    if out is None:
        out = tempfile.mkdtemp(prefix="implreg-%s-" % analysis)
    out = os.fspath(out)
    argv = [program or _program(), analysis] + [str(a) for a in args] + \
        _options(dict(options, quick=bool(quick), out=out))
    if quiet:
        argv.append("--quiet")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    tail = []
    try:
        for line in proc.stderr:
            tail = (tail + [line.rstrip("\n")])[-20:]
            if not quiet:
                sys.stderr.write(line)
                sys.stderr.flush()
        stdout = proc.stdout.read()
        status = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(2)
        proc.wait()
        raise
    if status not in (0, 3):
        msg = next((t for t in reversed(tail) if t.strip()),
                   "implreg %s exited with status %d" % (analysis, status))
        if status == 2:
            raise ImplregValueError(msg, status)
        raise ImplregError(msg, status)
    r = RunResult(out, argv, status)
    r.stdout = stdout
    return r
