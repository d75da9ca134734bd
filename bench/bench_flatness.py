#!/usr/bin/python3
"""PyTorch + SciPy side of bench/flatness: inputs, torch timings, the table.

Subcommands (bench/flatness calls them in this order):
  info                      torch, NumPy and SciPy versions, the OpenBLAS build
                            and core torch runs on, torch's thread count
  gen DIR                   the inputs, written once as .npy (fixed seed):
                            theta (p,), X (n, 784), Y (n,) int64 labels,
                            Yonehot (n, 10), Z (30, p) Rademacher probes,
                            d1, d2 (p,) filter-normalized Gaussian directions,
                            dtop (p,) the top Hessian eigenvector,
                            filter-normalized
  run DIR                   one process doing the end-point measures of
                            `implreg flatness` in torch + SciPy, each stage
                            timed: lambda_max (eigsh on an HVP
                            LinearOperator, tol 1e-8, + the explicit
                            residual), Hutchinson on the 30 probes of Z, the
                            523 slice losses, and eps-sharpness (A = I) from
                            the start DIR/sharp.y0.npy that the C side wrote
                            (projected ascent, the algorithm of
                            src/sharpness.c)
  power DIR                 PyHessian's power iteration (relative change of
                            the eigenvalue < 1e-3, at most 100 iterations),
                            for information
  report DIR                the tables, from DIR/{torch,implreg}.*.json (no
                            torch needed)

run and power print one JSON object on stdout; progress goes to stderr.

The network: 784-32-10 ReLU, softmax cross-entropy (mean) on the first 1000
Fashion-MNIST training images (pixels / 255), or, when
/usr/share/datasets/fashion-mnist is missing, on uniform random images with
random labels (the report says which).  theta: torch's default nn.Linear
initialization (seed SEED), then TRAIN_STEPS full-batch gradient-descent
steps of size TRAIN_LR in float64 in torch, so that the measures are taken at
an end point of (short) training, not at initialization.  25,450 parameters.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

T_START = time.perf_counter()  # before the heavy imports

import numpy as np  # noqa: E402

PROG = "bench_flatness.py"
SEED = 20261205
FASHION = "/usr/share/datasets/fashion-mnist"
WIDTHS = (784, 32, 10)
NSAMP = 1000
TRAIN_STEPS = 300
TRAIN_LR = 0.1
PROBES = 30          # Hutchinson probes (implreg flatness' default)
LANCZOS_TOL = 1e-8   # relative residual of lambda_max (flatness' default)
NT, NS2 = 41, 21     # 1-D slices: 41 points in [-1, 1]; 2-D: 21 x 21
SHARP_EPS = 1e-3     # flatness' defaults: eps, 20 ascent iterations
SHARP_ITER = 20
ARMIJO = 1e-4        # src/sharpness.c's IR_SHARP_ARMIJO
MAX_HALVINGS = 60    # and IR_SHARP_MAX_HALVINGS
PYH_TOL, PYH_MAX = 1e-3, 100
# Agreement tolerances (see the report's notes).
TRACE_AGREE = 1e-10
SLICE_AGREE = 1e-12
SHARP_AGREE = 1e-12


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(1)


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item")
                     else str(o)), flush=True)


def import_torch(threads):
    try:
        import torch
    except ImportError as e:
        die(f"cannot import torch ({e}): apt-get install python3-torch")
    torch.set_default_dtype(torch.float64)
    if threads:
        torch.set_num_threads(threads)
    return torch


def layout():
    """(weight offset, bias offset, out, in) per layer, implreg's (and
    torch's flatten) order: weight (out x in, row-major), then bias."""
    out, o = [], 0
    for a, b in zip(WIDTHS[:-1], WIDTHS[1:]):
        out.append((o, o + a * b, b, a))
        o += a * b + b
    return out, o


def filter_normalize(theta, d):
    """Li et al.'s filter normalization, as ir_landscape_normalize: each
    row of each weight matrix of d gets the norm of the same row of theta,
    biases 0."""
    d = d.copy()
    for w0, b0, nout, nin in layout()[0]:
        W = d[w0:b0].reshape(nout, nin)
        T = theta[w0:b0].reshape(nout, nin)
        nd = np.linalg.norm(W, axis=1)
        nt = np.linalg.norm(T, axis=1)
        W *= np.where(nd > 0, nt / np.where(nd > 0, nd, 1), 0.0)[:, None]
        d[b0:b0 + nout] = 0.0
    return d


# ---- the network as a function of flat theta ----------------------------

class Net:
    def __init__(self, torch, X, y):
        self.torch = torch
        self.F = torch.nn.functional
        self.X = X
        self.y = y
        self.lay, self.p = layout()

    def loss(self, th):
        h = self.X
        for i, (w0, b0, nout, nin) in enumerate(self.lay):
            if i > 0:
                h = self.F.relu(h)
            h = self.F.linear(h, th[w0:b0].view(nout, nin),
                              th[b0:b0 + nout])
        return self.F.cross_entropy(h, self.y)

    def loss_grad(self, th):
        th = th.detach().requires_grad_(True)
        L = self.loss(th)
        (g,) = self.torch.autograd.grad(L, th)
        return L.item(), g

    def prepare_hvp(self, theta):
        """The gradient with create_graph=True, once; hvp() differentiates
        it again (double backprop reusing the forward pass)."""
        self.th = theta.detach().clone().requires_grad_(True)
        L = self.loss(self.th)
        (self.g,) = self.torch.autograd.grad(L, self.th, create_graph=True)
        return L.item(), self.g.detach()

    def hvp(self, v):
        (hv,) = self.torch.autograd.grad(self.g, self.th, grad_outputs=v,
                                         retain_graph=True)
        return hv


def load_inputs(d):
    def ld(k):
        path = os.path.join(d, f"{k}.npy")
        try:
            return np.load(path)
        except (OSError, ValueError) as e:
            die(f"{path}: {e} (write the inputs with `{PROG} gen DIR`)")
    return {k: ld(k) for k in ("theta", "X", "Y", "Z", "d1", "d2", "dtop")}


# ---- info ---------------------------------------------------------------

def cmd_info(args):
    from bench_hessian import cmd_info as hessian_info
    hessian_info(args)


# ---- gen ----------------------------------------------------------------

def cmd_gen(args):
    torch = import_torch(args.threads)
    os.makedirs(args.dir, exist_ok=True)
    src = "fashion-mnist"
    if os.path.isdir(args.fashion):
        from bench_double_descent import read_idx
        X = read_idx(os.path.join(args.fashion, "train-images-idx3-ubyte.gz"),
                     NSAMP).astype(np.float64) / 255.0
        y = read_idx(os.path.join(args.fashion, "train-labels-idx1-ubyte.gz"),
                     NSAMP)[:, 0].astype(np.int64)
    else:
        src = "random (no fashion-mnist)"
        r = np.random.default_rng(SEED + 3)
        X = r.random((NSAMP, WIDTHS[0]))
        y = r.integers(0, WIDTHS[-1], NSAMP).astype(np.int64)
    torch.manual_seed(SEED)
    layers = [torch.nn.Linear(WIDTHS[0], WIDTHS[1]), torch.nn.ReLU(),
              torch.nn.Linear(WIDTHS[1], WIDTHS[2])]
    theta0 = torch.cat([q.detach().flatten()
                        for q in torch.nn.Sequential(*layers).parameters()])
    net = Net(torch, torch.from_numpy(X), torch.from_numpy(y))
    th = theta0.clone()
    L0 = net.loss(th).item()
    for _ in range(TRAIN_STEPS):
        _, g = net.loss_grad(th)
        th = th - TRAIN_LR * g
    L1, g = net.loss_grad(th)
    theta = th.numpy().copy()
    rng = np.random.default_rng(SEED + 1)
    Z = rng.integers(0, 2, (PROBES, theta.size)).astype(np.float64) * 2 - 1
    d1 = filter_normalize(theta, rng.standard_normal(theta.size))
    d2 = filter_normalize(theta, rng.standard_normal(theta.size))
    # The top eigenvector, to a residual far below the slices' tolerance.
    net.prepare_hvp(th)
    from scipy.sparse.linalg import LinearOperator, eigsh
    op = LinearOperator((theta.size, theta.size), dtype=np.float64,
                        matvec=lambda x: net.hvp(torch.from_numpy(
                            np.ascontiguousarray(x).reshape(-1))).numpy())
    w, V = eigsh(op, k=1, which="LA", tol=1e-12,
                 v0=rng.standard_normal(theta.size))
    dtop = filter_normalize(theta, V[:, 0])
    for name, a in (("theta", theta), ("X", X), ("Y", y),
                    ("Yonehot", np.eye(WIDTHS[-1])[y]), ("Z", Z),
                    ("d1", d1), ("d2", d2), ("dtop", dtop)):
        np.save(os.path.join(args.dir, f"{name}.npy"), np.ascontiguousarray(a))
    with open(os.path.join(args.dir, "gen.json"), "w") as f:
        json.dump({"data": src, "loss0": L0, "loss": L1,
                   "grad_norm": float(g.norm()), "p": theta.size,
                   "lambda_gen": float(w[0]),
                   "theta_norm": float(np.linalg.norm(theta))}, f)
    print(f"# inputs (seed {SEED}): {'-'.join(map(str, WIDTHS))} relu, "
          f"cross-entropy, n = {NSAMP} ({src}), p = {theta.size}; theta = "
          f"torch's default init + {TRAIN_STEPS} full-batch GD steps "
          f"(lr {TRAIN_LR}) in torch: loss {L0:.4f} -> {L1:.4f}, "
          f"|grad| {float(g.norm()):.3g}, |theta| "
          f"{np.linalg.norm(theta):.4g}")


# ---- run ------------------------------------------------------------------

def sharpness(net, torch, theta, y0, b, max_iter):
    """src/sharpness.c's projected gradient ascent with A = I, from y0:
    returns phi, f0, fmax, evaluations, iterations."""
    nev = [0]

    def ev(y):
        nev[0] += 1
        f, g = net.loss_grad(theta + torch.from_numpy(y))
        if not math.isfinite(f):
            die("eps-sharpness: the loss is not finite inside the box")
        return f, g.numpy()

    f0, _ = ev(np.zeros_like(y0))
    y = y0.copy()
    F, gy = ev(y)
    best = max(F, f0)
    nz = gy != 0
    t = float(np.max(2 * b[nz] / np.abs(gy[nz]))) if nz.any() else 0.0
    stationary = t == 0
    it = 0
    while not stationary and it < max_iter:
        it += 1
        accepted = False
        h = 0
        while h < MAX_HALVINGS and not accepted:
            yn = np.minimum(b, np.maximum(-b, y + t * gy))
            dec = float(gy @ (yn - y))
            if np.max(np.abs(yn - y)) == 0:
                stationary = True
                break
            Fn, gn = ev(yn)
            if Fn >= F + ARMIJO * dec:
                accepted = True
                y, gy, F = yn, gn, Fn
                best = max(best, F)
            h += 1
            t *= 0.5
        if not accepted:
            break
        t *= 4
    return {"phi": 100.0 * (best - f0) / (1.0 + f0), "f0": f0, "fmax": best,
            "evals": nev[0], "iters": it}


def cmd_run(args):
    torch = import_torch(args.threads)
    t_import = time.perf_counter()
    from scipy.sparse.linalg import LinearOperator, eigsh
    inp = load_inputs(args.dir)
    theta = torch.from_numpy(inp["theta"].astype(np.float64))
    net = Net(torch, torch.from_numpy(inp["X"].astype(np.float64)),
              torch.from_numpy(inp["Y"].astype(np.int64).reshape(-1)))
    if theta.numel() != net.p:
        die(f"theta.npy has {theta.numel()} entries, the network {net.p}")
    loss, g = net.prepare_hvp(theta)
    T = {"import": t_import - T_START}
    t0 = time.perf_counter()
    T["load"] = t0 - t_import
    nhvp = [0]

    def mv(x):
        nhvp[0] += 1
        return net.hvp(torch.from_numpy(
            np.ascontiguousarray(x, dtype=np.float64).reshape(-1))).numpy()

    op = LinearOperator((net.p, net.p), dtype=np.float64, matvec=mv)
    v0 = np.random.default_rng(SEED + 5).standard_normal(net.p)
    w, V = eigsh(op, k=1, which="LA", tol=LANCZOS_TOL, v0=v0)
    hv_eigsh = nhvp[0]
    lam = float(w[0])
    res = float(np.linalg.norm(mv(V[:, 0]) - lam * V[:, 0]))
    t1 = time.perf_counter()
    T["lanczos"] = t1 - t0
    Z = torch.from_numpy(inp["Z"])
    q = np.array([float(Z[i] @ net.hvp(Z[i])) for i in range(Z.shape[0])])
    t2 = time.perf_counter()
    T["trace"] = t2 - t1
    ts = np.array([-1.0 + 2.0 * i / (NT - 1) for i in range(NT)])
    t2d = np.array([-1.0 + 2.0 * i / (NS2 - 1) for i in range(NS2)])
    d1, d2, dv = (torch.from_numpy(inp[k]) for k in ("d1", "d2", "dtop"))
    with torch.no_grad():
        sl_r = [net.loss(theta + t * d1).item() for t in ts]
        sl_v = [net.loss(theta + t * dv).item() for t in ts]
        sl_2 = [net.loss(theta + s * d1 + t * d2).item()
                for s in t2d for t in t2d]
    t3 = time.perf_counter()
    T["slices"] = t3 - t2
    sh = None
    y0p = os.path.join(args.dir, "sharp.y0.npy")
    if os.path.exists(y0p):
        y0 = np.load(y0p).reshape(-1)
        b = SHARP_EPS * (np.abs(inp["theta"]) + 1.0)
        sh = sharpness(net, torch, theta, y0, b, SHARP_ITER)
    t4 = time.perf_counter()
    T["sharp"] = t4 - t3
    T["total"] = t4 - T_START
    T["cpu"] = time.process_time()
    emit({"side": "torch", "threads": torch.get_num_threads(), "p": net.p,
          "loss": loss, "grad_norm": float(g.norm()),
          "lambda": lam, "lambda_res": res, "lambda_hvps": nhvp[0],
          "lambda_hvps_solver": hv_eigsh, "q": q.tolist(),
          "trace": float(q.mean()),
          "trace_se": float(q.std(ddof=1) / math.sqrt(q.size)),
          "trace_hvps": int(q.size), "slice_r": sl_r, "slice_v": sl_v,
          "slice2": sl_2, "sharp": sh, "seconds": T})


def cmd_power(args):
    """PyHessian's rule (hessian.eigenvalues): v Gaussian, normalized; per
    iteration Hv, lambda = v.Hv, v = Hv/|Hv|; stop when |lambda - previous|
    / (|previous| + 1e-6) < 1e-3, at most 100 iterations."""
    torch = import_torch(args.threads)
    inp = load_inputs(args.dir)
    theta = torch.from_numpy(inp["theta"])
    net = Net(torch, torch.from_numpy(inp["X"]),
              torch.from_numpy(inp["Y"].astype(np.int64).reshape(-1)))
    net.prepare_hvp(theta)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(SEED + 6)
    v = torch.randn(net.p, generator=gen)
    v /= v.norm()
    lam_prev, lam, n = None, None, 0
    for _ in range(PYH_MAX):
        hv = net.hvp(v)
        n += 1
        lam = float(v @ hv)
        v = hv / hv.norm()
        if lam_prev is not None and \
           abs(lam - lam_prev) / (abs(lam_prev) + 1e-6) < PYH_TOL:
            break
        lam_prev = lam
    secs = time.perf_counter() - t0
    res = float((net.hvp(v) - float(v @ net.hvp(v)) * v).norm())
    emit({"side": "torch", "value": lam, "hvps": n, "residual": res,
          "seconds": secs})


# ---- report ---------------------------------------------------------------

def load_json(path):
    try:
        with open(path) as f:
            lines = [s for s in f.read().splitlines() if s.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def reldiff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def fmt_s(x):
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.3f} s"


def cmd_report(args):
    d = args.dir
    gen = load_json(os.path.join(d, "gen.json")) or {}
    threads = sorted({int(f.split(".")[1]) for f in os.listdir(d)
                      if f.startswith("torch.") and f.endswith(".json")
                      and f.split(".")[1].isdigit()})
    bad = 0 if threads else 1
    print("=" * 79)
    print(f"End-point measures of `implreg flatness`: 784-32-10 relu, "
          f"cross-entropy, n = {NSAMP}\n({gen.get('data', '?')}), p = "
          f"{gen.get('p', '?')}; theta after {TRAIN_STEPS} GD steps: loss "
          f"{gen.get('loss', float('nan')):.6g}, |grad| "
          f"{gen.get('grad_norm', float('nan')):.3g}.")
    for nt in threads:
        runs = {}
        for side in ("torch", "implreg"):
            rs = []
            r = 1
            while True:
                j = load_json(os.path.join(d, f"{side}.{nt}.{r}.json"))
                if j is None:
                    break
                rs.append(j)
                r += 1
            runs[side] = rs
        walls = {}
        for side in ("torch", "implreg"):
            try:
                with open(os.path.join(d, f"wall.{side}.{nt}.txt")) as f:
                    walls[side] = [float(x) for x in f.read().split()]
            except (OSError, ValueError):
                walls[side] = []
        tr, ir = runs["torch"], runs["implreg"]
        if not tr or not ir:
            print(f"-- {nt} thread(s): missing runs (torch {len(tr)}, "
                  f"implreg {len(ir)})")
            bad += 1
            continue
        print("-" * 79)
        print(f"{nt} thread(s) (OPENBLAS_NUM_THREADS = torch threads = {nt});"
              f" median of {min(len(tr), len(ir))} alternating runs;")
        print("ratio = implreg seconds / torch seconds (< 1: implreg faster)")
        print(f"{'stage':34s} {'torch':>11s} {'implreg':>11s} {'ratio':>7s}")
        names = [("load", "load data, model, graph"),
                 ("lanczos", "lambda_max (+ residual)"),
                 ("trace", f"Hutchinson, {PROBES} probes"),
                 ("slices", f"slices, {2 * NT + NS2 * NS2} losses"),
                 ("sharp", f"eps-sharpness A = I, {SHARP_ITER} its"),
                 ("total", "in-process total (+imports)")]
        for k, label in names:
            a = statistics.median(r["seconds"][k] for r in tr)
            b = statistics.median(r["seconds"][k] for r in ir)
            print(f"{label:34s} {fmt_s(a):>11s} {fmt_s(b):>11s} "
                  f"{b / a:7.3f}")
        if all("slices_batched" in r["seconds"] for r in ir):
            a = statistics.median(r["seconds"]["slices"] for r in tr)
            b = statistics.median(r["seconds"]["slices_batched"] for r in ir)
            print(f"{'slices batched (info, not in total)':34s} "
                  f"{fmt_s(a):>11s} {fmt_s(b):>11s} {b / a:7.3f}")
        if walls["torch"] and walls["implreg"]:
            a = statistics.median(walls["torch"])
            b = statistics.median(walls["implreg"])
            print(f"{'whole process (wall, from outside)':34s} {fmt_s(a):>11s}"
                  f" {fmt_s(b):>11s} {b / a:7.3f}")
        imp = statistics.median(r["seconds"]["import"] for r in tr)
        print(f"(torch's `import torch, scipy` alone: {fmt_s(imp)})")
        # Agreement: every run of each side computes the same numbers; the
        # first run of each is compared.
        t, c = tr[0], ir[0]
        print("Agreement (first run of each side): loss and slices relative,"
              " allowed 1e-13 and\n1e-12; lambda_max absolute, allowed the "
              "sum of the two residuals (each Ritz\nvalue is within its "
              "residual of an eigenvalue); trace on the same 30 probes,\n"
              "relative, 1e-10; phi (same ascent from the same start) "
              "relative, 1e-12.")
        print(f"{'quantity':22s} {'torch':>22s} {'implreg':>22s}  "
              f"{'diff':>8s} allowed ok")

        def row(name, a, b, diff, allowed):
            nonlocal bad
            ok = diff <= allowed
            bad += not ok
            print(f"{name:22s} {a:>22s} {b:>22s}  {diff:8.1e} "
                  f"{allowed:7.1e} {'yes' if ok else 'NO'}")
        row("loss", f"{t['loss']:.17g}", f"{c['loss']:.17g}",
            reldiff(c["loss"], t["loss"]), 1e-13)
        row("lambda_max", f"{t['lambda']:.15g}", f"{c['lambda']:.15g}",
            abs(c["lambda"] - t["lambda"]),
            c["lambda_res"] + t["lambda_res"])
        print(f"{'  residual |Hv-lv|/l':22s} "
              f"{t['lambda_res'] / t['lambda']:>22.2e} "
              f"{c['lambda_res'] / c['lambda']:>22.2e}")
        print(f"{'  HVPs (+1 residual)':22s} "
              f"{t['lambda_hvps_solver']:>18d} + 1 "
              f"{c['lambda_hvps']:>22d}")
        row("trace (same probes)", f"{t['trace']:.15g}", f"{c['trace']:.15g}",
            reldiff(c["trace"], t["trace"]), TRACE_AGREE)
        print(f"{'  std. error':22s} {t['trace_se']:>22.6g} "
              f"{c['trace_se']:>22.6g}")
        qa, qb = np.array(t["q"]), np.array(c["q"])
        print(f"{'  max_i |dq_i|/mean q':22s} "
              f"{float(np.max(np.abs(qa - qb)) / abs(qa.mean())):>22.1e}")
        for k, label in (("slice_r", "slice, random d"),
                         ("slice_v", "slice, top eigvec"),
                         ("slice2", "2-D slice 21x21")):
            a, b = t[k], c[k]
            row(label, f"{min(a):.8g}..{max(a):.8g}",
                f"{min(b):.8g}..{max(b):.8g}", reldiff(b, a), SLICE_AGREE)
        for k, label in (("slice_r", "  batched, random d"),
                         ("slice_v", "  batched, top eigvec"),
                         ("slice2", "  batched, 2-D")):
            if "b" + k in c:
                a, b = t[k], c["b" + k]
                row(label, f"{min(a):.8g}..{max(a):.8g}",
                    f"{min(b):.8g}..{max(b):.8g}", reldiff(b, a),
                    SLICE_AGREE)
        if t.get("sharp") and c.get("sharp"):
            a, b = t["sharp"], c["sharp"]
            row("eps-sharpness phi", f"{a['phi']:.12g}", f"{b['phi']:.12g}",
                reldiff(b["phi"], a["phi"]), SHARP_AGREE)
            print(f"{'  evaluations':22s} {a['evals']:>22d} "
                  f"{b['evals']:>22d}")
        else:
            print("eps-sharpness: not compared (no start written by the C "
                  "side)")
    pw = {s: load_json(os.path.join(d, f"power.{s}.json"))
          for s in ("torch", "implreg")}
    if pw["torch"] and pw["implreg"]:
        print("-" * 79)
        print("For information: PyHessian's power iteration (relative change"
              f" < {PYH_TOL:g}, at most {PYH_MAX}):")
        for s in ("torch", "implreg"):
            p = pw[s]
            print(f"  {s:8s} lambda {p['value']:.10g} after {p['hvps']} HVPs"
                  f" ({fmt_s(p['seconds'])}), residual |Hv-lv|/l "
                  f"{p['residual'] / p['value']:.1e}")
    ms = load_json(os.path.join(d, "measure.json"))
    if ms:
        print("-" * 79)
        print("For information: the library's whole ir_flatness_measure on "
              f"this theta ({ms['threads']} thread(s)): {fmt_s(ms['seconds'])}"
              f"; lambda {ms['lambda']:.10g} ({ms['lambda_hvps']} HVPs), "
              f"trace {ms['trace']:.6g} +- {ms['trace_se']:.3g}, sharpness "
              f"A = I {ms['sharp_full']:.4g} ({ms['sharp_full_evals']} "
              f"evals), random A {ms['sharp_sub']:.4g} "
              f"({ms['sharp_sub_evals']} evals), balanced lambda "
              f"{ms['lambda_bal']:.6g}")
    print("=" * 79)
    print("all numbers agree" if bad == 0 else f"{bad} disagreement(s)")


def main():
    ap = argparse.ArgumentParser(prog=PROG)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("info", "gen", "run", "power", "report"):
        s = sub.add_parser(name)
        if name != "info":
            s.add_argument("dir")
        s.add_argument("--threads", type=int, default=1)
        if name == "gen":
            s.add_argument("--fashion", default=FASHION)
    args = ap.parse_args()
    {"info": cmd_info, "gen": cmd_gen, "run": cmd_run, "power": cmd_power,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
