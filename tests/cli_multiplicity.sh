#!/usr/bin/env bash
# cli_multiplicity.sh — `implreg hessian` returns the extreme eigenvalues
# with multiplicity on networks whose Hessians have exact repeated values:
#  - a linear network D-K with MSE: H = I_K ⊗ (2/(nK))·AᵀA, A = [X 1], every
#    eigenvalue K times; --top 12 against numpy's dense eigenvalues of that
#    Kronecker product (built independently, not from implreg's products);
#  - multinomial logistic regression (D-K, ce): adding one vector to every
#    class's weights changes no probability, so H has a null space of
#    dimension >= D + 1; --bottom 4 must be four zeros (|λ| <= 1e-9·λ_max).
# Before deflated Lanczos runs, the first case returned each value fewer
# than K times and the second non-zero values, all flagged converged.
if [ -n "${top_srcdir:-}" ]; then CLI_LIB=$top_srcdir/tests/cli_lib.sh
else CLI_LIB=$(dirname "$0")/cli_lib.sh; fi
# shellcheck source=tests/cli_lib.sh
. "$CLI_LIB" || exit 99
cli_init cli_multiplicity
PY=${PYTHON3:-python3}
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "cli_multiplicity: SKIP (no numpy for $PY)"
  exit 77
fi

# Data and weights: n = 300, D = 200, K = 5 (p = 1005: above 1000, where
# Lanczos keeps a basis of 2k + 20 vectors and restarts, as on real nets).
"$PY" - "$T" <<'PYEOF' || { echo "FAIL data"; exit 1; }
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
n, D, K = 300, 200, 5
X = rng.standard_normal((n, D))
lab = rng.integers(0, K, n)
Y = np.eye(K)[lab]
theta = 0.3 * rng.standard_normal(D * K + K)
np.save(d + "/X.npy", X); np.save(d + "/Y.npy", Y)
np.save(d + "/theta.npy", theta)
A = np.hstack([X, np.ones((n, 1))])
H = np.kron(np.eye(K), 2.0 / (n * K) * A.T @ A)   # torch MSELoss: mean over n·K
ev = np.sort(np.linalg.eigvalsh(H))[::-1]
np.savetxt(d + "/top12.txt", ev[:12], fmt="%.17g")
# A small logistic case (D = 8, p = 45): its bottom end, the null space of
# dimension 9, sits 0.06 below the first positive value (at p = 1005 the
# next values are 1e-5 above zero, and Lanczos converges there too slowly
# for a test).
n, D = 60, 8
np.save(d + "/Xs.npy", rng.standard_normal((n, D)))
np.save(d + "/lab.npy", rng.integers(0, K, n).astype(np.int64))
np.save(d + "/thetas.npy", 0.3 * rng.standard_normal(D * K + K))
PYEOF

run_ok "linear D-K, mse, top 12" "$T" hessian --arch 200-5 --act identity --loss mse \
  --params theta.npy --X X.npy --Y Y.npy --top 12 --out mse --quiet
checker "top 12 with multiplicity" "$PY" - "$T" <<'PYEOF'
import csv, sys, numpy as np
d = sys.argv[1]
want = np.loadtxt(d + "/top12.txt")
rows = [r for r in csv.DictReader(open(d + "/mse/eigenvalues.csv")) if r["end"] == "top"]
got = np.array([float(r["eigenvalue"]) for r in rows])
ok = len(got) == 12 and np.max(np.abs(got - want)) <= 1e-9 * want[0]
print(("PASS" if ok else "FAIL") + " top 12 = numpy's eigenvalues of I_5 (x) (2/(nK)) A'A")
if not ok:
    print("  got  ", got); print("  want ", want)
ok = all(r["converged"] == "yes" for r in rows)
print(("PASS" if ok else "FAIL") + " every pair converged")
PYEOF

run_ok "logistic D-K, ce, bottom 4" "$T" hessian --arch 8-5 --act identity --loss ce \
  --params thetas.npy --X Xs.npy --Y lab.npy --top 1 --bottom 4 --out ce --quiet
checker "bottom 4 in the null space" "$PY" - "$T" <<'PYEOF'
import csv, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/ce/eigenvalues.csv")))
top = [float(r["eigenvalue"]) for r in rows if r["end"] == "top"][0]
bot = [float(r["eigenvalue"]) for r in rows if r["end"] == "bottom"]
ok = len(bot) == 4 and max(abs(b) for b in bot) <= 1e-9 * top
print(("PASS" if ok else "FAIL") + " bottom 4 are zeros (|lambda| <= 1e-9 lambda_max)")
if not ok:
    print("  bottom", bot, "top", top)
PYEOF
cli_summary
