#!/usr/bin/env python3
"""net_ref.py — an independent reference for `implreg hessian` (numpy only).

Usage:
  net_ref.py make DIR --arch A --loss L [--n N] [--seed S]
  net_ref.py check --arch A --act ACT --loss L --params THETA --X X --Y Y
                   --summary SUMMARY.json [--torch]

`make` writes a small random problem into DIR: theta.npy (p,), X.npy (n, d)
and Y.npy: for --loss ce integer class labels, shape (n,), and the same
labels as one-hot rows in Yoh.npy; for the squared losses (n, K) targets.

`check` computes, for the multilayer perceptron nn.Sequential(Linear, act,
..., Linear) with θ in PyTorch's layout (per linear layer the weight,
out x in, row-major, then the bias), by a plain numpy forward pass and
hand-written backpropagation:

  * the loss (mse: torch MSELoss, the mean over all n*K elements; half-mse:
    1/(2n) sum_i ||f(x_i) - y_i||^2; ce: torch CrossEntropyLoss, the mean
    over samples of logsumexp(f) - f_y);
  * the gradient, and its norm (the backpropagation is itself checked
    against central differences of the numpy loss);
  * the dense Hessian by central differences of that gradient (step 1e-5,
    symmetrized) and its eigenvalues by numpy.linalg.eigvalsh;

and compares implreg's summary.json: loss to 1e-12 relative, grad_norm to
1e-12 relative, top[0] to 1e-6 relative (the finite-difference Hessian
carries ~1e-9), and, when summary.json holds the dense spectrum (--full),
every eigenvalue to 1e-6 * max|lambda|.  With --torch, also against torch
autograd in float64 (torch.autograd.functional.hessian, exact): loss and
grad_norm to 1e-12, top[0] to 1e-9 relative (Lanczos converges to
1e-10 * ||H||), and θ's layout against nn.Sequential's parameters().

Prints one line "PASS what" or "FAIL what" (followed by lines indented by
two spaces) per comparison.  Exit status: 0 all passed, 1 a comparison
failed, 77 numpy (or, with --torch, torch) is not installed, 99 bad usage.
"""
import argparse
import json
import math
import os
import sys

try:
    import numpy as np
except ImportError:  # reported by main()
    np = None

ACTS = ("relu", "tanh", "softplus", "gelu", "identity")
LOSSES = ("mse", "half-mse", "ce")


def parse_arch(spec):
    w = [int(v) for v in spec.split("-")]
    if len(w) < 2 or min(w) < 1:
        raise ValueError("bad --arch %r" % spec)
    return w


def nparams(w):
    return sum(w[l + 1] * w[l] + w[l + 1] for l in range(len(w) - 1))


def unpack(w, theta):
    """[(W (out x in), b (out,))] per layer, in PyTorch's order (theta: a
    numpy array or a torch tensor)."""
    layers, off = [], 0
    for l in range(len(w) - 1):
        nin, nout = w[l], w[l + 1]
        W = theta[off:off + nout * nin].reshape(nout, nin)
        off += nout * nin
        b = theta[off:off + nout]
        off += nout
        layers.append((W, b))
    assert off == len(theta)
    return layers


# ---- activations: value and derivative -----------------------------------------

_erfc = None


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "softplus":
        return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    if name == "gelu":  # exact GELU: z Phi(z), as torch's default
        return z * 0.5 * _erfc(-z / math.sqrt(2.0))
    return z


def act_deriv(name, z):
    if name == "relu":
        return (z > 0).astype(float)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "softplus":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic sigmoid
    if name == "gelu":
        phi = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return 0.5 * _erfc(-z / math.sqrt(2.0)) + z * phi
    return np.ones_like(z)


# ---- the network -------------------------------------------------------------------


class Net:
    def __init__(self, arch, act_name, loss, X, Y):
        self.w = parse_arch(arch)
        self.act = act_name
        self.loss_name = loss
        self.X = X
        self.Y = Y
        self.p = nparams(self.w)

    def forward(self, theta):
        """Pre-activations z_l and activations a_l (a_0 = X, a_L = f)."""
        a, zs, acts = self.X, [], [self.X]
        layers = unpack(self.w, theta)
        for l, (W, b) in enumerate(layers):
            z = a @ W.T + b
            zs.append(z)
            a = z if l == len(layers) - 1 else act(self.act, z)
            acts.append(a)
        return zs, acts

    def loss_and_dout(self, f):
        """The loss and dL/df."""
        Y, m, K = self.Y, f.shape[0], f.shape[1]
        r = f - Y
        if self.loss_name == "mse":
            return float(np.sum(r * r)) / (m * K), 2.0 * r / (m * K)
        if self.loss_name == "half-mse":
            return float(np.sum(r * r)) / (2.0 * m), r / m
        mx = f.max(axis=1, keepdims=True)
        e = np.exp(f - mx)
        s = e.sum(axis=1, keepdims=True)
        lse = (mx + np.log(s))[:, 0]
        ysum = Y.sum(axis=1)
        L = float(np.sum(lse * ysum - np.sum(Y * f, axis=1))) / m
        return L, (e / s * ysum[:, None] - Y) / m

    def loss(self, theta):
        return self.loss_and_dout(self.forward(theta)[1][-1])[0]

    def grad(self, theta):
        """Backpropagation: the loss and its gradient in θ's layout."""
        zs, acts = self.forward(theta)
        L, delta = self.loss_and_dout(acts[-1])
        layers = unpack(self.w, theta)
        parts = []
        for l in range(len(layers) - 1, -1, -1):
            W = layers[l][0]
            parts.append((delta.T @ acts[l], delta.sum(axis=0)))
            if l > 0:
                delta = (delta @ W) * act_deriv(self.act, zs[l - 1])
        g = np.concatenate([np.concatenate([gW.ravel(), gb])
                            for gW, gb in reversed(parts)])
        return L, g

    def grad_fd(self, theta, h=1e-6):
        g = np.empty(self.p)
        for j in range(self.p):
            e = np.zeros(self.p)
            e[j] = h
            g[j] = (self.loss(theta + e) - self.loss(theta - e)) / (2 * h)
        return g

    def hessian_fd(self, theta, h=1e-5):
        H = np.empty((self.p, self.p))
        for j in range(self.p):
            e = np.zeros(self.p)
            e[j] = h
            H[:, j] = (self.grad(theta + e)[1] - self.grad(theta - e)[1]) / (2 * h)
        return H


# ---- input ---------------------------------------------------------------------------


def load_targets(path, K, loss):
    Y = np.load(path) if path.endswith(".npy") else np.loadtxt(path, delimiter=",", ndmin=2)
    Y = np.asarray(Y, dtype=float)
    if loss == "ce" and (Y.ndim == 1 or (Y.ndim == 2 and Y.shape[1] == 1 and K > 1)):
        lab = Y.reshape(-1).astype(int)
        oh = np.zeros((lab.size, K))
        oh[np.arange(lab.size), lab] = 1.0
        return oh
    return Y.reshape(Y.shape[0], -1)


# ---- the comparisons --------------------------------------------------------------------


class Report:
    def __init__(self):
        self.failed = 0

    def rel(self, what, got, want, tol):
        err = abs(got - want) / max(abs(want), 1e-300)
        self.verdict(err <= tol, what,
                     "implreg %.17g, reference %.17g, relative error %.3g > %g"
                     % (got, want, err, tol))

    def verdict(self, ok, what, detail=""):
        if ok:
            print("PASS " + what)
        else:
            self.failed += 1
            print("FAIL " + what)
            if detail:
                print("  " + detail)


def torch_checks(rep, net, theta, summary, tag):
    import torch
    import torch.nn.functional as F
    torch.set_default_dtype(torch.float64)
    w, X = net.w, torch.from_numpy(net.X)
    Y = torch.from_numpy(net.Y)
    acts = {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu,
            "identity": lambda z: z,
            # torch's softplus turns linear above threshold=20: raise it
            "softplus": lambda z: F.softplus(z, beta=1.0, threshold=1000.0)}
    phi = acts[net.act]

    def lossf(out):
        if net.loss_name == "mse":
            return F.mse_loss(out, Y)
        if net.loss_name == "half-mse":
            return 0.5 * ((out - Y) ** 2).sum(dim=1).mean()
        return F.cross_entropy(out, Y.argmax(dim=1))

    def model_out(th):
        a = X
        layers = unpack(w, th)  # slicing and reshape work on tensors too
        for l, (W, b) in enumerate(layers):
            a = F.linear(a, W, b)
            if l < len(layers) - 1:
                a = phi(a)
        return a

    # θ's layout is nn.Sequential(Linear, act, ..., Linear).parameters().
    mods = []
    for l in range(len(w) - 1):
        mods.append(torch.nn.Linear(w[l], w[l + 1]))
        if l < len(w) - 2:
            mods.append(torch.nn.Tanh())  # any module: only the layout matters
    seq = torch.nn.Sequential(*mods).double()
    th = torch.from_numpy(theta.copy())
    torch.nn.utils.vector_to_parameters(th, seq.parameters())
    lin = [m for m in seq if isinstance(m, torch.nn.Linear)]
    same = all(torch.equal(m.weight, u[0]) and torch.equal(m.bias, u[1])
               for m, u in zip(lin, [(torch.from_numpy(W), torch.from_numpy(b))
                                     for W, b in unpack(w, theta)]))
    rep.verdict(same, "%s: theta layout is nn.Sequential's parameters() (torch)" % tag)
    thg = th.clone().requires_grad_(True)
    L = lossf(model_out(thg))
    (g,) = torch.autograd.grad(L, thg)
    H = torch.autograd.functional.hessian(lambda t: lossf(model_out(t)), th)
    ev = np.linalg.eigvalsh(H.numpy())
    rep.rel("%s: loss against torch autograd (1e-12)" % tag, summary["loss"], L.item(), 1e-12)
    rep.rel("%s: grad_norm against torch autograd (1e-12)" % tag, summary["grad_norm"],
            float(g.norm()), 1e-12)
    rep.rel("%s: top eigenvalue against torch.autograd.functional.hessian (1e-9)" % tag,
            summary["top"][0], float(ev[-1]), 1e-9)


def cmd_check(a):
    global _erfc
    _erfc = np.vectorize(math.erfc, otypes=[float])
    w = parse_arch(a.arch)
    theta = np.asarray(np.load(a.params), dtype=float).reshape(-1)
    X = np.asarray(np.load(a.X), dtype=float)
    Y = load_targets(a.Y, w[-1], a.loss)
    net = Net(a.arch, a.act, a.loss, X, Y)
    with open(a.summary) as f:
        summary = json.load(f)
    tag = "%s %s %s" % (a.arch, a.act, a.loss)
    rep = Report()
    if len(theta) != net.p or summary.get("n_params") != net.p:
        rep.verdict(False, "%s: parameter count" % tag,
                    "theta has %d values, the architecture %d, summary.json says %r"
                    % (len(theta), net.p, summary.get("n_params")))
        return 1
    L, g = net.grad(theta)
    gfd = net.grad_fd(theta)
    err = np.linalg.norm(g - gfd) / np.linalg.norm(g)
    rep.verdict(err <= 1e-6, "%s: reference backpropagation agrees with central "
                "differences of the loss (1e-6)" % tag, "relative error %.3g" % err)
    H = net.hessian_fd(theta)
    asym = np.abs(H - H.T).max() / np.abs(H).max()
    rep.verdict(asym <= 1e-6, "%s: finite-difference Hessian is symmetric (1e-6)" % tag,
                "max|H - H'| / max|H| = %.3g" % asym)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    rep.rel("%s: loss (1e-12)" % tag, summary["loss"], L, 1e-12)
    rep.rel("%s: grad_norm (1e-12, backpropagation)" % tag, summary["grad_norm"],
            float(np.linalg.norm(g)), 1e-12)
    rep.rel("%s: top eigenvalue (1e-6, finite-difference Hessian)" % tag,
            summary["top"][0], float(ev[-1]), 1e-6)
    if "spectrum" in summary:
        s = np.asarray(summary["spectrum"], dtype=float)
        if s.shape != ev.shape:
            rep.verdict(False, "%s: dense spectrum" % tag,
                        "%d eigenvalues, expected %d" % (s.size, ev.size))
        else:
            d = np.abs(s - ev).max()
            scale = np.abs(ev).max()
            rep.verdict(d <= 1e-6 * scale,
                        "%s: whole dense spectrum (1e-6 max|lambda|)" % tag,
                        "max difference %.3g, max|lambda| %.3g" % (d, scale))
    if a.torch:
        torch_checks(rep, net, theta, summary, tag)
    return 1 if rep.failed else 0


def cmd_make(a):
    w = parse_arch(a.arch)
    d, K = w[0], w[-1]
    r = np.random.default_rng(a.seed)
    # Weights of torch's scale (U(+-1/sqrt(fan_in))), a little larger so that
    # the activations are well inside their nonlinear range.
    parts = []
    for l in range(len(w) - 1):
        bound = 2.0 / math.sqrt(w[l])
        parts.append(r.uniform(-bound, bound, w[l + 1] * w[l]))
        parts.append(r.uniform(-bound, bound, w[l + 1]))
    os.makedirs(a.dir, exist_ok=True)
    np.save(os.path.join(a.dir, "theta.npy"), np.concatenate(parts))
    np.save(os.path.join(a.dir, "X.npy"), r.standard_normal((a.n, d)))
    if a.loss == "ce":
        lab = np.arange(a.n) % K  # every class present
        r.shuffle(lab)
        np.save(os.path.join(a.dir, "Y.npy"), lab.astype(float))
        np.save(os.path.join(a.dir, "Yoh.npy"), np.eye(K)[lab])
    else:
        np.save(os.path.join(a.dir, "Y.npy"), r.standard_normal((a.n, K)))
    return 0


def main():
    ap = argparse.ArgumentParser(description="numpy reference for implreg hessian")
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("dir")
    mk.add_argument("--arch", required=True)
    mk.add_argument("--loss", choices=LOSSES, required=True)
    mk.add_argument("--n", type=int, default=20)
    mk.add_argument("--seed", type=int, default=1)
    ck = sub.add_parser("check")
    ck.add_argument("--arch", required=True)
    ck.add_argument("--act", choices=ACTS, required=True)
    ck.add_argument("--loss", choices=LOSSES, required=True)
    ck.add_argument("--params", required=True)
    ck.add_argument("--X", required=True)
    ck.add_argument("--Y", required=True)
    ck.add_argument("--summary", required=True)
    ck.add_argument("--torch", action="store_true")
    try:
        a = ap.parse_args()
    except SystemExit as e:
        return 0 if e.code == 0 else 99
    if np is None:
        print("net_ref: SKIP: numpy is not installed for %s" % sys.executable)
        return 77
    if a.cmd == "make":
        return cmd_make(a)
    if a.torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("net_ref: SKIP: torch is not installed for %s" % sys.executable)
            return 77
    return cmd_check(a)


if __name__ == "__main__":
    sys.exit(main())
