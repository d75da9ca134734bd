#!/usr/bin/env python3
"""theory_mpmath.py -- the closed forms of include/implreg/theory.h against
independent 50-digit computations with mpmath (docs/theory.md sections 2, 3
and 7).

The C functions are called through libimplreg (found as implreg._lib finds
it: IMPLREG_LIB).  The references are not transcriptions of src/theory.c:

  ridge terms   bias/r2 = atom + int lam^2/(x + lam)^2 rho(x) dx and
                var/sigma2 = gamma int x/(x + lam)^2 rho(x) dx over the
                Marchenko-Pastur density rho (docs/theory.md section 2), by
                tanh-sinh quadrature; m and m' likewise as int 1/(x + lam)
                and int 1/(x + lam)^2 (plus the atom at 0);
  ridgeless     the same integrals at lam = 0 (gamma != 1);
  optimum       the risk at lam* = sigma2 gamma/r2 from those integrals;
  gamma*        the minimizer of r2 (1 - 1/g) + sigma2/(g - 1) found by
                mpmath.findroot on the derivative;
  MP moments    int x^k rho(x) dx by quadrature; the cdf likewise;
  heavy ball    max |root| of r^2 - (1 + beta - eta lam) r + beta by
                mpmath.polyroots;
  Mei-Montanari the expanded E0, E1, E2 of docs/theory.md section 3
                (src/theory.c uses a factored form of E0).

Tolerances come from the conditioning of each function at the (exact,
binary) input: a computation that is backward stable to a few roundings in
its inputs has relative error <= C eps (1 + kappa), kappa = sum over the
inputs a of |d log f / d log a| (computed here with mpmath.diff on a
50-digit closed form, or by hand where stated).  Differences of inputs
that floating point forms exactly (1 - gamma for gamma in [1/2, 2],
r2 - sigma2 within a factor 2, by Sterbenz's lemma; p - n in integers)
count as inputs of their own: perturbing them costs only their own
relative error, not the 1/|1 - gamma| amplification that a perturbation of
gamma itself would suffer, so formulas that cancel there (1 - 1/gamma,
s - 1) are caught.  C = 16 covers the dozen or so roundings of the
longest formula (each contributes <= eps).  Results that fall below
the smallest normal double (2.2e-308; they lose relative accuracy by
design, as for any libm function) are allowed an absolute error of
ATOL = 64 * 2^-1074 times the scale factors r2 and sigma2.

Output: one line per failing case and one summary line per function with
the worst error as a multiple of the tolerance and the worst relative
error; exit 1 on any failure.  `theory_mpmath.py --pin` prints the
reference digits pinned in tests/test_theory.c.
"""
import ctypes as C
import math
import sys

try:
    import mpmath
    from mpmath import mp, mpf
except ImportError:
    print("SKIP: mpmath is not installed (Debian: python3-mpmath)")
    sys.exit(77)

from implreg._lib import lib  # noqa: E402  (IMPLREG_LIB)

mp.dps = 50
EPS = 2.0 ** -52
C_ROUND = 16
ATOL = 64 * 2.0 ** -1074
TINY = 2.2250738585072014e-308

D = C.c_double
PD = C.POINTER(C.c_double)
lib.ir_theory_mp_stieltjes.argtypes = [D, D, PD, PD]
lib.ir_theory_ridge_terms.argtypes = [D, D, D, D, PD, PD]
lib.ir_theory_ridge_risk.argtypes = [D, D, D, D, PD]
lib.ir_theory_ridge_optimal.argtypes = [D, D, D, PD, PD]
lib.ir_theory_hastie.argtypes = [D, D, D, PD, PD]
lib.ir_theory_hastie_exact.argtypes = [C.c_size_t, C.c_size_t, D, D, PD, PD]
lib.ir_theory_hastie_gamma_star.argtypes = [D, D, PD, PD]
lib.ir_theory_mp_edges.argtypes = [D, PD, PD]
for _name in ("ir_theory_mp_density", "ir_theory_mp_cdf"):
    getattr(lib, _name).argtypes = [D, D]
    getattr(lib, _name).restype = D
lib.ir_theory_mp_atom.argtypes = [D]
lib.ir_theory_mp_atom.restype = D
lib.ir_theory_mp_moment.argtypes = [D, C.c_int]
lib.ir_theory_mp_moment.restype = D
lib.ir_theory_heavy_ball_radius.argtypes = [D, D, D]
lib.ir_theory_heavy_ball_radius.restype = D


class RFRisk(C.Structure):
    _fields_ = [("bias", D), ("variance", D), ("nonlinear", D), ("risk", D)]


lib.ir_theory_mei_montanari.argtypes = [D, D, D, D, D, D, C.POINTER(RFRisk)]


def call2(fn, *args):
    a, b = D(), D()
    st = fn(*args, C.byref(a), C.byref(b))
    return st, a.value, b.value


# ---- bookkeeping -------------------------------------------------------------

FAILS = []
REF_FAILS = []  # references whose quadrature did not converge
WORST = {}


def check(name, case, got, ref, kappa, scale=1.0, extra=0.0):
    """got (a double or None for an error status) against ref (mpf or
    None for 'must be refused'); the tolerance is C eps (1 + kappa)
    relative, plus ATOL*scale absolute, plus extra relative."""
    w = WORST.setdefault(name, [0.0, 0.0, "", 0])
    w[3] += 1
    if ref is None:
        if got is not None:
            FAILS.append("%s %s: returned %r, should be refused" %
                         (name, case, got))
        return
    if got is None:
        FAILS.append("%s %s: refused, reference %s" %
                     (name, case, mpmath.nstr(ref, 17)))
        return
    if math.isnan(got) or (math.isinf(got) and not mpmath.isinf(ref)):
        FAILS.append("%s %s: %r, reference %s" %
                     (name, case, got, mpmath.nstr(ref, 17)))
        w[0] = w[1] = float("inf")
        w[2] = case
        return
    if mpmath.isinf(ref):
        if got != float(ref):
            FAILS.append("%s %s: %r, reference %s" % (name, case, got, ref))
        return
    err = abs(mpf(got) - ref)
    tol = C_ROUND * EPS * (1 + kappa) * abs(ref) + extra * abs(ref) \
        + ATOL * scale
    rel = float(err / abs(ref)) if ref != 0 else float(err)
    if abs(ref) < TINY * scale:
        rel = 0.0  # underflow: judged by ATOL only
    ratio = float(err / tol)
    if ratio > w[0]:
        w[0] = ratio
        w[2] = case
    w[1] = max(w[1], rel)
    if err > tol:
        FAILS.append("%s %s: %.17g, reference %s, rel. error %.3g > tol "
                     "%.3g (kappa %.3g)" % (name, case, got,
                                           mpmath.nstr(ref, 17), rel,
                                           float(tol / abs(ref))
                                           if ref else float(tol),
                                           float(kappa)))


def check_abs(name, case, got, ref, atol):
    """Absolute error <= atol (plus an ulp of ref); 'worst rel.' in the
    summary is then the worst absolute error."""
    w = WORST.setdefault(name + "(abs)", [0.0, 0.0, "", 0])
    w[3] += 1
    err = abs(mpf(got) - ref) if not math.isnan(got) else mpmath.inf
    tol = atol + EPS * abs(ref)
    ratio = float(err / tol) if tol > 0 else (0.0 if err == 0 else math.inf)
    if ratio > w[0]:
        w[0] = ratio
        w[2] = case
    w[1] = max(w[1], float(err))
    if not err <= tol:
        FAILS.append("%s %s: %.17g, reference %s, abs. error %.3g > %.3g"
                     % (name, case, got, mpmath.nstr(ref, 17), float(err),
                        float(tol)))


# ---- Marchenko-Pastur integrals ------------------------------------------------

def extra_dps(g):
    """Digits beyond 50 that resolve a support of width 4 sqrt(g) at
    position ~ max(1, g)."""
    return 10 + int(abs(math.log10(float(g))) / 2)


def mp_support(g):
    g = mpf(g)
    return (1 - mpmath.sqrt(g)) ** 2, (1 + mpmath.sqrt(g)) ** 2


def mp_integral(g, f, near=None):
    """int f(x) rho(x) dx over the continuous part, with x = c - r cos(phi)
    (which removes the square-root edges: rho(x) dx = r^2 sin^2(phi) /
    (2 pi g x) dphi).  f may vary on a scale `near` (a distance from the
    lower edge): the interval is then split geometrically from there so
    that tanh-sinh resolves it."""
    with mp.workdps(mp.dps + extra_dps(g)):
        return +mp_integral_(g, f, near)


def mp_integral_(g, f, near):
    g = mpf(g)
    lo, hi = mp_support(g)
    r = (hi - lo) / 2

    def h(phi):
        # x = c - r cos(phi), written as lo + r (1 - cos phi) =
        # lo + 2 r sin^2(phi/2), which keeps x - lo exact near phi = 0
        x = lo + 2 * r * mpmath.sin(phi / 2) ** 2
        return f(x) * r * r * mpmath.sin(phi) ** 2 / (2 * mpmath.pi * g * x)

    pts = [mpf(0)]
    if near is not None:
        # phi where x - lo = near: 2 r sin^2(phi/2) = near
        s = mpmath.sqrt(near / (2 * r))
        phi0 = 2 * mpmath.asin(s) if s < 1 else mpmath.pi
        p = phi0 / 16
        while p < mpmath.pi:
            pts.append(p)
            p *= 32
    # also the lower edge itself when it is near 0 (gamma close to 1):
    # 1/x varies on the scale lo there
    if lo < r / 100 and lo > 0:
        s = mpmath.sqrt(lo / (2 * r))
        p = 2 * mpmath.asin(s) / 16
        while p < mpmath.pi:
            pts.append(p)
            p *= 4
    pts = sorted(set(pts)) + [mpmath.pi]
    # mpmath.quad stops on an absolute error estimate: integrate f divided
    # by a first, 15-digit estimate of the integral so that the target is
    # relative, whatever the magnitude (1e-600 or 1e150 here)
    with mp.workdps(15):
        s0 = mpmath.quad(h, pts)
    if s0 == 0:
        return s0
    val, err = mpmath.quad(lambda phi: h(phi) / s0, pts, error=True)
    if not err <= mpf(10) ** -30 * abs(val):
        REF_FAILS.append("quadrature error estimate %s at gamma = %s"
                         % (mpmath.nstr(err, 3), mpmath.nstr(g, 17)))
    return val * s0


def atom(g):
    g = mpf(g)
    return 1 - 1 / g if g > 1 else mpf(0)


def ridge_ref(g, lam):
    """(bias/r2, var/sigma2, m, m') at gamma = g, lambda = lam, by
    quadrature of the MP law: two integrals, since lam^2 m' is the bias
    integral (atom included) and m - lam m' = var/gamma (integrands
    1/(x + lam) - lam/(x + lam)^2 = x/(x + lam)^2)."""
    g, lam = mpf(g), mpf(lam)
    lo, _ = mp_support(g)
    near = lam + lo
    bias = atom(g) + mp_integral(g, lambda x: (lam / (x + lam)) ** 2, near)
    vint = mp_integral(g, lambda x: x / (x + lam) ** 2, near)
    dm = bias / lam ** 2
    return bias, g * vint, vint + lam * dm, dm


def ridge_closed(g, lam, delta=None):
    """The same four quantities from the quadratic for m (the root taken in
    the form without cancellation, with enough digits that m - lam m'
    keeps 50), used only for the condition numbers and cross-checked
    against the quadrature.  delta = 1 - gamma is a separate argument:
    src/theory.c forms 1 - gamma exactly near gamma = 1 (Sterbenz) and with
    one rounding elsewhere, so its error model perturbs delta, gamma and
    lambda independently (at gamma = 1, delta = 0 is exact, although the
    bias is infinitely sensitive to gamma itself there)."""
    with mp.workdps(700):  # m - lam m' cancels ~1/lam (<= 1e324)
        g, lam = mpf(g), mpf(lam)
        delta = 1 - g if delta is None else mpf(delta)
        b = delta + lam
        D = mpmath.sqrt(b * b + 4 * g * lam)
        m = 2 / (b + D) if b >= 0 else (D - b) / (2 * g * lam)
        dm = m * (1 + g * m) / D
        out = lam ** 2 * dm, g * (m - lam * dm), m, dm
    return tuple(+x for x in out)


def kappa_of(fun, x):
    """sum_i |d log f / d log x_i| at x (f > 0), by mpmath.diff in log
    coordinates."""
    k = mpf(0)
    f0 = fun(*x)
    if f0 == 0:
        return mpf(0)
    for i in range(len(x)):
        def fi(t, i=i):
            y = list(x)
            y[i] = mpf(x[i]) * mpmath.exp(t)
            return fun(*y)
        k += abs(mpmath.diff(fi, 0) / f0)
    return k


def ridge_kappas(g, lam):
    out = []
    with mp.workdps(700):
        delta = 1 - mpf(g)
    for i in range(4):
        out.append(kappa_of(lambda d, a, b, i=i: ridge_closed(a, b, d)[i],
                            [delta, mpf(g), mpf(lam)]))
    return out


# ---- the tests -------------------------------------------------------------------

GAMMAS = [0.1, 0.5, 0.9, 0.99, 1.0, 1.01, 1.1, 2.0, 4.0, 10.0, 100.0]
# every 30 decades (--full: every 10; about 3 and 9 minutes of one core,
# most of it at gamma near 1 and tiny lambda, where the integrand has a
# feature of width sqrt(lambda) at the lower edge)
DECADES = 10 if "--full" in sys.argv else 30
LAMBDAS = sorted(set([10.0 ** e for e in range(-300, 301, DECADES)] +
                     [1e-17, 1e-12, 1e-8, 1e-4, 1e-2, 0.1, 0.5, 1.0, 2.0, 10.0,
                      1e155, 1e160, 1.7e308, 5e-324]))


def test_ridge():
    for g in GAMMAS:
        for lam in LAMBDAS:
            case = "gamma=%r lambda=%r" % (g, lam)
            refs = ridge_ref(g, lam)
            kap = ridge_kappas(g, lam)
            # the closed form agrees with the quadrature (a check of the
            # reference itself, at 1e-30)
            cl = ridge_closed(g, lam)
            for a, b in zip(refs, cl):
                if abs(a - b) > mpf(10) ** -30 * abs(a):
                    FAILS.append("reference %s: quadrature %s, closed form %s"
                                 % (case, a, b))
            st, B, V = call2(lib.ir_theory_ridge_terms, g, lam, 1.0, 1.0)
            check("ridge_terms.bias", case, B if st == 0 else None, refs[0],
                  kap[0])
            check("ridge_terms.var", case, V if st == 0 else None, refs[1],
                  kap[1])
            R = D()
            st = lib.ir_theory_ridge_risk(g, lam, 1.0, 1.0, C.byref(R))
            # the sum of two positive terms: kappa at most the larger one
            check("ridge_risk", case, R.value if st == 0 else None,
                  refs[0] + refs[1], max(kap[0], kap[1]))
            if st == 0 and not (B >= 0 and V >= 0):
                FAILS.append("ridge_terms %s: negative term %r %r" %
                             (case, B, V))
            # other scale factors: r2, sigma2 only multiply
            st, B2, V2 = call2(lib.ir_theory_ridge_terms, g, lam, 0.7, 3.0)
            check("ridge_terms.r2s2", case, B2 + V2 if st == 0 else None,
                  mpf(0.7) * refs[0] + 3 * refs[1], max(kap[0], kap[1]),
                  scale=3.0)
            st, m, dm = call2(lib.ir_theory_mp_stieltjes, g, lam)
            big_m = refs[2] > mpf(1.7976931348623157e308)
            big_dm = refs[3] > mpf(1.7976931348623157e308)
            check("mp_stieltjes.m", case, m if st == 0 else None,
                  None if big_m or big_dm else refs[2], kap[2])
            if not (big_m or big_dm):
                check("mp_stieltjes.dm", case, dm if st == 0 else None,
                      refs[3], kap[3])


def test_ridge_optimal():
    for g in GAMMAS + [1e-100, 1e100]:
        for r2, s2 in [(1.0, 1.0), (2.0, 0.3), (1.0, 1e-300), (1e-200, 1e100)]:
            case = "gamma=%r r2=%r sigma2=%r" % (g, r2, s2)
            lam = mpf(s2) * mpf(g) / mpf(r2)
            st, l, R = call2(lib.ir_theory_ridge_optimal, g, r2, s2)
            if not (mpf(5e-324) < lam < mpf(1.7976931348623157e308)):
                check("ridge_optimal.risk", case, None if st else R, None, 0)
                continue
            # R(lambda) at its minimum: first-order insensitive to the
            # rounding of lambda*, so the reference is taken at lambda*.
            b, v, _, _ = ridge_ref(g, lam)
            ref = mpf(r2) * b + mpf(s2) * v
            def opt(dl, a, c, d):
                b_, v_, _, _ = ridge_closed(a, d * a / c, dl)
                return c * b_ + d * v_
            with mp.workdps(700):
                delta = 1 - mpf(g)
            kap = kappa_of(opt, [delta, mpf(g), mpf(r2), mpf(s2)])
            check("ridge_optimal.risk", case, R if st == 0 else None, ref, kap,
                  scale=max(r2, s2))
            check("ridge_optimal.lambda", case, l if st == 0 else None, lam, 2)


def test_hastie():
    gs = [1e-300, 1e-10, 0.1, 0.5, 0.9, 0.99, 1 - 2 ** -40, 1 + 2 ** -40,
          1.01, 1.1, 2.0, 4.0, 10.0, 100.0, 1e10, 1e300]
    for g in gs:
        case = "gamma=%r" % g
        st, B, V = call2(lib.ir_theory_hastie, g, 1.0, 1.0)
        G = mpf(g)
        # the ridgeless risk as the lambda -> 0 limit of the MP integrals:
        # bias = the atom, variance = gamma int rho(x)/x dx
        Bref = atom(g)
        if 1e-5 < g < 1e5:
            Vref = G * mp_integral(g, lambda x: 1 / x)
        else:  # beyond the quadrature's comfort: the formula itself
            Vref = G / (1 - G) if G < 1 else 1 / (G - 1)
        # with 1 - gamma an exact input (see the module comment):
        # (g - 1)/g and g/(1 - g) have kappa 2
        kb = kv = 2
        check("hastie.bias", case, B if st == 0 else None, Bref, kb)
        check("hastie.var", case, V if st == 0 else None, Vref, kv)
    st, B, V = call2(lib.ir_theory_hastie, 0.9, 1e308, 1e308)
    check("hastie.var", "gamma=0.9 sigma2=1e308", V if st == 0 else None,
          None, 0)


def test_hastie_exact():
    big = 2 ** 64 - 1
    cases = [(40, 100), (100, 40), (10, 12), (12, 10), (10 ** 6, 10 ** 6 + 2),
             (2 ** 60, 2 ** 60 + 2), (2 ** 60 + 2, 2 ** 60),
             (2 ** 60, 2 ** 60 + 3), (big - 1, 1), (1, big), (big - 1, big),
             (big, big - 2)]
    for n, p in cases:
        case = "n=%d p=%d" % (n, p)
        st, B, V = call2(lib.ir_theory_hastie_exact, n, p, 1.0, 1.0)
        N, P = mpf(n), mpf(p)
        if p + 2 <= n:
            Bref, Vref = mpf(0), P / (N - P - 1)
        elif p >= n + 2:
            Bref, Vref = (P - N) / P, N / (P - N - 1)
        else:
            Bref, Vref = ((P - N) / P if p > n else mpf(0)), mpmath.inf
        # kappa: the integers are exact inputs, but above 2^53 their
        # conversion to double is itself a rounding of relative eps/2,
        # amplified by n/(p - n) or so
        kap = (N + P) / max(abs(P - N) - 1, 1) if max(n, p) > 2 ** 53 else 1
        check("hastie_exact.bias", case, B if st == 0 else None, Bref, kap)
        check("hastie_exact.var", case, V if st == 0 else None, Vref, kap)


def test_gamma_star():
    for r2, s2 in [(4.0, 1.0), (1.0 + 2 ** -30, 1.0), (1.0 + 1e-12, 1.0),
                   (2.0, 1.0), (1e6, 1.0), (1e300, 1e-300), (3.0, 2.0)]:
        case = "r2=%r sigma2=%r" % (r2, s2)
        st, gs, R = call2(lib.ir_theory_hastie_gamma_star, r2, s2)
        R2, S2 = mpf(r2), mpf(s2)

        # R'(g) g^2 / r2 = 1 - (sigma2/r2) (g/(g - 1))^2, of order one,
        # solved for t = log(g - 1) (g* - 1 spans 1e-300 to 1e12 here)
        def dR(t):
            u = mpmath.exp(t)
            return 1 - (S2 / R2) * ((1 + u) / u) ** 2
        s = mpmath.sqrt(R2 / S2)
        t = mpmath.findroot(dR, -mpmath.log(s - 1) + mpf(10) ** -6)
        gref = 1 + mpmath.exp(t)
        u = mpmath.exp(t)
        Rref = R2 * u / (1 + u) + S2 / u
        # d log g*/d log SNR = -1/(2(s - 1)) is large near SNR = 1, but
        # r2 - sigma2 is exact there (Sterbenz): as a function of
        # (r2 - sigma2, sigma2), g* = s(s + 1) sigma2/(r2 - sigma2) has
        # kappa <= 4
        kap = 4
        check("gamma_star", case, gs if st == 0 else None, gref, kap)
        check("gamma_star.risk", case, R if st == 0 else None, Rref, 2)


def test_mp_law():
    for g in [1e-300, 1e-20, 1e-3, 0.1, 0.5, 0.99, 1.0, 1 + 2 ** -40, 1.01, 2.0,
              100.0, 1e20, 1e300]:
        mp.dps = 50 + extra_dps(g)
        G = mpf(g)
        lo, hi = mp_support(g)
        st, l, h = call2(lib.ir_theory_mp_edges, g)
        kl = 3  # ((1 - g)/(1 + sqrt g))^2, 1 - g exact
        check("mp_edges.lo", "gamma=%r" % g, l if st == 0 else None, lo, kl)
        check("mp_edges.hi", "gamma=%r" % g, h if st == 0 else None, hi, 1)
        check("mp_atom", "gamma=%r" % g, lib.ir_theory_mp_atom(g), atom(g),
              2)
        for t in [0.001, 0.1, 0.5, 0.9, 0.999]:
            x = float(lo + t * (hi - lo))
            X = mpf(x)

            def dens(a, b):
                lo_, hi_ = mp_support(a)
                return mpmath.sqrt((hi_ - b) * (b - lo_)) / (
                    2 * mpmath.pi * a * b)
            ref = dens(G, X)
            kap = kappa_of(dens, [G, X])
            check("mp_density", "gamma=%r x=%r" % (g, x),
                  lib.ir_theory_mp_density(g, x), ref, kap)
            # the cdf: a closed form in C, a quadrature of the density
            # here; absolute accuracy (the closed form's terms cancel near
            # the lower edge), tolerance from the sensitivity to x,
            # |dF/d log x| = x rho(x)
            if 1e-30 < g < 1e30:
                ref = atom(g) + mpmath.quad(lambda u: dens(G, u), [lo, X]) \
                    if X > lo else atom(g)
                check_abs("mp_cdf", "gamma=%r x=%r" % (g, x),
                          lib.ir_theory_mp_cdf(g, x), ref,
                          C_ROUND * EPS * (1 + X * dens(G, X)))
        mp.dps = 50
    # moments: quadrature for moderate k; large k (where the binomials
    # overflow) from the exact Narayana sum in 50 digits
    for g in [0.01, 0.5, 1.0, 2.0, 10.0]:
        for k in [1, 2, 3, 5, 10]:
            ref = mp_integral(g, lambda x: x ** k)
            check("mp_moment", "gamma=%r k=%d" % (g, k),
                  lib.ir_theory_mp_moment(g, k), ref, 1 + k, extra=0)
    for g, k in [(1e-10, 600), (1e-3, 300), (0.5, 200), (1e-30, 2000)]:
        G = mpf(g)
        ref = mpmath.fsum(mpmath.binomial(k, j) * mpmath.binomial(k, j + 1) *
                          G ** j / k for j in range(k))
        # each term carries O(k) roundings in the recursion
        check("mp_moment", "gamma=%r k=%d" % (g, k),
              lib.ir_theory_mp_moment(g, k), ref, 1 + k, extra=0)
    for g in [0.5, 2.0]:  # outside the support
        lo, hi = mp_support(g)
        for x, ref in [(-1.0, 0), (0.0, atom(g)), (float(lo) * 0.99, atom(g)),
                       (float(hi) * 1.01, 1)]:
            check_abs("mp_cdf", "gamma=%r x=%r" % (g, x),
                      lib.ir_theory_mp_cdf(g, x), mpf(ref), 0)


def test_heavy_ball():
    for eta, beta, lam in [(1.0, 0.9, 0.1), (1.0, 0.5, 3.0), (0.5, 0.0, 3.0),
                           (1.0, 0.81, 1.0), (1e-3, 0.99, 1e-4),
                           (1.0, 0.9, 1e200), (1e150, 0.5, 1e150),
                           (1.0, 0.3, 1e-200), (2.0, 0.1, 1.0),
                           (1.0, 0.0, 1e308), (1.0, 0.999999, 2e-12)]:
        E, Bt, L = mpf(eta), mpf(beta), mpf(lam)

        def rad(e, b, l):
            a = 1 + b - e * l
            return max(abs(z) for z in mpmath.polyroots([1, -a, b]))
        ref = rad(E, Bt, L)
        disc = (1 + Bt - E * L) ** 2 - 4 * Bt
        # away from the double root (disc = 0) the radius is smooth
        kap = kappa_of(rad, [E, Bt, L]) if abs(disc) > mpf(10) ** -6 * (
            1 + Bt) ** 2 else mpf(1) / EPS
        check("heavy_ball_radius", "eta=%r beta=%r lam=%r" % (eta, beta, lam),
              lib.ir_theory_heavy_ball_radius(eta, beta, lam), ref, kap)


def test_rf_coeffs():
    """The Gaussian coefficients of the built-in activations against
    mpmath.quad over (-inf, 0] and [0, inf).  The library integrates
    adaptively to a documented relative accuracy of about 1e-12 (of
    sqrt(E s^2) for mu0 and mu1, which may vanish; of mu*^2 itself): a
    quadrature target, not a rounding bound, so the tolerance is that
    target with a factor 10 for 'about' (and the 1e-14 E s^2 below which
    mu*^2 counts as 0)."""
    from implreg import theory as T
    acts = {
        "relu": lambda x: max(x, 0),
        "abs": abs,
        "tanh": mpmath.tanh,
        "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
        "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
        "gelu": lambda x: x * mpmath.ncdf(x),
        "erf": mpmath.erf,
    }
    for name, f in acts.items():
        c = T.rf_coeffs(name)

        def E(h):
            return mpmath.quad(lambda x: h(x) * mpmath.npdf(x),
                               [-mpmath.inf, 0, mpmath.inf])
        m2 = E(lambda x: f(x) ** 2)
        mu0 = E(f)
        mu1 = E(lambda x: x * f(x))
        ms2 = E(lambda x: (f(x) - mu0 - mu1 * x) ** 2)
        sc = mpmath.sqrt(m2)
        for what, got, ref, atol in [
                ("m2", c.m2, m2, 0), ("mu0", c.mu0, mu0, sc),
                ("mu1", c.mu1, mu1, sc),
                ("mustar^2", c.mustar ** 2, ms2, 1e-14 * m2)]:
            check_abs("rf_coeffs", "%s %s" % (name, what), got, ref,
                      1e-11 * (abs(ref) + atol))


def mm_ref(z, p1, p2):
    """E1/E0 and E2/E0 of docs/theory.md section 3, expanded, 50 digits."""
    z, p1, p2 = mpf(z), mpf(p1), mpf(p2)
    psi = min(p1, p2)
    z2 = z * z
    a = psi * z2 - z2 - 1
    chi = -(a + mpmath.sqrt(a * a + 4 * psi * z2)) / (2 * z2)
    c = chi
    E0 = (-c ** 5 * z ** 6 + 3 * c ** 4 * z ** 4 +
          (p1 * p2 - p2 - p1 + 1) * c ** 3 * z ** 6 - 2 * c ** 3 * z ** 4 -
          3 * c ** 3 * z2 + (p1 + p2 - 3 * p1 * p2 + 1) * c ** 2 * z ** 4 +
          2 * c ** 2 * z2 + c ** 2 + 3 * p1 * p2 * c * z2 - p1 * p2)
    E1 = p2 * c ** 3 * z ** 4 - p2 * c ** 2 * z2 + p1 * p2 * c * z2 - p1 * p2
    E2 = (c ** 5 * z ** 6 - 3 * c ** 4 * z ** 4 + (p1 - 1) * c ** 3 * z ** 6 +
          2 * c ** 3 * z ** 4 + 3 * c ** 3 * z2 + (-p1 - 1) * c ** 2 * z ** 4 -
          2 * c ** 2 * z2 - c ** 2)
    return E1 / E0, E2 / E0


def test_mei_montanari():
    old = mp.dps
    mp.dps = 80  # the expanded E0 cancels near psi1 = psi2
    relu_zeta = 1.658896739970306
    for z in [relu_zeta, 1e-8, 0.1, 10.0, 1e3, 1e12]:
        for p1, p2 in [(0.5, 3.0), (2.5, 3.0), (5.0, 3.0), (10.0, 3.0),
                       (3.0, 3.0 + 2 ** -30), (3.0 + 2 ** -30, 3.0),
                       (1e-3, 1e3), (1e3, 1e-3), (100.0, 0.5), (1e-8, 1e8),
                       (1e8, 1.0 + 2 ** -40), (1.0, 1.0 + 1e-6)]:
            case = "zeta=%r psi1=%r psi2=%r" % (z, p1, p2)
            r = RFRisk()
            st = lib.ir_theory_mei_montanari(z, p1, p2, 1.0, 0.0, 1.0,
                                             C.byref(r))
            b, v = mm_ref(z, p1, p2)
            kb = kappa_of(lambda a, c, d: mm_ref(a, c, d)[0],
                          [mpf(z), mpf(p1), mpf(p2)])
            kv = kappa_of(lambda a, c, d: mm_ref(a, c, d)[1],
                          [mpf(z), mpf(p1), mpf(p2)])
            check("mei_montanari.bias", case, r.bias if st == 0 else None, b,
                  kb)
            check("mei_montanari.var", case, r.variance if st == 0 else None,
                  v, kv)
    mp.dps = old


def pin():
    """The digits pinned in tests/test_theory.c."""
    for g, lam in [(4.0, 1e-17), (4.0, 1e-12), (4.0, 1e155), (1.0, 1e-300),
                   (0.5, 1e300), (1.01, 1e-8), (0.99, 1e-3)]:
        b, v, _, _ = ridge_ref(g, lam)
        print("gamma %r lambda %r: bias %s var %s" %
              (g, lam, mpmath.nstr(b, 20), mpmath.nstr(v, 20)))


def main():
    if "--pin" in sys.argv:
        pin()
        return 0
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = [test_ridge, test_ridge_optimal, test_hastie, test_hastie_exact,
             test_gamma_star, test_mp_law, test_heavy_ball, test_mei_montanari,
             test_rf_coeffs]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        t()
    for name in sorted(WORST):
        w = WORST[name]
        print("%-22s %4d cases  worst err/tol %.3g  worst rel. error %.3g  (%s)"
              % (name, w[3], w[0], w[1], w[2]))
    for f in REF_FAILS[:20]:
        print("FAIL reference: " + f)
    FAILS.extend(REF_FAILS)
    for f in FAILS[:200]:
        print("FAIL " + f)
    if FAILS:
        print("%d failures" % len(FAILS))
        return 1
    print("PASS all closed forms within their conditioning-derived tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
