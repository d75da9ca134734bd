#!/usr/bin/env python3
"""The coefficients of the AVX-512 tanh in src/mlp.c (ir_tanh8).

expm1(r) = r + r^2 q(r) on |r| <= 0.3475 (ln 2 / 2 plus the rounding of the
reduction's k); q is the minimax polynomial of degree 9 for
(expm1(r) - r) / r^2 in absolute error, by the Remez exchange at 50 digits
(python3-mpmath).  Prints the coefficients rounded to double, as mlp.c has
them, and the error of the rounded polynomial on a fine grid (1.1e-16).

    python3 docs/tanh_minimax.py
"""
import mpmath as mp

mp.mp.dps = 50
A = mp.mpf("0.3475")
DEG = 9


def f(r):
    if abs(r) < mp.mpf("1e-30"):
        return mp.mpf(1) / 2
    return (mp.expm1(r) - r) / r**2


def grid(n):
    return [-A + 2 * A * k / n for k in range(n + 1)]


def remez(deg, iters=10, n_grid=4000):
    n = deg + 2
    xs = [A * mp.cos(mp.pi * k / (n - 1)) for k in range(n)]
    c = None
    for _ in range(iters):
        M = mp.matrix([[x**j for j in range(deg + 1)] + [(-1) ** i]
                       for i, x in enumerate(xs)])
        sol = mp.lu_solve(M, mp.matrix([f(x) for x in xs]))
        c = [sol[j] for j in range(deg + 1)]
        g = grid(n_grid)
        err = [f(x) - mp.polyval(c[::-1], x) for x in g]
        # the alternating extrema of the error: the next reference points
        ext = [k for k in range(len(g))
               if k in (0, len(g) - 1)
               or (abs(err[k]) >= abs(err[k - 1])
                   and abs(err[k]) >= abs(err[k + 1]))]
        sel = []
        for k in ext:
            if sel and mp.sign(err[k]) == mp.sign(err[sel[-1]]):
                if abs(err[k]) > abs(err[sel[-1]]):
                    sel[-1] = k
            else:
                sel.append(k)
        while len(sel) > n:
            sel.pop(0 if abs(err[sel[0]]) < abs(err[sel[-1]]) else -1)
        if len(sel) < n:
            break
        xs = [g[k] for k in sel]
    return c


c = [float(x) for x in remez(DEG)]
err = max(abs(f(x) - mp.polyval([mp.mpf(v) for v in c[::-1]], x))
          for x in grid(20000))
for j, v in enumerate(c):
    print(f"c{j} = {v!r}")
print(f"max |q - poly| with the coefficients rounded to double: {float(err):.3g}")
