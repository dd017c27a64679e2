"""Compiled (numba) inverse CDFs of :mod:`pmrisk.distributions`, one kernel per kind.

Module-level functions, so that numba's on-disk cache finds them again in every new process (the
same functions defined inside a function were compiled afresh each time: ~0.7 s a run). Imported
only by :func:`pmrisk.distributions._numba_kernels`, after checking that numba is wanted and
present. They follow the NumPy formulas of :mod:`pmrisk.distributions` operation by operation;
only the normal quantile differs (Wichura's AS241, ~1e-16 relative, instead of scipy's ndtri).
"""

from __future__ import annotations

import math
from typing import Any

import numba
from llvmlite import ir
from numba.extending import intrinsic

from pmrisk.distributions import _HALF, _MANT_BITS, _MANT_SCALE, _NOCT, _SEGS

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


noct, segs, half, mant_bits = _NOCT, _SEGS, _HALF, _MANT_BITS
mant_mask, seg_mask, mant_scale = (1 << _MANT_BITS) - 1, _SEGS - 1, _MANT_SCALE


@jit
def ndtri(p: float) -> float:  # pragma: no cover - compiled
    q = p - 0.5
    if math.fabs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r
                    + 6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r
                  + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r
                + 1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q
        den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r
                    + 3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r
                  + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r
                + 4.2313330701600911252e+1) * r + 1.0)
        return num / den
    if not (p > 0.0 and p < 1.0):
        if p <= 0.0:
            return -math.inf
        if p >= 1.0:
            return math.inf
        return math.nan
    r = p if q <= 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r = r - 1.6
        num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                    + 2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r
                  + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r
                + 4.63033784615654529590e+0) * r + 1.42343711074968357734e+0)
        den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                    + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
                  + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r
                + 2.05319162663775882187e+0) * r + 1.0)
    else:
        r = r - 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
                  + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r
                + 5.46378491116411436990e+0) * r + 6.65790464350110377720e+0)
        den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                    + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
                  + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
                + 5.99832206555887937690e-1) * r + 1.0)
    x = num / den
    return -x if q < 0.0 else x

@jit
def fixed(u, out, rows, v):  # pragma: no cover - compiled
    for r in range(rows.size):
        i = rows[r]
        for j in range(u.shape[1]):
            out[i, j] = v[r]

@jit
def uniform(u, out, rows, a, w):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, ar, wr = rows[r], a[r], w[r]
        for j in range(u.shape[1]):
            out[i, j] = u[i, j] * wr + ar

@jit
def triangular(u, out, rows, a, c, b, fc, k1, k2):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, ar, cr, br, fr, k1r, k2r = rows[r], a[r], c[r], b[r], fc[r], k1[r], k2[r]
        for j in range(u.shape[1]):
            x = u[i, j]
            if x >= fr:
                y = br - math.sqrt((1.0 - x) * k2r)
                out[i, j] = max(cr, y)
            else:
                y = math.sqrt(x * k1r) + ar
                out[i, j] = min(cr, y)

@intrinsic
def bits_of(typingctx, x):  # pragma: no cover - compiled
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return numba.types.int64(numba.types.float64), codegen

@jit
def pert(u, out, rows, a, w, off, coef, b):  # pragma: no cover - compiled
    nbad = 0
    for r in range(rows.size):
        i, ar, wr, o0, br = rows[r], a[r], w[r], off[r], b[r]
        for j in range(u.shape[1]):
            x = u[i, j]
            flip = x > 0.5
            bits = bits_of(1.0 - x if flip else x)
            octave = 1022 - (bits >> 52)
            if octave < 0 or octave >= noct:            # extreme tails, u outside [0, 1], NaN
                out[i, j] = math.nan
                nbad += 1
                continue
            s = (bits & mant_mask) * mant_scale
            kk = o0 + (half if flip else 0) + octave * segs + ((bits >> mant_bits) & seg_mask)
            y = coef[kk, 5] * s + coef[kk, 4]
            y = y * s + coef[kk, 3]
            y = y * s + coef[kk, 2]
            y = y * s + coef[kk, 1]
            y = y * s + coef[kk, 0]
            v = y * wr + ar
            out[i, j] = ar if v < ar else (br if v > br else v)   # never outside [min, max]
    return nbad

@jit
def normal(u, out, rows, mu, sigma):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, m, sg = rows[r], mu[r], sigma[r]
        for j in range(u.shape[1]):
            out[i, j] = ndtri(u[i, j]) * sg + m

@jit
def truncnormal(u, out, rows, mu, s_sigma, p0, dp, lo, hi):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, m, sg, p, d, a, b = rows[r], mu[r], s_sigma[r], p0[r], dp[r], lo[r], hi[r]
        for j in range(u.shape[1]):
            x = ndtri(u[i, j] * d + p) * sg + m
            out[i, j] = a if x < a else (min(x, b))

@jit
def lognormal(u, out, rows, mu, sigma):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, m, sg = rows[r], mu[r], sigma[r]
        for j in range(u.shape[1]):
            out[i, j] = math.exp(ndtri(u[i, j]) * sg + m)

@jit
def discrete(u, out, rows, bounds, boff, blen, values, voff):  # pragma: no cover - compiled
    for r in range(rows.size):
        i, bo, n, vo = rows[r], boff[r], blen[r], voff[r]
        for j in range(u.shape[1]):
            x = u[i, j]
            if n <= 16:                       # number of bounds <= x: count, without branches
                c = 0
                for q in range(n):
                    c += bounds[bo + q] <= x
                out[i, j] = values[vo + c]
                continue
            lo, hi = 0, n                     # ... or bisect (searchsorted "right")
            while lo < hi:
                mid = (lo + hi) >> 1
                if bounds[bo + mid] <= x:
                    lo = mid + 1
                else:
                    hi = mid
            out[i, j] = values[vo + lo]


KERNELS: dict[str, Any] = {"fixed": fixed, "uniform": uniform, "triangular": triangular, "pert": pert,
                           "normal": normal, "truncnormal": truncnormal, "lognormal": lognormal,
                           "discrete": discrete, "ndtri": ndtri}
