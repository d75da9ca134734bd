#!/bin/bash
# cli_hessian.sh — `implreg hessian` and `implreg train` through the command
# line.
#
# Bad input and bad usage (the network options, θ files, data files, CE
# labels, the curvature and training options): exit status exactly 2,
# exactly one stderr line that starts with 'implreg' and names what is
# wrong, nothing on stdout, no file left in the run folder (tests/cli_lib.sh:
# expect_fail); a few of them again under valgrind when VALGRIND is set.
#
# Results: `train` on the teacher data writes its log, summary and a θ file
# numpy reads as a 1-D float64 array of the right length, with every check
# passing under --strict; `hessian` on that θ with every estimator writes
# every table, and summary.json holds consistent values (top eigenvalues
# sorted with tiny residuals, the dense spectrum ascending, its maximum
# equal to the Lanczos one, the trace within its standard errors of the
# spectrum's sum, the same loss and sharpness as `train` reported);
# `--config DIR/manifest.json` repeats the run bit for bit; `--from-run
# DIR` and `--config DIR/manifest.json` of the train run measure the same
# network; .npz, torch.save and pickle files are refused with how to write
# .npy; heavy ball's edge of stability is taken against (2 + 2 beta)/eta;
# each IMPLREG_BREAK mutation of hessian (hvp-scale, hvp-asym, lanczos,
# quad) and of train (sharpness, lr, threshold) makes a named check FAIL
# under --strict (exit 3).  Against
# tests/net_ref.py, an independent numpy forward pass, backpropagation and
# finite-difference Hessian: loss, gradient norm, top eigenvalue and dense
# spectrum on a 3-5-4 tanh net with CE loss (labels as (n,) and as one-hot
# rows, which must give identical output), a 3-6-2 gelu net with mse, a
# 3-4-4-2 softplus net with half-mse and a 3-6-3 relu net with mse (with
# K = 3 outputs, where torch's MSELoss and half-mse differ); and against
# torch autograd when PYTHON3 can import torch (SKIP otherwise).
#
# Environment (Makefile.am AM_TESTS_ENVIRONMENT): IMPLREG, VALGRIND (or
# empty), PYTHON3 (or empty: the numpy checks are skipped, with a message),
# top_srcdir (for tests/cli_lib.sh and tests/net_ref.py; else the script's
# own folder), OPENBLAS_NUM_THREADS=1 (bit-identical reruns need the same
# thread count).  Writes only into a mktemp -d folder, removed on exit.
set -u

if [ -n "${top_srcdir:-}" ]; then TESTS_DIR=$top_srcdir/tests; else TESTS_DIR=$(dirname "$0"); fi
# shellcheck source=tests/cli_lib.sh
. "$TESTS_DIR/cli_lib.sh" || exit 99
cli_init cli_hessian
PYTHON3=${PYTHON3:-}
NET_REF=$TESTS_DIR/net_ref.py
IN=$T/in
mkdir "$IN" || exit 99

# ---- inputs (pure shell: no Python needed for the failure cases) --------------------

cd "$IN" || exit 99
# θ for 4-32-1: 193 zeros (the data of a .npy of doubles are raw bytes).
{ npy_header '<f8' '(193,)'; head -c $((193 * 8)) /dev/zero; } >th193.npy
npy_f8 '(5,)' 1 2 3 4 5 >th5.npy
npy_f8 '(4,)' 1 nan 3 4 >thnan.npy
npy_f8 '(193,)' 1 2 3 >thtrunc.npy
npy_f8 '(4, 3)' 1 2 3 4 5 6 7 8 9 10 11 12 >x3.npy
npy_f8 '(4, 4)' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 >x4.npy
npy_f8 '(4,)' 1 2 3 4 >y4.npy
npy_f8 '(3,)' 1 2 3 >y3.npy
# CE with --arch 3-5-3 (38 parameters): labels must be integers in 0..2.
{ npy_header '<f8' '(38,)'; head -c $((38 * 8)) /dev/zero; } >th38.npy
npy_f8 '(4,)' 0 1 7 2 >lab7.npy
printf '0\n1\n1.5\n2\n' >labfrac.csv
npy_f8 '(4,)' 0 -1 1 2 >labneg.npy
npy_f8 '(4, 2)' 1 0 0 1 1 0 0 1 >onehot2.npy
# Formats implreg does not read, by their first bytes: a zip (np.savez), a
# zip whose first entry is archive/data.pkl (torch.save), a pickle.
{ printf 'PK\003\004'; head -c 26 /dev/zero; printf 'theta.npy'; } >th.npz
{ printf 'PK\003\004'; head -c 26 /dev/zero; printf 'archive/data.pkl'; } >th.zip
cp th.zip th.pt
{ printf '\200\004\225'; head -c 40 /dev/zero; } >th.pkl
cd "$T" || exit 99
IN_BEFORE=$(snapshot "$IN")

OUT=@D@/OUT
H=(hessian --arch 4-32-1 --act tanh --loss half-mse)
HT=("${H[@]}" --data teacher --params "$IN/th193.npy" --out "$OUT")
HF=("${H[@]}" --params "$IN/th193.npy" --out "$OUT")
HC=(hessian --arch 3-5-3 --act tanh --loss ce --X "$IN/x3.npy" --params "$IN/th38.npy" --out "$OUT")
TR=(train --arch 4-32-1 --act tanh --loss half-mse --data teacher --out "$OUT")

# ---- hessian: the network and θ ------------------------------------------------------

expect_fail "hessian without --arch" 2 '--arch' 'required' -- hessian --data teacher --params "$IN/th193.npy" --out "$OUT"
expect_fail_novg "--arch 4-x-1" 2 "'4-x-1'" "'x-1'" -- hessian --arch 4-x-1 --data teacher --params "$IN/th193.npy" --out "$OUT"
expect_fail_novg "--arch 4 (no output width)" 2 "'4'" 'output' -- hessian --arch 4 --data teacher --params "$IN/th193.npy" --out "$OUT"
expect_fail_novg "--arch 4-0-1 (zero width)" 2 "'4-0-1'" 'width 0' -- hessian --arch 4-0-1 --data teacher --params "$IN/th193.npy" --out "$OUT"
expect_fail "--params missing" 2 '--params' 'required' -- "${H[@]}" --data teacher --out "$OUT"
expect_fail_novg "--params file does not exist" 2 '--params' 'nothere\.npy' -- "${H[@]}" --data teacher --params "$IN/nothere.npy" --out "$OUT"
expect_fail "theta of the wrong length" 2 'th5\.npy' '\b5 values' '\b193 parameters' '32\*4\+32 \+ 1\*32\+1' -- "${H[@]}" --data teacher --params "$IN/th5.npy" --out "$OUT"
expect_fail_novg "theta holding a NaN" 2 'thnan\.npy' '[Nn]a[Nn]' -- "${H[@]}" --data teacher --params "$IN/thnan.npy" --out "$OUT"
expect_fail_novg "truncated theta .npy" 2 'thtrunc\.npy' '[Tt]runcat' -- "${H[@]}" --data teacher --params "$IN/thtrunc.npy" --out "$OUT"
expect_fail ".npz weights: how to export .npy" 2 'th\.npz' 'np\.save' -- "${H[@]}" --data teacher --params "$IN/th.npz" --out "$OUT"
expect_fail_novg ".pt weights: how to export .npy" 2 'th\.pt' 'PyTorch' 'np\.save' -- "${H[@]}" --data teacher --params "$IN/th.pt" --out "$OUT"
expect_fail_novg "torch.save zip under another name" 2 'th\.zip' 'PyTorch' 'np\.save' -- "${H[@]}" --data teacher --params "$IN/th.zip" --out "$OUT"
expect_fail_novg "pickled weights: how to export .npy" 2 'th\.pkl' 'pickle' 'np\.save' -- "${H[@]}" --data teacher --params "$IN/th.pkl" --out "$OUT"
expect_fail_novg "--X as .npz" 2 '--X' 'th\.npz' 'np\.save' -- "${HF[@]}" --X "$IN/th.npz" --Y "$IN/y4.npy"
expect_fail_novg "train --init .pt" 2 '--init' 'PyTorch' -- "${TR[@]}" --lr 0.1 --init "$IN/th.pt"
expect_fail_novg "--from-run of a folder without manifest" 2 '--from-run' 'manifest\.json' -- hessian --from-run "$IN" --out "$OUT"
expect_fail_novg "--loss hinge" 2 "'hinge'" 'half-mse' -- "${HT[@]}" --loss hinge
expect_fail_novg "--act sigmoid" 2 "'sigmoid'" 'softplus' -- "${HT[@]}" --act sigmoid
expect_fail_novg "unknown option" 2 '--bogus' -- "${HT[@]}" --bogus
expect_fail_novg "stray argument" 2 "'stray'" -- "${HT[@]}" stray

# ---- hessian: the data ---------------------------------------------------------------

expect_fail_novg "--data nonsense" 2 "'nonsense'" 'teacher' -- "${HF[@]}" --data nonsense
expect_fail_novg "--data and --X together" 2 '--data' '--X' -- "${HT[@]}" --X "$IN/x4.npy" --Y "$IN/y4.npy"
expect_fail_novg "--X without --Y" 2 '--X' '--Y' -- "${HF[@]}" --X "$IN/x4.npy"
expect_fail_novg "no data at all" 2 '--data|--X' -- "${HF[@]}"
expect_fail_novg "--data teacher with 3 inputs" 2 'teacher' '3-8-1' '\b4\b' -- hessian --arch 3-8-1 --data teacher --params "$IN/th193.npy" --out "$OUT"
expect_fail "--X with 3 columns for --arch 4-32-1" 2 '3 columns' '4-32-1' '\b4 inputs' -- "${HF[@]}" --X "$IN/x3.npy" --Y "$IN/y4.npy"
expect_fail "X and Y row counts differ" 2 'x4\.npy' 'y3\.npy' '\b4 rows' '\b3\b' -- "${HF[@]}" --X "$IN/x4.npy" --Y "$IN/y3.npy"
expect_fail "CE label 7 with 3 classes" 2 'lab7\.npy' '\b7\b' '0\.\.2' -- "${HC[@]}" --Y "$IN/lab7.npy"
expect_fail_novg "CE label 1.5 (not an integer)" 2 'labfrac\.csv' '1\.5' -- "${HC[@]}" --Y "$IN/labfrac.csv"
expect_fail_novg "CE label -1" 2 'labneg\.npy' '-1' -- "${HC[@]}" --Y "$IN/labneg.npy"
expect_fail_novg "CE one-hot rows of 2 columns for 3 classes" 2 'onehot2\.npy' '2 columns' '\b3 outputs' -- "${HC[@]}" --Y "$IN/onehot2.npy"
expect_fail_novg "--loss ce with one output" 2 'ce' '\b2 outputs' -- "${HT[@]}" --loss ce

# ---- hessian: the curvature options -------------------------------------------------------

# 100*60+60 + 60+1 = 6121 parameters; the check is made while parsing, but
# the data must be valid for it to be reached.
expect_fail "--full with 6121 parameters" 2 '--full' '6000' '6121' -- hessian --arch 100-60-1 --data teacher --params "$IN/th193.npy" --full --out "$OUT"
expect_fail_novg "--top larger than p" 2 '--top' '\b193\b' -- "${HT[@]}" --top 194
expect_fail_novg "--bottom larger than p" 2 '--bottom' '\b193\b' -- "${HT[@]}" --bottom 194
expect_fail_novg "--tol 0" 2 '--tol' '\b0\b' -- "${HT[@]}" --tol 0
expect_fail_novg "--probes 1" 2 '--probes' '\b1\b' -- "${HT[@]}" --trace --probes 1
expect_fail_novg "--top abc" 2 '--top' 'abc' -- "${HT[@]}" --top abc
expect_fail_novg "--sigma2 -1" 2 '--sigma2' '-1' -- "${HT[@]}" --density --sigma2 -1
expect_fail_novg "--subset 0" 2 '--subset' '\b0\b' -- "${HT[@]}" --subset 0
expect_fail_novg "--top without its value" 2 '--top' -- "${HT[@]}" --top

# ---- train ------------------------------------------------------------------------------------

expect_fail "train without --lr" 2 '--lr' 'required' -- "${TR[@]}"
expect_fail_novg "train --lr -1" 2 '--lr' '-1' -- "${TR[@]}" --lr -1
expect_fail_novg "train --lr abc" 2 '--lr' "'abc'" -- "${TR[@]}" --lr abc
expect_fail_novg "train --lr 0" 2 '--lr' '\b0\b' -- "${TR[@]}" --lr 0
expect_fail_novg "train --momentum 1" 2 '--momentum' '\b1\b' -- "${TR[@]}" --lr 0.1 --momentum 1
expect_fail_novg "train --egr -1" 2 '--egr' '-1' -- "${TR[@]}" --lr 0.1 --egr -1
expect_fail_novg "train --batch abc" 2 '--batch' "'abc'" -- "${TR[@]}" --lr 0.1 --batch abc
expect_fail_novg "train --steps 0" 2 '--steps' '\b0\b' -- "${TR[@]}" --lr 0.1 --steps 0
expect_fail_novg "train without --arch" 2 '--arch' -- train --data teacher --lr 0.1 --out "$OUT"
expect_fail_novg "train --X-test without --Y-test" 2 '--X-test' '--Y-test' -- "${TR[@]}" --lr 0.1 --X-test x.npy
# The message must name the option the user gave (--init), the file and the
# expected count.
expect_fail "train --init of the wrong length" 2 '--init' 'th5\.npy' '\b193\b' -- "${TR[@]}" --lr 0.1 --steps 5 --init "$IN/th5.npy"
expect_fail_novg "train --init file does not exist" 2 '--init' 'nothere\.npy' -- "${TR[@]}" --lr 0.1 --steps 5 --init "$IN/nothere.npy"

# ---- train, then hessian on its weights ------------------------------------------------------

cd "$T" || exit 99
TRAIN=(train --arch 4-32-1 --act tanh --loss half-mse --data teacher --lr 0.3 --steps 3000 --sharpness)
D2ARGS=(hessian --arch 4-32-1 --act tanh --loss half-mse --data teacher --params D1/theta.npy
  --top 3 --bottom 2 --trace --hutchpp --density --full --power --strict)
if run_ok "train ${TRAIN[*]:1} --out D1 --strict" "$T" "${TRAIN[@]}" --out D1 --strict; then
  has_tables "train writes log.csv, summary.json, theta.npy" D1 log.csv summary.json theta.npy checks.csv manifest.json
  all_checks_pass "train: every check passes (checks.csv)" D1/checks.csv
fi
if [ -n "$PYTHON3" ] && [ -s D1/theta.npy ]; then
  checker "train's theta.npy and summary.json" "$PYTHON3" - D1 <<'EOF'
import json, sys
try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed"); sys.exit(77)
d = sys.argv[1]
t = np.load(d + "/theta.npy")
ok = t.dtype == np.float64 and t.shape == (193,) and bool(np.all(np.isfinite(t)))
print(("PASS" if ok else "FAIL") + " theta.npy is a 1-D float64 array of 193 finite values")
if not ok:
    print("  dtype %s, shape %s" % (t.dtype, t.shape))
s = json.load(open(d + "/summary.json"))
ok = s.get("n_params") == 193 and s.get("steps") == 3000 and not s.get("diverged") \
    and s["final_loss"] < s["initial_loss"]
print(("PASS" if ok else "FAIL") + " train summary.json: 193 parameters, 3000 steps, loss decreased")
if not ok:
    print("  " + json.dumps({k: s.get(k) for k in ("n_params", "steps", "diverged", "initial_loss", "final_loss")}))
EOF
fi

if [ -s D1/theta.npy ] && run_ok "${D2ARGS[*]} --out D2" "$T" "${D2ARGS[@]}" --out D2; then
  has_tables "hessian writes every table" D2 summary.json manifest.json checks.csv \
    eigenvalues.csv trace.csv density.csv slq_nodes.csv spectrum.csv estimators.csv power.csv
  if command -v gnuplot >/dev/null 2>&1; then
    has_tables "hessian renders density.png (gnuplot is installed)" D2 density.png
  fi
  all_checks_pass "hessian: every check passes (checks.csv)" D2/checks.csv
  n=$(($(wc -l <D2/spectrum.csv) - 1))
  if [ "$n" -eq 193 ]; then record "spectrum.csv has 193 eigenvalues"; else record "spectrum.csv has 193 eigenvalues" "it has $n rows"; fi
  if [ -n "$PYTHON3" ]; then
    checker "hessian summary.json" "$PYTHON3" - D2/summary.json D1/summary.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
tr = json.load(open(sys.argv[2]))
p = 193
eps = 2.220446049250313e-16
def verdict(ok, what, detail=""):
    print(("PASS " if ok else "FAIL ") + what)
    if not ok and detail:
        print("  " + detail)
keys = ["n_params", "loss", "grad_norm", "top", "top_residuals", "bottom",
        "bottom_residuals", "trace", "trace_se", "trace_hutchpp", "density", "spectrum"]
missing = [k for k in keys if k not in s]
verdict(not missing, "summary.json has the keys " + ", ".join(keys), "missing: %s" % missing)
if missing:
    sys.exit(1)
top, res, sp = s["top"], s["top_residuals"], s["spectrum"]
verdict(s["n_params"] == p, "n_params is 193", "n_params %r" % s["n_params"])
verdict(len(top) == 3 and all(top[i] >= top[i + 1] for i in range(len(top) - 1)),
        "top: 3 values, largest first", "top %r" % top)
verdict(len(res) == 3 and all(0 <= r <= 1e-10 * top[0] for r in res),
        "top residuals <= 1e-10 * top[0]", "residuals %r, top[0] %r" % (res, top[0]))
verdict(len(s["bottom"]) == 2 and s["bottom"][0] <= s["bottom"][1],
        "bottom: 2 values, smallest first", "bottom %r" % s["bottom"])
verdict(len(sp) == p and all(sp[i] <= sp[i + 1] for i in range(p - 1)),
        "spectrum: 193 values, ascending", "%d values" % len(sp))
if len(sp) == p:
    hn = max(abs(sp[0]), abs(sp[-1]))
    verdict(abs(top[0] - max(sp)) <= 1e-12 * abs(max(sp)),
            "top[0] equals max(spectrum) to 1e-12 relative",
            "top[0] %.17g, max(spectrum) %.17g" % (top[0], max(sp)))
    errs = [abs(top[k] - sp[p - 1 - k]) - (res[k] + p * eps * hn) for k in range(3)]
    verdict(max(errs) <= 0, "top 1..3 within their residuals (+ p eps ||H||) of the dense spectrum",
            "excess %r" % errs)
    e = abs(s["bottom"][0] - sp[0]) - (s["bottom_residuals"][0] + p * eps * hn)
    verdict(e <= 0, "bottom[0] within its residual of min(spectrum)",
            "bottom[0] %.17g, min(spectrum) %.17g" % (s["bottom"][0], sp[0]))
    exact = sum(sp)
    verdict(s["trace_se"] > 0 and abs(s["trace"] - exact) <= 4 * s["trace_se"],
            "Hutchinson trace within 4 standard errors of sum(spectrum)",
            "trace %.8g +- %.3g, exact %.8g" % (s["trace"], s["trace_se"], exact))
verdict(abs(s["loss"] - tr["final_loss"]) <= 1e-12 * abs(tr["final_loss"]),
        "hessian's loss at train's theta equals train's final_loss (1e-12)",
        "hessian %.17g, train %.17g" % (s["loss"], tr["final_loss"]))
if "final_sharpness" in tr:
    verdict(abs(tr["final_sharpness"] - top[0]) <= 2e-6 * top[0],
            "train's final sharpness equals hessian's top[0] (2e-6, its Lanczos tolerance)",
            "train %.17g, hessian %.17g" % (tr["final_sharpness"], top[0]))
EOF
  fi
  # Rerun from the manifest (same OPENBLAS_NUM_THREADS, exported above).
  if run_ok "hessian --config D2/manifest.json --out D3" "$T" hessian --config D2/manifest.json --out D3 --quiet; then
    for f in summary.json eigenvalues.csv spectrum.csv density.csv trace.csv; do
      if cmp -s "D2/$f" "D3/$f"; then record "--config manifest.json reproduces $f bit for bit"; else
        record "--config manifest.json reproduces $f bit for bit" "$(diff "D2/$f" "D3/$f" | head -n 4)"
      fi
    done
  fi
fi

# --from-run D1 and --config D1/manifest.json take the network, data, seed
# and weights of the training run: the same loss and top eigenvalue as D2.
if [ -s D1/theta.npy ] && [ -s D2/summary.json ]; then
  for how in "--from-run D1" "--config D1/manifest.json"; do
    # shellcheck disable=SC2086 # two words on purpose
    if run_ok "hessian $how --top 3" "$T" hessian $how --top 3 --quiet --out DR; then
      a=$(grep -A1 '"top"' D2/summary.json | tr -d ' \n'; grep '"loss"' D2/summary.json)
      b=$(grep -A1 '"top"' DR/summary.json | tr -d ' \n'; grep '"loss"' DR/summary.json)
      if [ -n "$a" ] && [ "$a" = "$b" ]; then record "hessian $how: same loss and top eigenvalue as the explicit run"; else
        record "hessian $how: same loss and top eigenvalue as the explicit run" "D2: $a" "DR: $b"
      fi
      grep -q '"arch": "4-32-1"' DR/manifest.json && grep -q '"params": "D1/theta.npy"' DR/manifest.json &&
        record "hessian $how: the manifest records the options taken from the run" ||
        record "hessian $how: the manifest records the options taken from the run" "$(grep -A8 '"config"' DR/manifest.json)"
      rm -rf DR
    fi
  done
  RUN_CODE=2
  if run_ok "hessian --from-run D2 (not a train run): exit 2" "$T" hessian --from-run D2 --out DX; then
    if [ "$(wc -l <"$RUN_ERR")" -eq 1 ] && grep -q "not from an .implreg train" "$RUN_ERR" && [ ! -e DX ]; then
      record "--from-run of a hessian folder: one line, no output"
    else record "--from-run of a hessian folder: one line, no output" "$(cat "$RUN_ERR")"; fi
  fi
  RUN_CODE=0
fi

# Each IMPLREG_BREAK mutation of hessian makes a named check FAIL (exit 3
# under --strict): a scaled HVP (central differences), an asymmetric one
# (the symmetry probe), scaled Lanczos values (power iteration), doubled
# quadratic forms (Hutchinson against Hutch++).
if [ -s D1/theta.npy ]; then
  RUN_CODE=3
  for case in "hvp-scale:central differences" "hvp-asym:symmetric" "lanczos:power iteration" \
    "quad:Hutchinson trace"; do
    b=${case%%:*} pat=${case#*:}
    RUN_ENV=("IMPLREG_BREAK=$b")
    if run_ok "IMPLREG_BREAK=$b hessian --strict: exit 3" "$T" hessian --from-run D1 --top 2 --trace \
      --strict --quiet --out "DB$b"; then
      nf=$(grep -E -- "$pat" "DB$b/checks.csv" | grep -c ',FAIL$')
      if [ "$nf" -ge 1 ]; then record "IMPLREG_BREAK=$b: a check matching /$pat/ fails"; else
        record "IMPLREG_BREAK=$b: a check matching /$pat/ fails" "$(cat "DB$b/checks.csv")"
      fi
    fi
  done
  # With --full the symmetry probe gives way to the dense matrix's own
  # symmetry check, which must FAIL (not stop the run) under hvp-asym.
  RUN_ENV=("IMPLREG_BREAK=hvp-asym")
  if run_ok "IMPLREG_BREAK=hvp-asym hessian --full --strict: exit 3" "$T" hessian --from-run D1 \
    --top 2 --full --strict --quiet --out DBfull; then
    nf=$(grep -E -- "dense Hessian from HVP columns is symmetric" DBfull/checks.csv | grep -c ',FAIL$')
    if [ "$nf" -ge 1 ]; then record "IMPLREG_BREAK=hvp-asym --full: the dense symmetry check fails"; else
      record "IMPLREG_BREAK=hvp-asym --full: the dense symmetry check fails" "$(cat DBfull/checks.csv)"
    fi
  fi
  RUN_ENV=()
  RUN_CODE=0
fi

# Heavy ball at the edge of stability: the threshold is (2 + 2 beta)/eta,
# not 2/eta (Cohen et al. 2021): with beta = 0.5, eta = 0.45 the sharpness
# settles near 6.67 = 3/0.45, far above 2/eta = 4.44; log.csv's ratio
# column is S over that threshold.
TRM=(train --arch 4-32-1 --act tanh --loss half-mse --data teacher --lr 0.45 --momentum 0.5
  --steps 5000 --sharpness --strict --quiet)
if run_ok "train --momentum 0.5 --lr 0.45 --sharpness --strict" "$T" "${TRM[@]}" --out DM; then
  all_checks_pass "heavy ball: every check passes" DM/checks.csv
  grep -q 'within 3% of (2 + 2 beta)/eta' DM/checks.csv && record "heavy ball: the edge-of-stability claim uses (2 + 2 beta)/eta" ||
    record "heavy ball: the edge-of-stability claim uses (2 + 2 beta)/eta" "$(cat DM/checks.csv)"
  r=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { s = $c["sharpness"]; q = $c["sharpness_over_threshold"] }
    END { d = q - s * 0.45 / 3; if (d < 0) d = -d; print (d <= 1e-12 * q) ? "ok" : "bad " s " " q }' DM/log.csv)
  [ "$r" = ok ] && record "heavy ball: sharpness_over_threshold = S eta/(2 + 2 beta)" ||
    record "heavy ball: sharpness_over_threshold = S eta/(2 + 2 beta)" "$r"
fi

# Each IMPLREG_BREAK mutation of train makes a named check FAIL (exit 3):
# the logged sharpness 1e-3 off (cold-start Lanczos), a step 10% longer than
# reported (edge of stability), the GD threshold for heavy ball.
RUN_CODE=3
for case in "sharpness:final sharpness" "lr:edge of stability" "threshold:edge of stability"; do
  b=${case%%:*} pat=${case#*:}
  RUN_ENV=("IMPLREG_BREAK=$b")
  if [ "$b" = threshold ]; then args=("${TRM[@]}"); else args=("${TRAIN[@]}" --strict --quiet); fi
  if run_ok "IMPLREG_BREAK=$b train --strict: exit 3" "$T" "${args[@]}" --out "TB$b"; then
    nf=$(grep -E -- "$pat" "TB$b/checks.csv" | grep -c ',FAIL$')
    if [ "$nf" -ge 1 ]; then record "IMPLREG_BREAK=$b: a check matching /$pat/ fails"; else
      record "IMPLREG_BREAK=$b: a check matching /$pat/ fails" "$(cat "TB$b/checks.csv")"
    fi
  fi
done
RUN_ENV=()
RUN_CODE=0

# ---- subsets, bootstrap, and the other optimizers ------------------------------------------
if [ -s D1/theta.npy ] && [ -n "$PYTHON3" ]; then
  if run_ok "hessian --subset 40 --bootstrap 5" "$T" hessian --arch 4-32-1 --act tanh \
    --loss half-mse --data teacher --params D1/theta.npy --subset 40 --bootstrap 5 \
    --out D4 --quiet --strict; then
    checker "hessian on a subset" "$PYTHON3" - D4/summary.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
b = s.get("lambda_max_bootstrap", {})
ok = (s["hessian_samples"] == 40 and s["n_samples"] == 64 and b.get("resamples") == 5
      and b["ci95_low"] <= b["mean"] <= b["ci95_high"] and b["se"] > 0
      and s["top_converged"] == [True])
print(("PASS" if ok else "FAIL") + " subset of 40 of 64 samples, 5 bootstrap resamples, "
      "ci95_low <= mean <= ci95_high, se > 0 (got %s)" % json.dumps(b))
EOF
  fi
  # SGD with momentum and explicit gradient regularization: runs, logs and
  # lowers the loss (no theory check applies to mini-batches).
  if run_ok "train SGD + momentum + EGR" "$T" train --arch 4-32-1 --act tanh --loss half-mse \
    --data teacher --lr 0.05 --batch 16 --momentum 0.9 --egr 0.01 --steps 400 --out D5 --quiet; then
    checker "train SGD + momentum + EGR summary" "$PYTHON3" - D5/summary.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["steps"] == 400 and not s["diverged"] and s["final_loss"] < 0.5 * s["initial_loss"]
print(("PASS" if ok else "FAIL") + " 400 steps, no divergence, loss %.4g -> %.4g"
      % (s["initial_loss"], s["final_loss"]))
EOF
  fi
  # A step size far beyond 2/lambda_max: divergence is reported, theta stays finite.
  if run_ok "train --lr 50 diverges and says so" "$T" train --arch 4-32-1 --act tanh \
    --loss half-mse --data teacher --lr 50 --steps 100 --out D6 --quiet; then
    checker "diverged run" "$PYTHON3" - D6 <<'EOF'
import json, sys
import numpy as np
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
t = np.load(d + "/theta.npy")
ok = s["diverged"] and s["stopped_by"] == "diverged" and t.shape == (193,) and np.isfinite(t).all()
print(("PASS" if ok else "FAIL") + " diverged = %s at step %s, theta finite" % (s["diverged"], s.get("diverged_at")))
EOF
  fi
fi

# ---- thread counts and saved eigenvectors ------------------------------------------------------
if [ -s D1/theta.npy ] && [ -n "$PYTHON3" ]; then
  # Across BLAS thread counts the numbers agree to rounding (docs/stack.md):
  # eigenvalues to 1e-12 relative, the Hutchinson trace (same probes) too.
  for th in 1 2; do
    run_ok "hessian --threads $th" "$T" hessian --arch 4-32-1 --act tanh --loss half-mse \
      --data teacher --params D1/theta.npy --top 3 --bottom 1 --trace --threads "$th" \
      --save-vectors "$T/vec$th.npy" --out "D7.$th" --quiet
  done
  checker "thread counts agree; saved eigenvectors" "$PYTHON3" - "$T" <<'EOF'
import json, sys
import numpy as np
t = sys.argv[1]
a = json.load(open(t + "/D7.1/summary.json"))
b = json.load(open(t + "/D7.2/summary.json"))
x = np.array(a["top"] + a["bottom"] + [a["trace"]])
y = np.array(b["top"] + b["bottom"] + [b["trace"]])
d = np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))
print(("PASS" if d <= 1e-12 else "FAIL") + " --threads 1 and 2: eigenvalues and trace agree to %.1e (<= 1e-12)" % d)
V = np.load(t + "/vec1.npy")
ok = V.shape == (4, 193) and np.allclose(V @ V.T, np.eye(4), atol=1e-12)
print(("PASS" if ok else "FAIL") + " --save-vectors: shape %s, orthonormal rows" % (V.shape,))
EOF
fi

# ---- against the numpy reference (and torch) -------------------------------------------------

if [ -z "$PYTHON3" ]; then
  echo "SKIP the numpy reference (tests/net_ref.py) and the JSON/numpy checks of train's and hessian's outputs: PYTHON3 is empty"
  skip=$((skip + 1))
elif ! "$PYTHON3" -c 'import numpy' 2>/dev/null; then
  echo "SKIP the numpy reference (tests/net_ref.py): $PYTHON3 has no numpy"
  skip=$((skip + 1))
else
  TORCH=
  if "$PYTHON3" -c 'import torch' 2>/dev/null; then
    TORCH=--torch
  else
    echo "SKIP torch autograd comparison: $PYTHON3 cannot import torch"
    skip=$((skip + 1))
  fi
  # ARCH ACT LOSS SEED.  With K = 2 outputs mse and half-mse coincide
  # (1/(mK) = 1/(2m)): 3-6-3 tells torch's MSELoss convention apart.
  for c in "3-5-4 tanh ce 11" "3-6-2 gelu mse 12" "3-4-4-2 softplus half-mse 13" "3-6-3 relu mse 14"; do
    read -r arch act loss seed <<<"$c"
    R=$T/ref/$arch
    if ! "$PYTHON3" "$NET_REF" make "$R" --arch "$arch" --loss "$loss" --n 20 --seed "$seed" >"$T/res/make.out" 2>&1; then
      record "tests/net_ref.py make $arch" "$(tail -n 5 "$T/res/make.out")"
      continue
    fi
    NET=(hessian --arch "$arch" --act "$act" --loss "$loss" --params theta.npy --X X.npy --full --quiet)
    run_ok "hessian --arch $arch --act $act --loss $loss" "$R" "${NET[@]}" --Y Y.npy --out out || continue
    checker "reference $arch $act $loss" "$PYTHON3" "$NET_REF" check --arch "$arch" --act "$act" \
      --loss "$loss" --params "$R/theta.npy" --X "$R/X.npy" --Y "$R/Y.npy" --summary "$R/out/summary.json" $TORCH
    if [ "$loss" = ce ]; then
      # The same labels as one-hot rows, under the same file name in another
      # folder (summary.json names the files): identical output.
      mkdir -p "$R/oh" && cp "$R/theta.npy" "$R/X.npy" "$R/oh/" && cp "$R/Yoh.npy" "$R/oh/Y.npy"
      if run_ok "hessian --arch $arch, labels as one-hot rows" "$R/oh" "${NET[@]}" --Y Y.npy --out out; then
        for f in summary.json eigenvalues.csv spectrum.csv; do
          if cmp -s "$R/out/$f" "$R/oh/out/$f"; then record "CE: (n,) labels and one-hot rows give the same $f"; else
            record "CE: (n,) labels and one-hot rows give the same $f" "$(diff "$R/out/$f" "$R/oh/out/$f" | head -n 4)"
          fi
        done
      fi
    fi
  done
fi

# ---- valgrind results and the inputs ---------------------------------------------------------

cli_collect_vg
if [ "$(snapshot "$IN")" = "$IN_BEFORE" ]; then record "the input folder is unchanged"; else
  record "the input folder is unchanged" "$(diff <(printf '%s\n' "$IN_BEFORE") <(snapshot "$IN"))"
fi
cli_summary
