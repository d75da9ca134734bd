#!/usr/bin/python3
"""bench_torch.py — implreg.torch against PyHessian's algorithms, in one run.

    /usr/bin/python3 bench/bench_torch.py [--quick] [--threads N]
                     [--samples N] [--probes P] [--coretype NAME] [--seed S]

(from the build tree; the package is found as the tests find it — the
`python/` directory next to this one, and `.libs/libimplreg.so` of the
current directory or of the tree — unless PYTHONPATH / IMPLREG_LIB say
otherwise.)

On a small CNN (Conv(1→8, 5×5, stride 2) ReLU MaxPool(2), Conv(8→16, 3×3)
ReLU, Linear(400→120) ReLU, Linear(120→10): 50,706 parameters), float64,
trained briefly by SGD on the first N Fashion-MNIST training images (or
Gaussian stand-ins with labels from a random linear teacher when the
dataset is not installed), it compares, on the Hessian of the mean
cross-entropy over the same N images:

  top-5 eigenpairs
    implreg     implreg.torch.hessian(...).top(5): thick-restart Lanczos,
                tol 1e-10 (‖Hv − λv‖ <= 1e-10·‖H‖_est), certified
                multiplicities
    pyhessian   PyHessian's `eigenvalues(top_n=5)` written out in torch:
                power iteration from a Gaussian vector, orthonormalized
                against the eigenvectors already found at every
                iteration; stop when |λ_t − λ_{t−1}| / (|λ_{t−1}| + 1e-6)
                < 1e-3, at most 100 iterations per eigenvalue; returns
                (λ_{t−1}, Hv_t/‖Hv_t‖) as PyHessian does
    power-res   the same power iteration stopped by the residual rule
                Lanczos uses, ‖Hv − λv‖ <= 1e-10·‖H‖_est (implreg's
                ‖H‖_est), within a budget of HVPs (the fair count)
  trace
    implreg     implreg.torch.hessian(...).trace(P): Hutchinson, P
                Rademacher probes, ± standard error
    pyhessian   PyHessian's `trace()` written out in torch, with the same P
                Rademacher probes (no early stop), ± standard error
  boundary      the cost of implreg's ctypes boundary per product: the
                identity operator at n = 50,706 through
                implreg.curvature.trace (marshalling + the C side's own
                Hutchinson work, per product), and the same HVPs called
                directly against through the boundary, as a share of one
                HVP

The explicit residual ‖Hv − λv‖ of every returned pair is computed with
one extra HVP (not counted in any method's HVP budget).  HVPs are double
backpropagation.  On one (X, y) pair both implreg.torch and PyHessian
build the gradient's graph once and differentiate it again at every
product (torch.autograd.grad(g, θ, grad_outputs=v, retain_graph=True));
implreg's Lanczos is also run on PyHessian's own HVP, so that the
wall-time column compares the algorithms on the same products.

Threads: torch.set_num_threads(N), OPENBLAS_NUM_THREADS = OMP_NUM_THREADS =
N (default 1; one process, so torch, NumPy and libimplreg share one
OpenBLAS).  OpenBLAS's kernels: --coretype auto (default) sets
OPENBLAS_CORETYPE as `implreg`'s main does (SkylakeX with AVX-512, Haswell
with AVX2) unless it is already set; --coretype default leaves OpenBLAS
to choose.  glibc's allocator: --malloc keep (default) raises MALLOC_TRIM_THRESHOLD_
and MALLOC_MMAP_THRESHOLD_ (re-executing once), because otherwise torch's
freed buffers go back to the kernel and every HVP page-faults them in again
(3x slower at 1000 images here); --malloc default leaves glibc's own.
Prints a table; exit status 0 whenever the benchmark ran.
"""
import argparse
import gzip
import os
import sys
import time

PROG = "bench_torch.py"
HERE = os.path.dirname(os.path.abspath(__file__))
FASHION = "/usr/share/datasets/fashion-mnist"
SEED = 20241211
PYH_TOL, PYH_MAX = 1e-3, 100   # PyHessian's defaults (hessian.eigenvalues)
LANCZOS_TOL = 1e-10            # implreg.torch's default


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a short run (fewer samples, steps, probes)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=None,
                    help="images in the Hessian (default 1000; quick 256)")
    ap.add_argument("--steps", type=int, default=None,
                    help="SGD steps before measuring (default 400; quick 100)")
    ap.add_argument("--probes", type=int, default=None,
                    help="Hutchinson probes, both sides (default 30; quick 8)")
    ap.add_argument("--budget", type=int, default=None,
                    help="HVP budget of the residual-rule power iteration "
                         "(default 400; quick 100)")
    ap.add_argument("--coretype", default="auto",
                    help="OPENBLAS_CORETYPE: auto, default or a name")
    ap.add_argument("--malloc", default="keep", choices=("keep", "default"),
                    help="keep: glibc keeps freed memory (MALLOC_TRIM_"
                         "THRESHOLD_, MALLOC_MMAP_THRESHOLD_); default: "
                         "glibc's own thresholds")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    q = a.quick
    if a.samples is None:
        a.samples = 256 if q else 1000
    if a.steps is None:
        a.steps = 100 if q else 300
    if a.probes is None:
        a.probes = 8 if q else 30
    if a.budget is None:
        a.budget = 100 if q else 400
    if a.threads < 1 or a.samples < 10 or a.steps < 0 or a.probes < 2 \
            or a.budget < 1:
        die("need --threads >= 1, --samples >= 10, --steps >= 0, "
            "--probes >= 2, --budget >= 1")
    return a


def set_blas_env(args):
    """Before numpy/torch load OpenBLAS: its threads and kernels."""
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    if args.coretype == "default":
        os.environ.pop("OPENBLAS_CORETYPE", None)
    elif args.coretype != "auto":
        os.environ["OPENBLAS_CORETYPE"] = args.coretype
    elif "OPENBLAS_CORETYPE" not in os.environ:
        flags = ""
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("flags"):
                        flags = line
                        break
        except OSError:
            pass
        fl = flags.split()
        if "avx512f" in fl:
            os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        elif "avx2" in fl:
            os.environ["OPENBLAS_CORETYPE"] = "Haswell"


def find_package():
    """As tests/python_api.sh: PYTHONPATH=<src>/python and
    IMPLREG_LIB=<build>/.libs/libimplreg.so, unless already given."""
    if "IMPLREG_LIB" not in os.environ:
        for d in (os.getcwd(), os.path.dirname(HERE)):
            p = os.path.join(d, ".libs", "libimplreg.so")
            if os.path.exists(p):
                os.environ["IMPLREG_LIB"] = p
                break
    try:
        import implreg  # noqa: F401  (PYTHONPATH or installed)
    except ImportError:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
        try:
            import implreg  # noqa: F401,F811
        except ImportError as e:
            die(f"cannot import implreg ({e}): run from a built tree "
                "(make) or set PYTHONPATH=<src>/python and "
                "IMPLREG_LIB=<build>/.libs/libimplreg.so")


def read_idx(path, count):
    """The first `count` items of a gzip'd IDX ubyte file, (count, item)."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        head = f.read(4)
        if head[:2] != b"\0\0" or head[2] != 0x08:
            die(f"{path}: not an IDX ubyte file")
        ndim = head[3]
        dims = np.frombuffer(f.read(4 * ndim), dtype=">u4").astype(int)
        item = int(np.prod(dims[1:])) if ndim > 1 else 1
        count = min(count, int(dims[0]))
        data = np.frombuffer(f.read(count * item), dtype=np.uint8)
    return data.reshape(count, item)


def load_data(torch, n, seed):
    """(X (n,1,28,28), y (n,), description)."""
    import numpy as np
    img = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    lab = os.path.join(FASHION, "train-labels-idx1-ubyte.gz")
    if os.path.exists(img) and os.path.exists(lab):
        X = read_idx(img, n).astype(np.float64) / 255.0
        y = read_idx(lab, n).reshape(-1).astype(np.int64)
        if X.shape[0] < n:
            die(f"{img} has only {X.shape[0]} images")
        return (torch.from_numpy(X.reshape(n, 1, 28, 28)),
                torch.from_numpy(y),
                f"the first {n} Fashion-MNIST training images (pixels/255)")
    g = torch.Generator().manual_seed(seed + 7)
    X = torch.randn(n, 1, 28, 28, generator=g)
    W = torch.randn(784, 10, generator=g)
    y = (X.reshape(n, 784) @ W).argmax(1)
    return X, y, (f"{n} Gaussian 28x28 images, labels from a random linear "
                  f"teacher ({FASHION} not installed)")


def make_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 10))


class Clock:
    def __init__(self):
        self.t = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.t


def set_malloc_env(args):
    """glibc returns torch's large freed buffers (tens of MB at 1000 images)
    to the kernel and page-faults them back at every HVP: 3x the HVP's
    time here, mostly system time.  With --malloc keep (default) the
    process re-executes itself once with the thresholds raised, for every
    method alike (one process)."""
    if args.malloc != "keep" or os.environ.get("BENCH_TORCH_MALLOC"):
        return
    os.environ["BENCH_TORCH_MALLOC"] = "1"
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "1000000000")
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "1000000000")
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)


def main():
    args = parse_args()
    set_blas_env(args)
    set_malloc_env(args)
    find_package()
    t_all = Clock()
    import numpy as np
    import torch
    import implreg.curvature as curv
    from implreg.torch import hessian
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    F = torch.nn.functional.cross_entropy

    # ---- data, model, brief training ------------------------------------
    X, y, datadesc = load_data(torch, args.samples, args.seed)
    torch.manual_seed(args.seed)
    model = make_cnn(torch)
    params = list(model.parameters())
    n = sum(p.numel() for p in params)
    with torch.no_grad():
        loss0 = float(F(model(X), y))
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(args.seed + 1)
    B = min(100, args.samples)
    c = Clock()
    for _ in range(args.steps):
        b = torch.randint(0, args.samples, (B,), generator=g)
        opt.zero_grad()
        F(model(X[b]), y[b]).backward()
        opt.step()
    t_train = c()
    with torch.no_grad():
        out = model(X)
        loss1 = float(F(out, y))
        acc = float((out.argmax(1) == y).double().mean())
    for p in params:
        p.requires_grad_(True)

    # ---- HVPs ------------------------------------------------------------
    def flat(ts):
        return torch.cat([t.reshape(-1) for t in ts])

    def unflat(v):
        out, i = [], 0
        for p in params:
            out.append(v[i:i + p.numel()].view_as(p))
            i += p.numel()
        return out

    # PyHessian on one batch: the gradient's graph is built once and kept.
    gk = flat(torch.autograd.grad(F(model(X), y), params, create_graph=True))
    counter = {"hvp": 0}

    def hvp(v):
        """PyHessian's HVP (kept graph), flat torch vectors."""
        counter["hvp"] += 1
        return flat(torch.autograd.grad(gk, params, grad_outputs=v,
                                        retain_graph=True))

    def hvp_uncounted(v):
        h = hvp(v)
        counter["hvp"] -= 1
        return h

    def resid(lam, v):
        """Explicit ‖Hv − λv‖ with one extra (uncounted) HVP."""
        v = torch.as_tensor(np.ascontiguousarray(v)) if not \
            isinstance(v, torch.Tensor) else v
        return float(torch.linalg.norm(hvp_uncounted(v) - lam * v))

    # ---- implreg.torch: top(5) ----------------------------------------------
    H = hessian(model, F, (X, y))
    inside = {"t": 0.0, "n": 0}
    base_matvec = H.matvec

    def timed_matvec(v):
        c0 = time.perf_counter()
        r = base_matvec(v)
        inside["t"] += time.perf_counter() - c0
        inside["n"] += 1
        return r

    H.matvec = timed_matvec  # the instance's, which curvature.eigsh calls
    c = Clock()
    r_ir = H.top(5)
    t_ir = c()
    t_ir_hvp, n_ir_hvp = inside["t"], inside["n"]
    ir_vals = r_ir.values
    order = np.argsort(-ir_vals)
    ir_vals = ir_vals[order]
    ir_vecs = r_ir.vectors[:, order]
    anorm = r_ir.anorm
    ir_res = [resid(ir_vals[j], ir_vecs[:, j]) for j in range(5)]

    # implreg's Lanczos on PyHessian's kept-graph HVP (same work per product)
    def hvp_np(v):
        return hvp(torch.from_numpy(v)).numpy()

    counter["hvp"] = 0
    c = Clock()
    r_ir2 = curv.eigsh(hvp_np, k=5, which="LA", n=n, tol=LANCZOS_TOL)
    t_ir2 = c()
    o2 = np.argsort(-r_ir2.values)
    ir2_vals = r_ir2.values[o2]
    ir2_res = [resid(ir2_vals[j], r_ir2.vectors[:, o2[j]]) for j in range(5)]

    # ---- PyHessian's power iteration ------------------------------------
    def orthnormal(w, vs):
        for u in vs:
            w = w - torch.dot(w, u) * u
        return w / torch.linalg.norm(w)

    def power_pyhessian(k):
        gen = torch.Generator().manual_seed(args.seed + 2)
        vals, vecs, its = [], [], []
        for _ in range(k):
            lam = None
            v = torch.randn(n, generator=gen)
            v = v / torch.linalg.norm(v)
            for it in range(1, PYH_MAX + 1):
                v = orthnormal(v, vecs)
                Hv = hvp(v)
                tmp = float(torch.dot(Hv, v))
                v = Hv / torch.linalg.norm(Hv)
                if lam is None:
                    lam = tmp
                elif abs(lam - tmp) / (abs(lam) + 1e-6) < PYH_TOL:
                    break
                else:
                    lam = tmp
            vals.append(lam)
            vecs.append(v)
            its.append(it)
        return vals, vecs, its

    def power_residual(k, tol, budget):
        """The same iteration, stopped when ‖Hv − λv‖ <= tol (λ = vᵀHv of
        the orthonormalized iterate v, residual from the same product)."""
        gen = torch.Generator().manual_seed(args.seed + 2)
        vals, vecs, its, res, ok = [], [], [], [], []
        used = 0
        for _ in range(k):
            if used >= budget:
                break
            v = torch.randn(n, generator=gen)
            it, r, lam = 0, float("inf"), float("nan")
            while used < budget:
                v = orthnormal(v, vecs)
                Hv = hvp(v)
                used += 1
                it += 1
                lam = float(torch.dot(Hv, v))
                r = float(torch.linalg.norm(Hv - lam * v))
                if r <= tol:
                    break
                v = Hv
            vals.append(lam)
            vecs.append(v)
            its.append(it)
            res.append(r)
            ok.append(r <= tol)
        return vals, vecs, its, res, ok

    counter["hvp"] = 0
    c = Clock()
    ph_vals, ph_vecs, ph_its = power_pyhessian(5)
    t_ph = c()
    n_ph = counter["hvp"]
    ph_res = [resid(ph_vals[j], ph_vecs[j]) for j in range(5)]

    counter["hvp"] = 0
    c = Clock()
    pr_vals, pr_vecs, pr_its, pr_res_own, pr_ok = power_residual(
        5, LANCZOS_TOL * anorm, args.budget)
    t_pr = c()
    n_pr = counter["hvp"]
    pr_res = [resid(pr_vals[j], pr_vecs[j]) for j in range(len(pr_vals))]

    # ---- trace ------------------------------------------------------------
    inside["t"], inside["n"] = 0.0, 0
    c = Clock()
    tr_ir = H.trace(args.probes)
    t_tr_ir = c()
    t_tr_ir_hvp = inside["t"]

    counter["hvp"] = 0
    gen = torch.Generator().manual_seed(args.seed + 3)
    c = Clock()
    q = []
    for _ in range(args.probes):
        z = torch.randint(0, 2, (n,), generator=gen).double() * 2 - 1
        q.append(float(torch.dot(hvp(z), z)))
    t_tr_ph = c()
    n_tr_ph = counter["hvp"]
    q = np.array(q)
    tr_ph, se_ph = q.mean(), q.std(ddof=1) / np.sqrt(len(q))

    # ---- the boundary's cost per product ------------------------------------
    # 1. the identity at n through implreg.curvature.trace: everything but
    #    the operator's own work (the C -> Python call, the copy handed to
    #    the operator, np.asarray/reshape, memmove back) plus the C side's
    #    own Hutchinson work (probe, dot), per product.
    M = 500 if args.quick else 2000
    ident = lambda v: v  # noqa: E731
    curv.trace(ident, n=n, probes=50)  # warm-up
    c = Clock()
    ti = curv.trace(ident, n=n, probes=M)
    t_ident = c() / ti.nmatvec
    #    the Python half of it: the callback curvature.py hands to C
    #    (_Operator._apply), called from Python on C-owned-like buffers
    #    (read only: its cost, not its code, is measured here)
    import ctypes as C
    op = curv._Operator(ident, n=n)
    xb = (C.c_double * n)(*([1.0] * n))
    yb = (C.c_double * n)()
    xp = C.cast(xb, C.POINTER(C.c_double))
    yp = C.cast(yb, C.POINTER(C.c_double))
    op._apply(None, xp, yp)
    c = Clock()
    for _ in range(M):
        op._apply(None, xp, yp)
    t_marshal = c() / M
    # 2. the same kept-graph HVPs called directly and through the C side,
    #    alternating, R rounds of N; best round of each
    R, N = (2, 4) if args.quick else (3, 4)
    zs = [torch.randint(0, 2, (n,), generator=gen).double() * 2 - 1
          for _ in range(N)]
    hvp(zs[0])
    t_direct = t_through = float("inf")
    for _ in range(R):
        c = Clock()
        for zz in zs:
            float(torch.dot(hvp(zz), zz))
        t_direct = min(t_direct, c() / N)
        c = Clock()
        tb = curv.trace(hvp_np, n=n, probes=N)
        t_through = min(t_through, c() / tb.nmatvec)
    # one implreg.torch HVP (its own operator: kept graph, numpy in/out)
    c = Clock()
    for zz in zs[:3]:
        base_matvec(zz.numpy())
    t_fresh = c() / 3
    c = Clock()
    for zz in zs[:3]:
        hvp(zz)
    t_kept = c() / 3

    # ---- report -----------------------------------------------------------
    import ctypes
    core = "?"
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if "openblas" in ln})
        ob = ctypes.CDLL(libs[0])
        ob.openblas_get_corename.restype = ctypes.c_char_p
        core = ob.openblas_get_corename().decode()
    except (OSError, IndexError, AttributeError):
        pass
    W = 79
    print("=" * W)
    print(f"implreg.torch vs PyHessian's algorithms (plain torch), one run"
          f"{' (--quick)' if args.quick else ''}")
    print(f"torch {torch.__version__}, numpy {np.__version__}; threads "
          f"{args.threads} (torch.set_num_threads, OPENBLAS_NUM_THREADS); "
          f"OpenBLAS core {core} (OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}); "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"glibc malloc: MALLOC_TRIM_THRESHOLD_="
          f"{os.environ.get('MALLOC_TRIM_THRESHOLD_', 'unset')}, "
          f"MALLOC_MMAP_THRESHOLD_="
          f"{os.environ.get('MALLOC_MMAP_THRESHOLD_', 'unset')} (--malloc "
          f"{args.malloc})")
    print(f"CNN conv(1-8,5x5,s2)-relu-maxpool2-conv(8-16,3x3)-relu-fc(400-120)-"
          f"relu-fc(120-10): {n} parameters, float64")
    print(f"data: {datadesc}; {args.steps} SGD steps (lr 0.05, momentum 0.9, "
          f"batch {B}) in {t_train:.1f} s: loss {loss0:.4f} -> {loss1:.4f}, "
          f"train accuracy {acc:.3f}")
    print(f"one HVP: implreg.torch (kept graph, numpy in and out) "
          f"{t_fresh*1e3:.0f} ms; PyHessian's (gradient graph kept) "
          f"{t_kept*1e3:.0f} ms")
    print("-" * W)
    print(f"Top-5 eigenvalues.  residual = explicit ||Hv - lambda v|| of the "
          f"returned pair (one extra HVP, not counted); ||H||_est = "
          f"{anorm:.6g} (implreg's); Lanczos tol {LANCZOS_TOL:g}*||H||_est = "
          f"{LANCZOS_TOL*anorm:.2g}; rel err = |lambda - lambda_implreg| / "
          f"|lambda_implreg|.")
    hdr = f"{'method':<26}{'#':>2}{'lambda':>17}{'residual':>10}" \
          f"{'res/||H||':>10}{'rel err':>9}{'its':>5}"
    print(hdr)

    def rows(name, vals, res, its):
        for j in range(len(vals)):
            re_ = abs(vals[j] - ir_vals[j]) / abs(ir_vals[j])
            print(f"{name if j == 0 else '':<26}{j+1:>2}{vals[j]:>17.10g}"
                  f"{res[j]:>10.2e}{res[j]/anorm:>10.1e}{re_:>9.1e}"
                  f"{its[j] if its else '':>5}")

    rows("implreg H.top(5)", ir_vals, ir_res, None)
    rows("implreg eigsh, kept graph", ir2_vals, ir2_res, None)
    rows("PyHessian power (1e-3)", ph_vals, ph_res, ph_its)
    rows("power, residual rule", pr_vals, pr_res, pr_its)
    print("-" * W)
    print(f"{'method':<34}{'HVPs':>6}{'wall s':>9}{'s/HVP':>8}  note")
    print(f"{'implreg H.top(5)':<34}{r_ir.nmatvec:>6}{t_ir:>9.2f}"
          f"{t_ir/max(1, r_ir.nmatvec):>8.3f}  certified={r_ir.certified}, "
          f"converged={int(np.sum(r_ir.converged))}/5, runs={r_ir.nrun}")
    print(f"{'  of which inside the HVPs':<34}{n_ir_hvp:>6}{t_ir_hvp:>9.2f}"
          f"{'':>8}  outside (Lanczos + boundary): "
          f"{100*(t_ir-t_ir_hvp)/t_ir:.2f}% of the wall time")
    print(f"{'implreg eigsh on the kept graph':<34}{r_ir2.nmatvec:>6}"
          f"{t_ir2:>9.2f}{t_ir2/max(1, r_ir2.nmatvec):>8.3f}  certified="
          f"{r_ir2.certified}, converged={int(np.sum(r_ir2.converged))}/5")
    print(f"{'PyHessian power, rel. change 1e-3':<34}{n_ph:>6}{t_ph:>9.2f}"
          f"{t_ph/max(1, n_ph):>8.3f}  max residual/||H|| "
          f"{max(ph_res)/anorm:.1e}, multiplicities not checked")
    npr = int(sum(pr_ok))
    print(f"{'power, residual <= 1e-10 ||H||':<34}{n_pr:>6}{t_pr:>9.2f}"
          f"{t_pr/max(1, n_pr):>8.3f}  {npr}/5 pairs reached the tolerance "
          f"within {args.budget} HVPs")
    print("-" * W)
    print(f"Trace, Hutchinson with {args.probes} Rademacher probes each "
          f"(different probes: the two estimates differ by sampling)")
    print(f"{'method':<34}{'trace':>12}{'se':>10}{'HVPs':>6}{'wall s':>9}")
    print(f"{'implreg H.trace':<34}{tr_ir.trace:>12.6g}{tr_ir.se:>10.3g}"
          f"{tr_ir.nmatvec:>6}{t_tr_ir:>9.2f}")
    print(f"{'PyHessian trace (kept graph)':<34}{tr_ph:>12.6g}{se_ph:>10.3g}"
          f"{n_tr_ph:>6}{t_tr_ph:>9.2f}")
    dz = abs(tr_ir.trace - tr_ph) / np.hypot(tr_ir.se, se_ph)
    print(f"difference / combined se = {dz:.2f}; implreg's time outside the "
          f"HVPs: {100*(t_tr_ir-t_tr_ir_hvp)/t_tr_ir:.2f}%")
    print("-" * W)
    print(f"The ctypes boundary per product (n = {n})")
    print(f"  identity operator through curvature.trace, {ti.nmatvec} "
          f"products: {t_ident*1e6:.1f} us per product")
    print(f"    of which the Python callback (_Operator._apply) "
          f"{t_marshal*1e6:.1f} us, the rest (C -> Python call, C's probe "
          f"and dot) {(t_ident-t_marshal)*1e6:.1f} us")
    print(f"    = {100*t_ident/t_fresh:.3f}% of one implreg.torch HVP, "
          f"{100*t_ident/t_kept:.3f}% of one kept-graph HVP (goal < 5%)")
    print(f"  kept-graph HVPs, best of {R} alternating rounds of {N}: direct "
          f"{t_direct*1e3:.2f} ms each, through curvature.trace "
          f"{t_through*1e3:.2f} ms each ({100*(t_through-t_direct)/t_direct:+.2f}%)")
    print("=" * W)
    print(f"total {t_all():.1f} s")


if __name__ == "__main__":
    main()
