#!/usr/bin/env python3
"""igr_ref.py — an independent reference for `implreg igr` (numpy, scipy;
torch for the network part).

Usage:
  igr_ref.py make-lsq DIR [--seed S]
  igr_ref.py check-lsq DIR OUT
  igr_ref.py make-net DIR [--seed S]
  igr_ref.py check-net DIR OUT

`make-lsq` writes a Gaussian least-squares problem (n = 10 < p = 20, a
fixed numpy seed): X.csv, Y.csv, and h.txt, three step sizes
h = {0.02, 0.04, 0.08}/lambda_max(X'X/n) (inside heavy ball's real-root
range for beta = 0.5).  The caller then runs

  implreg igr --X X.csv --Y Y.csv --h $(cat h.txt) --momentum 0.5
              --steps 48 --segments 4 --out OUT

`check-lsq` recomputes from scratch, for E = (1/2n)||Xw - y||^2 from w = 0,
with numpy gradients and the flows
    theta' = -c (grad E + 2 lambda H grad E)
integrated by scipy.integrate.solve_ivp(method='DOP853', rtol=1e-12,
atol=1e-14):

  * GD and heavy ball, theta_{k+1} = theta_k - h grad E(theta_k)
    + beta (theta_k - theta_{k-1}), theta_{-1} = theta_0 = 0;
  * for each h, each method and each flow (gradient flow lambda = 0; the
    modified flow lambda = h/4 for GD, h(1+beta)/(4(1-beta)^2) for heavy
    ball; heavy ball's alternative h/(4(1-beta))), all with c = 1/(1-beta),
    the distances ||theta_{s+1} - phi(h; theta_s)|| and
    ||theta_{s+k} - phi(kh; theta_s)||, compared with errors.csv's
    err_flow, err_modified, err_alternative;
  * the six lambda fits (lambda.csv), by minimizing the fit's objective
    (igr.h, ir_igr_fit): the sum over the S segments of the window of the
    squared distances between the iterates and the flow restarted at the
    segment's first iterate, at every stride-th iterate (an_igr.c:
    stride = L/2 made odd for L = steps/S >= 2, so near the middle and the end of each
    segment).  With c held (GD: c_lo = c_hi = 1) by
    scipy.optimize.minimize_scalar (Brent); where implreg also fitted c
    (heavy ball) jointly over (lambda, c) by scipy.optimize.least_squares
    (MINPACK's Levenberg-Marquardt), comparing c_fit too;
  * the theory's coefficients in lambda.csv (lambda_theory,
    lambda_alternative) against the formulas, and h_lambda_max against
    numpy's largest eigenvalue of X'X/n.

Only bookkeeping is taken from implreg's output: the horizon t of the
fixed-time rows (errors.csv), the transient skip of heavy ball
(lambda.csv's skip column, which the errors study turns into one common
start time t0 = max_h skip(h) h, i.e. skip = max(skip(h), round(t0/h)),
as an_igr.c's study_errors does), the fit window's steps and segments
(manifest.json), whether c was held (lambda.csv: c_lo = c_hi), and the
flows' global-error estimate (errors.csv: global_err, which sets the
absolute allowance below).  The skip is also recomputed from igr.h's documented rule
(the smallest j with beta^j <= 1e-3 min(1, (h lambda_max/(1-beta))^2)) and
compared.  A distance implreg leaves unreported (nan: below 100 times its
flow's global-error estimate) must be small by the reference as well.

`make-net` writes the teacher problem of PyTorch (x ~ N(0, I_4),
y = sin(2 x1) cos(x2) + 0.5 x3 x4, n = 64; X.npy, Y.npy) and theta.npy:
the default initialization (torch.manual_seed) of
nn.Sequential(Linear(4, 32), Tanh(), Linear(32, 1)) in float64, flattened
as torch.cat of its parameters, and h.txt with h lambda_max = 0.05, 0.1,
0.2 (lambda_max of the exact torch Hessian at theta).  The caller runs

  implreg igr --X X.npy --Y Y.npy --arch 4-32-1 --act tanh --loss half-mse
              --init theta.npy --h $(cat h.txt) ... --out OUT

`check-net` checks that the flat theta is nn.Sequential's layout (same
loss through the module), recomputes GD and the two flows with torch
float64 autograd (H grad E by double backpropagation) and solve_ivp DOP853
rtol 1e-12, and compares errors.csv's one-step and fixed-time distances,
and h_lambda_max against the torch Hessian's largest eigenvalue.

Tolerance of every distance: 1e-7 relative, plus an absolute allowance for
the flows' own errors (1/100 of implreg's global-error estimate, which
flow.h says bounds the returned solution's error 100-fold, and
1e-12 max(1, ||theta||) for the reference), which only matters for the
smallest distances.  lambda and c: 1e-6 relative.

Prints one line "PASS what" or "FAIL what" (followed by lines indented by
two spaces) per comparison.  Exit status: 0 all passed, 1 a comparison
failed, 77 numpy/scipy (or, for the network, torch) is not installed,
99 bad usage or missing files.
"""
import argparse
import csv
import importlib
import json
import math
import os
import sys

try:
    import numpy as np
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares, minimize_scalar
except ImportError:  # reported by main()
    np = None

RTOL_IVP, ATOL_IVP = 1e-12, 1e-14
TOL_DIST = 1e-7
TOL_LAMBDA = 1e-6
BETA = 0.5
LSQ_UNITS = (0.02, 0.04, 0.08)
NET_UNITS = (0.05, 0.1, 0.2)


# ---- reporting ---------------------------------------------------------------


class Report:
    def __init__(self):
        self.failed = 0

    def verdict(self, ok, what, detail=""):
        if ok:
            print("PASS " + what)
        else:
            self.failed += 1
            print("FAIL " + what)
            if detail:
                print("  " + detail)

    def dist(self, what, got, want, floor):
        """A distance: |got - want| <= TOL_DIST |want| + floor."""
        if math.isnan(got):
            # Unreported by implreg: below 100 x its global-error estimate.
            # The allowance holds 1/100 of that estimate: the reference's
            # distance must be below ~1e4 allowances.
            self.verdict(want <= 2e4 * floor, what + " (not reported by implreg)",
                         "implreg: nan, reference %.6g > 2e4 x the allowance %.3g"
                         % (want, floor))
            return
        d = abs(got - want)
        self.verdict(d <= TOL_DIST * abs(want) + floor,
                     "%s: %.10g (reference %.10g, rel. diff %.2g)"
                     % (what, got, want, d / max(abs(want), 1e-300)),
                     "implreg %.17g, reference %.17g, |diff| %.3g > %g rel + %.3g"
                     % (got, want, d, TOL_DIST, floor))


# ---- implreg's tables ----------------------------------------------------------


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same_h(a, b):
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def find_row(rows, **kw):
    """The one row whose fields equal kw (h and beta compared as numbers)."""
    hits = []
    for r in rows:
        ok = True
        for k, v in kw.items():
            if k in ("h", "beta"):
                x = float(r[k])
                ok = ok and (x == v if v == 0 else same_h(x, v))
            else:
                ok = ok and r[k] == v
        if ok:
            hits.append(r)
    return hits[0] if len(hits) == 1 else None


def read_h(d):
    with open(os.path.join(d, "h.txt")) as f:
        return [float(v) for v in f.read().strip().split(",")]


def transient_rule(h, beta, lmax):
    """igr.h, ir_igr_transient_steps: the smallest j with
    beta^j <= 1e-3 min(1, (h lambda_max / (1 - beta))^2); 0 for beta = 0."""
    if beta == 0:
        return 0
    target = 1e-3 * min(1.0, (h * lmax / (1 - beta)) ** 2)
    j = 0
    while beta ** j > target:
        j += 1
    return j


# ---- least squares (numpy) ---------------------------------------------------------


class Lsq:
    def __init__(self, X, y):
        n = X.shape[0]
        self.A = X.T @ X / n
        self.b = X.T @ y / n

    def grad(self, w):
        return self.A @ w - self.b

    def field(self, c, lam):
        A = self.A

        def f(_t, w):
            g = A @ w - self.b
            return -c * (g + 2.0 * lam * (A @ g))
        return f

    def flow(self, w0, times, c, lam):
        """phi(t; w0) at each time (rows), solve_ivp DOP853."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        sol = solve_ivp(self.field(c, lam), (0.0, float(times[-1])), w0, method="DOP853",
                        t_eval=times, rtol=RTOL_IVP, atol=ATOL_IVP)
        if not sol.success:
            raise RuntimeError("solve_ivp: " + sol.message)
        return sol.y.T

    def flow_closed(self, w0, t, c, lam):
        """The same flow in closed form (eigenbasis of A): a self-check of
        the reference's integration."""
        mu, Q = np.linalg.eigh(self.A)
        u0, beta = Q.T @ w0, Q.T @ self.b
        rate = c * (mu + 2 * lam * mu * mu)
        u = np.empty_like(u0)
        for i in range(len(mu)):
            if mu[i] > 1e-12 * mu[-1]:
                ustar = beta[i] / mu[i]
                u[i] = ustar + (u0[i] - ustar) * math.exp(-rate[i] * t)
            else:  # the null space: b has no component there (b = X'y/n)
                u[i] = u0[i] + c * beta[i] * t
        return Q @ u


def iterates(grad, w0, h, beta, K):
    """GD (beta = 0) or heavy ball, rows 0..K."""
    out = np.empty((K + 1, len(w0)))
    w, prev = w0.copy(), w0.copy()
    out[0] = w
    for k in range(K):
        nxt = w - h * grad(w) + beta * (w - prev)
        prev, w = w, nxt
        out[k + 1] = w
    return out


def compare_errors(rep, model, grad, flow, w0, hs, beta, errs, skips, tag, floor_ref):
    """errors.csv against the reference for one method (beta = 0: GD)."""
    method = "hb" if beta > 0 else "gd"
    c = 1.0 / (1.0 - beta)
    for h in hs:
        r_step = find_row(errs, model=model, method=method, beta=beta, horizon="step", h=h)
        r_T = find_row(errs, model=model, method=method, beta=beta, horizon="T", h=h)
        if r_step is None or r_T is None:
            rep.verdict(False, "%s %s h = %.6g: errors.csv has its step and T rows"
                        % (tag, method, h))
            continue
        t = float(r_T["t"])
        k = int(round(t / h))
        skip = skips[h]
        it = iterates(grad, w0, h, beta, skip + k)
        ws = it[skip]
        lams = [0.0, (h * (1 + beta) / (4 * (1 - beta) ** 2)) if beta > 0 else h / 4]
        cols = ["err_flow", "err_modified"]
        if beta > 0:
            lams.append(h / (4 * (1 - beta)))
            cols.append("err_alternative")
        gerr = float(r_T["global_err"])
        for lam, col in zip(lams, cols):
            phi = flow(ws, [h, k * h] if k > 1 else [h], c, lam)
            d_step = float(np.linalg.norm(it[skip + 1] - phi[0]))
            d_T = float(np.linalg.norm(it[skip + k] - phi[-1]))
            scale = float(np.linalg.norm(ws))
            floor = 0.01 * gerr + floor_ref * max(scale, 1.0)
            what = "%s %s h = %.4g %s" % (tag, method, h, col)
            rep.dist(what + " after one step", float(r_step[col]), d_step, floor)
            rep.dist(what + " at t = %.4g (%d steps from iterate %d)" % (t, k, skip),
                     float(r_T[col]), d_T, floor)


def fit_residuals(flow, it, h, start, end, S, stride):
    """igr.h's objective as residuals: for each segment s (b_s = start + s L)
    and i = 1..L/stride, theta_{b_s + i stride} - phi(i stride h; theta_{b_s}),
    L the largest multiple of stride with S L <= end - start.  Returns
    resid(lambda, c) and L."""
    L = ((end - start) // S) // stride * stride
    m = L // stride
    times = [i * stride * h for i in range(1, m + 1)]

    def resid(lam, c):
        out = []
        for s in range(S):
            b = start + s * L
            phi = flow(it[b], times, c, lam)
            for i in range(1, m + 1):
                out.append(it[b + i * stride] - phi[i - 1])
        return np.concatenate(out)
    return resid, L


def fit_lambda(resid, c, lam0):
    """lambda minimizing ||resid(lambda, c)||^2 (c held): Brent's method
    (scipy.optimize.minimize_scalar), its bracket searched from
    lam0 (0.9, 1.1)."""
    def rss(x):
        r = resid(x * lam0, c)
        return float(r @ r)
    res = minimize_scalar(rss, bracket=(0.9, 1.1), method="brent", tol=1e-12,
                          options={"xtol": 1e-12, "maxiter": 500})
    return res.x * lam0


def fit_lambda_c(resid, lam0, c0):
    """(lambda, c) minimizing ||resid||^2 jointly: MINPACK's
    Levenberg-Marquardt (scipy.optimize.least_squares, method 'lm')."""
    res = least_squares(lambda x: resid(x[0] * lam0, x[1] * c0), [1.0, 1.0], method="lm",
                        xtol=1e-15, ftol=1e-15, gtol=1e-15, diff_step=1e-6)
    return res.x[0] * lam0, res.x[1] * c0


def cmd_make_lsq(a):
    rng = np.random.default_rng(a.seed)
    n, p = 10, 20
    X = rng.standard_normal((n, p))
    wstar = rng.standard_normal(p) / math.sqrt(p)
    y = X @ wstar + 0.1 * rng.standard_normal(n)
    os.makedirs(a.dir, exist_ok=True)
    np.savetxt(os.path.join(a.dir, "X.csv"), X, delimiter=",", fmt="%.17g")
    np.savetxt(os.path.join(a.dir, "Y.csv"), y.reshape(-1, 1), delimiter=",", fmt="%.17g")
    lmax = float(np.linalg.eigvalsh(X.T @ X / n)[-1])
    with open(os.path.join(a.dir, "h.txt"), "w") as f:
        f.write(",".join("%.17g" % (u / lmax) for u in LSQ_UNITS) + "\n")
    return 0


def cmd_check_lsq(a):
    X = np.loadtxt(os.path.join(a.dir, "X.csv"), delimiter=",", ndmin=2)
    y = np.loadtxt(os.path.join(a.dir, "Y.csv"), delimiter=",", ndmin=1).reshape(-1)
    hs = read_h(a.dir)
    errs = read_csv(os.path.join(a.out, "errors.csv"))
    lam_rows = read_csv(os.path.join(a.out, "lambda.csv"))
    with open(os.path.join(a.out, "manifest.json")) as f:
        cfg = json.load(f)["config"]
    steps, S = int(cfg["steps"]), int(cfg["segments"])
    prob = Lsq(X, y)
    lmax = float(np.linalg.eigvalsh(prob.A)[-1])
    w0 = np.zeros(X.shape[1])
    rep = Report()
    tag = "lsq n=10 p=20"

    # The reference's own integration against the closed form.
    t = 1.0 / lmax
    worst = 0.0
    for lam in (0.0, hs[-1] / 4):
        d = np.linalg.norm(prob.flow(w0, [t], 2.0, lam)[0] - prob.flow_closed(w0, t, 2.0, lam))
        worst = max(worst, d / np.linalg.norm(prob.flow_closed(w0, t, 2.0, lam)))
    rep.verdict(worst <= 1e-10, "%s: reference self-check, solve_ivp DOP853 equals the "
                "closed-form flow (rel. diff %.2g <= 1e-10)" % (tag, worst))

    # Transient skips: lambda.csv (bookkeeping) and the documented rule.
    skip_fit = {}
    for h in hs:
        for beta in (0.0, BETA):
            r = find_row(lam_rows, model="user", method="hb" if beta else "gd", beta=beta, h=h)
            if r is None:
                rep.verdict(False, "%s: lambda.csv has the row h = %.6g beta = %g" % (tag, h, beta))
                return 1
            skip_fit[(h, beta)] = int(r["skip"])
    rule = {k: transient_rule(k[0], k[1], lmax) for k in skip_fit}
    rep.verdict(rule == skip_fit, "%s: lambda.csv's skip follows igr.h's transient rule %s"
                % (tag, sorted(rule.values())),
                "lambda.csv %r, rule %r" % (sorted(skip_fit.items()), sorted(rule.items())))
    t0 = max(skip_fit[(h, BETA)] * h for h in hs)
    skips_hb = {h: max(skip_fit[(h, BETA)], int(round(t0 / h))) for h in hs}
    skips_gd = {h: 0 for h in hs}

    compare_errors(rep, "user", prob.grad, prob.flow, w0, hs, 0.0, errs, skips_gd, tag, 1e-12)
    compare_errors(rep, "user", prob.grad, prob.flow, w0, hs, BETA, errs, skips_hb, tag, 1e-12)

    # The lambda fits: the window starts at the skip (0 for GD) and holds
    # `steps` steps; stride and L as in an_igr.c's study_lambda.
    L0 = steps // S
    stride = L0 // 2 if L0 >= 2 else 1
    if stride % 2 == 0:  # odd, as an_igr.c (alternating signs stay visible)
        stride -= 1
    for beta in (0.0, BETA):
        method = "hb" if beta else "gd"
        c0 = 1.0 / (1.0 - beta)
        for h in hs:
            r = find_row(lam_rows, model="user", method=method, beta=beta, h=h)
            lam0 = h * (1 + beta) / (4 * (1 - beta) ** 2)
            what = "%s %s h = %.4g" % (tag, method, h)
            # The theory's coefficients (formulas of igr.h).
            th = float(r["lambda_theory"])
            rep.verdict(abs(th - lam0) <= 1e-15 * lam0, "%s: lambda_theory %.10g = h(1+beta)/"
                        "(4(1-beta)^2)" % (what, th), "implreg %.17g, formula %.17g" % (th, lam0))
            if beta > 0:
                alt = float(r["lambda_alternative"])
                want = h / (4 * (1 - beta))
                rep.verdict(abs(alt - want) <= 1e-15 * want, "%s: lambda_alternative %.10g = "
                            "h/(4(1-beta))" % (what, alt), "implreg %.17g, formula %.17g"
                            % (alt, want))
            hl = float(r["h_lambda_max"])
            rep.verdict(abs(hl - h * lmax) <= 1e-10 * h * lmax, "%s: h_lambda_max %.10g = h "
                        "eigvalsh(X'X/n)[-1]" % (what, hl), "implreg %.17g, numpy %.17g"
                        % (hl, h * lmax))
            start = int(r["skip"])
            it = iterates(prob.grad, w0, h, beta, start + steps)
            resid, L = fit_residuals(prob.flow, it, h, start, start + steps, S, stride)
            got = float(r["lambda_fit"])
            c_fit, c_lo, c_hi = float(r["c_fit"]), float(r["c_lo"]), float(r["c_hi"])
            if c_lo == c_hi:  # c held at 1/(1 - beta)
                rep.verdict(c_fit == c0, "%s: c held at 1/(1-beta) = %g" % (what, c0),
                            "c_fit %.17g" % c_fit)
                lam, how = fit_lambda(resid, c0, lam0), "minimize_scalar"
                c_ref = c0
            else:  # c fitted too (heavy ball, when identified)
                lam, c_ref = fit_lambda_c(resid, lam0, c0)
                how = "least_squares over (lambda, c)"
                d = abs(c_fit - c_ref) / c_ref
                rep.verdict(d <= TOL_LAMBDA, "%s: c_fit %.10g (reference %.10g, %s; rel. diff "
                            "%.2g)" % (what, c_fit, c_ref, how, d),
                            "implreg %.17g, reference %.17g, rel. diff %.3g > %g"
                            % (c_fit, c_ref, d, TOL_LAMBDA))
            d = abs(got - lam) / abs(lam)
            rep.verdict(d <= TOL_LAMBDA,
                        "%s: lambda_fit %.10g (reference %.10g, %s over %d segments of %d "
                        "steps from iterate %d, stride %d; rel. diff %.2g)"
                        % (what, got, lam, how, S, L, start, stride, d),
                        "implreg %.17g, reference %.17g, rel. diff %.3g > %g"
                        % (got, lam, d, TOL_LAMBDA))
    return 1 if rep.failed else 0


# ---- the teacher network (torch) -------------------------------------------------------


def cmd_make_net(a):
    import torch
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(a.seed)
    n = 64
    X = rng.standard_normal((n, 4))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.5 * X[:, 2] * X[:, 3]
    torch.manual_seed(a.seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    theta = torch.cat([q.detach().reshape(-1) for q in net.parameters()]).numpy().copy()
    os.makedirs(a.dir, exist_ok=True)
    np.save(os.path.join(a.dir, "X.npy"), X)
    np.save(os.path.join(a.dir, "Y.npy"), y.reshape(-1, 1))
    np.save(os.path.join(a.dir, "theta.npy"), theta)
    tn = TorchNet(X, y.reshape(-1, 1))
    lmax = tn.lambda_max(theta)
    with open(os.path.join(a.dir, "h.txt"), "w") as f:
        f.write(",".join("%.17g" % (u / lmax) for u in NET_UNITS) + "\n")
    return 0


class TorchNet:
    """4-32-1 tanh, half-mse: E = 1/(2n) sum_i (f(x_i) - y_i)^2, theta in
    nn.Sequential's parameter order (W1 32x4, b1, W2 1x32, b2)."""

    def __init__(self, X, Y):
        import torch
        self.torch = torch
        torch.set_default_dtype(torch.float64)
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
        self.Y = torch.from_numpy(np.ascontiguousarray(Y, dtype=np.float64))
        self.p = 4 * 32 + 32 + 32 + 1

    def loss(self, th):
        W1 = th[0:128].reshape(32, 4)
        b1 = th[128:160]
        W2 = th[160:192].reshape(1, 32)
        b2 = th[192:193]
        out = self.torch.tanh(self.X @ W1.T + b1) @ W2.T + b2
        return 0.5 * ((out - self.Y) ** 2).sum() / self.X.shape[0]

    def grad(self, w):
        th = self.torch.from_numpy(np.array(w, dtype=np.float64)).requires_grad_(True)
        (g,) = self.torch.autograd.grad(self.loss(th), th)
        return g.numpy().copy()

    def field_np(self, c, lam):
        torch = self.torch

        def f(_t, w):
            th = torch.from_numpy(np.array(w, dtype=np.float64)).requires_grad_(True)
            (g,) = torch.autograd.grad(self.loss(th), th, create_graph=lam != 0)
            if lam != 0:
                (hg,) = torch.autograd.grad(g, th, grad_outputs=g.detach())
                v = g.detach() + 2.0 * lam * hg
            else:
                v = g
            return (-c * v).numpy().copy()
        return f

    def flow(self, w0, times, c, lam):
        times = np.atleast_1d(np.asarray(times, dtype=float))
        sol = solve_ivp(self.field_np(c, lam), (0.0, float(times[-1])), w0, method="DOP853",
                        t_eval=times, rtol=RTOL_IVP, atol=ATOL_IVP)
        if not sol.success:
            raise RuntimeError("solve_ivp: " + sol.message)
        return sol.y.T

    def lambda_max(self, w):
        th = self.torch.from_numpy(np.array(w, dtype=np.float64))
        H = self.torch.autograd.functional.hessian(self.loss, th).numpy()
        return float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])


def cmd_check_net(a):
    X = np.load(os.path.join(a.dir, "X.npy"))
    Y = np.load(os.path.join(a.dir, "Y.npy"))
    theta = np.load(os.path.join(a.dir, "theta.npy")).reshape(-1)
    hs = read_h(a.dir)
    errs = read_csv(os.path.join(a.out, "errors.csv"))
    tn = TorchNet(X, Y)
    rep = Report()
    tag = "teacher 4-32-1 tanh half-mse"
    if theta.shape != (tn.p,):
        rep.verdict(False, "%s: theta.npy has %d values" % (tag, tn.p), "shape %s" % (theta.shape,))
        return 1
    # PyTorch's layout: the flat vector is nn.Sequential's parameters().
    torch = tn.torch
    seq = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    torch.nn.utils.vector_to_parameters(torch.from_numpy(theta.copy()), seq.parameters())
    with torch.no_grad():
        L_mod = float(0.5 * ((seq(tn.X) - tn.Y) ** 2).sum() / X.shape[0])
    L_flat = float(tn.loss(torch.from_numpy(theta)))
    rep.verdict(abs(L_mod - L_flat) <= 1e-14 * abs(L_mod),
                "%s: the flat theta gives nn.Sequential's loss %.12g" % (tag, L_mod),
                "module %.17g, flat %.17g" % (L_mod, L_flat))
    lmax = tn.lambda_max(theta)
    for h in hs:
        r = find_row(errs, model="user", method="gd", beta=0.0, horizon="step", h=h)
        if r is None:
            continue  # reported by compare_errors
        hl = float(r["h_lambda_max"])
        rep.verdict(abs(hl - h * lmax) <= 1e-10 * h * lmax,
                    "%s gd h = %.4g: h_lambda_max %.10g = h lambda_max of the torch Hessian"
                    % (tag, h, hl), "implreg %.17g, torch %.17g" % (hl, h * lmax))
    compare_errors(rep, "user", tn.grad, tn.flow, theta, hs, 0.0, errs, {h: 0 for h in hs},
                   tag, 1e-12)
    return 1 if rep.failed else 0


def main():
    ap = argparse.ArgumentParser(description="independent reference for implreg igr")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("make-lsq", "make-net"):
        mk = sub.add_parser(name)
        mk.add_argument("dir")
        mk.add_argument("--seed", type=int, default=3)
    for name in ("check-lsq", "check-net"):
        ck = sub.add_parser(name)
        ck.add_argument("dir")
        ck.add_argument("out")
    try:
        a = ap.parse_args()
    except SystemExit as e:
        return 0 if e.code == 0 else 99
    if np is None:
        print("igr_ref: SKIP: numpy or scipy is not installed for %s" % sys.executable)
        return 77
    if a.cmd.endswith("-net"):
        try:
            importlib.import_module("torch")
        except ImportError:
            print("igr_ref: SKIP: torch is not installed for %s" % sys.executable)
            return 77
    fn = {"make-lsq": cmd_make_lsq, "check-lsq": cmd_check_lsq,
          "make-net": cmd_make_net, "check-net": cmd_check_net}[a.cmd]
    try:
        return fn(a)
    except (OSError, KeyError) as e:
        print("igr_ref: %s: %s" % (a.cmd, e))
        return 99


if __name__ == "__main__":
    sys.exit(main())
