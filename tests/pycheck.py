"""pycheck.py — what the Python test scripts share: PASS/FAIL lines (the
shell wrapper counts them), the exit status, and the skip (exit 77) when a
package the script needs is not importable."""
import importlib
import sys

_failed = False


def require(*modules):
    """Imports the modules, or prints SKIP and exits 77 (automake's skip)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            print("SKIP %s not importable: %s" % (name, e))
            sys.exit(77)


def check(label, ok, why=""):
    """One PASS/FAIL line; on FAIL the reason on the next line."""
    global _failed
    print(("PASS " if ok else "FAIL ") + label)
    if not ok:
        _failed = True
        print("  " + str(why))


def finish():
    """Exits 1 when a check failed, else 0."""
    sys.exit(1 if _failed else 0)
