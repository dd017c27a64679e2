"""Random numbers that depend only on (seed, iteration, entity, stream).

pmrisk draws every uniform from the counter-based generator Philox4x32-10 (Salmon et al., 2011,
"Parallel random numbers: as easy as 1, 2, 3"): the 128-bit counter is
``(iteration, stream, entity_key_lo, entity_key_hi)`` and the 64-bit key comes from
``numpy.random.SeedSequence(seed)``. One call gives four 32-bit words, turned into two doubles
``u_a, u_b`` in the open interval (0, 1) with 53 random bits each. Because a uniform is a pure
function of its coordinates, results cannot depend on how iterations are split into chunks or
spread over threads, processes or machines; and because an entity (task, risk) is keyed by a
hash of its id, adding or removing a task does not change the numbers any other task gets
(common random numbers for what-if analysis).

Streams: ``STREAM_DURATION`` gives the duration grade (u_a) and the fixed-cost grade (u_b);
``STREAM_COST`` gives the per-day-cost grade (u_a); u_b is spare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from pmrisk.engine._jit import HAVE_NUMBA, njit

STREAM_DURATION = 0
STREAM_COST = 1

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_TWO26 = 67108864.0
_TWO53 = 9007199254740992.0
MAX_ITERATIONS = 2**32


def seed_key(seed: int | np.random.SeedSequence) -> tuple[int, int]:
    """The Philox key (two 32-bit words) for a seed, via ``SeedSequence``."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    k = ss.generate_state(2, np.uint32)
    return int(k[0]), int(k[1])


def entity_keys(ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit keys (low and high 32-bit words) of entity ids, from BLAKE2b; unique by construction."""
    lo = np.empty(len(ids), dtype=np.uint64)
    hi = np.empty(len(ids), dtype=np.uint64)
    seen: set[int] = set()
    for i, name in enumerate(ids):
        salt = 0
        while True:
            h = int.from_bytes(hashlib.blake2b(f"{salt}:{name}".encode(), digest_size=8).digest(), "little")
            if h not in seen:
                break
            salt += 1  # a 64-bit collision: astronomically unlikely, but never silent correlation
        seen.add(h)
        lo[i] = h & 0xFFFFFFFF
        hi[i] = h >> 32
    return lo, hi


def philox4x32(c0, c1, c2, c3, k0, k1):  # noqa: ANN001, ANN201 - array-generic reference
    """Philox4x32-10 on NumPy ``uint64`` arrays holding 32-bit values (reference implementation)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in (c0, c1, c2, c3))
    k0 = np.uint64(k0)
    k1 = np.uint64(k1)
    for r in range(10):
        if r:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK
    return c0, c1, c2, c3


def _to_unit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a >> np.uint64(5)).astype(np.float64) * _TWO26 + (b >> np.uint64(6)).astype(np.float64) + 0.5) / _TWO53


def uniforms_reference(key: tuple[int, int], first: int, count: int, keys_lo: np.ndarray,
                       keys_hi: np.ndarray, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy reference of :func:`uniforms` (the test oracle)."""
    it = np.arange(first, first + count, dtype=np.uint64)[None, :]
    lo = np.asarray(keys_lo, dtype=np.uint64)[:, None]
    hi = np.asarray(keys_hi, dtype=np.uint64)[:, None]
    shape = (len(lo), count)
    x0, x1, x2, x3 = philox4x32(np.broadcast_to(it, shape), np.full(shape, stream, dtype=np.uint64),
                                np.broadcast_to(lo, shape), np.broadcast_to(hi, shape), key[0], key[1])
    return _to_unit(x0, x1), _to_unit(x2, x3)


@njit(inline="always")
def _philox10(c0, c1, c2, c3, a, b):  # noqa: ANN001, ANN201
    """Philox4x32-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(a, b)`` (uint64 words)."""
    m0 = np.uint64(0xD2511F53)
    m1 = np.uint64(0xCD9E8D57)
    w0 = np.uint64(0x9E3779B9)
    w1 = np.uint64(0xBB67AE85)
    mask = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    for r in range(10):
        if r > 0:
            a = (a + w0) & mask
            b = (b + w1) & mask
        p0 = m0 * c0
        p1 = m1 * c2
        n0 = (p1 >> s32) ^ c1 ^ a
        n2 = (p0 >> s32) ^ c3 ^ b
        c1 = p1 & mask
        c3 = p0 & mask
        c0 = n0
        c2 = n2
    return c0, c1, c2, c3


@njit
def _uniforms_kernel(k0, k1, first, count, keys_lo, keys_hi, stream, out_a, out_b):  # noqa: ANN001
    s5 = np.uint64(5)
    s6 = np.uint64(6)
    for j in range(keys_lo.shape[0]):
        klo = keys_lo[j]
        khi = keys_hi[j]
        for i in range(count):
            c0, c1, c2, c3 = _philox10(np.uint64(first + i), np.uint64(stream), klo, khi, np.uint64(k0),
                                       np.uint64(k1))
            out_a[j, i] = (np.float64(c0 >> s5) * 67108864.0 + np.float64(c1 >> s6) + 0.5) / 9007199254740992.0
            out_b[j, i] = (np.float64(c2 >> s5) * 67108864.0 + np.float64(c3 >> s6) + 0.5) / 9007199254740992.0


@njit
def grade_rank_sums_kernel(k0, k1, first, count, keys_lo, keys_hi, stream, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """Pass 2 without storing the grades: for each entity ``j`` and iteration ``first + i`` the
    ``u_a`` uniform of ``stream`` quantised to 16 bits, ``q = int(u_a * 65536)``, summed into
    ``sq[j]``, ``sqq[j]`` (``q**2``) and ``sqr[j]`` (``q * rank2[i]``): exactly the sums of the
    grades :func:`uniforms` returns."""
    s5 = np.uint64(5)
    s6 = np.uint64(6)
    for j in range(keys_lo.shape[0]):
        klo = keys_lo[j]
        khi = keys_hi[j]
        a = np.int64(0)
        b = np.int64(0)
        c = np.int64(0)
        for i in range(count):
            c0, c1, _, _ = _philox10(np.uint64(first + i), np.uint64(stream), klo, khi, np.uint64(k0), np.uint64(k1))
            u = (np.float64(c0 >> s5) * 67108864.0 + np.float64(c1 >> s6) + 0.5) / 9007199254740992.0
            q = np.int64(u * 65536.0)
            a += q
            b += q * q
            c += q * rank2[i]
        sq[j] += a
        sqq[j] += b
        sqr[j] += c


def uniforms(key: tuple[int, int], first: int, count: int, keys_lo: np.ndarray, keys_hi: np.ndarray,
             stream: int, out_a: np.ndarray | None = None,
             out_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays ``(len(keys), count)`` of uniforms for iterations ``first .. first+count-1``.

    Parameters
    ----------
    key
        The run's Philox key, from :func:`seed_key`.
    first, count
        The iterations (global indices, so a chunk gets the same numbers wherever it runs).
    keys_lo, keys_hi
        Entity keys from :func:`entity_keys` (one row per task or risk).
    stream
        Which stream (``STREAM_DURATION``, ``STREAM_COST``, ...).

    Examples
    --------
    >>> lo, hi = entity_keys(["A", "B"])
    >>> a, b = uniforms(seed_key(42), 0, 4, lo, hi, STREAM_DURATION)
    >>> a2, _ = uniforms(seed_key(42), 2, 2, lo, hi, STREAM_DURATION)
    >>> bool((a[:, 2:] == a2).all()) and a.shape == (2, 4)
    True
    """
    if first < 0 or first + count > MAX_ITERATIONS:
        raise ValueError(f"iterations must lie in [0, 2**32); got {first}..{first + count}")
    n = len(keys_lo)
    if not HAVE_NUMBA:
        a, b = uniforms_reference(key, first, count, keys_lo, keys_hi, stream)
        if out_a is not None:
            out_a[...] = a
            a = out_a
        if out_b is not None:
            out_b[...] = b
            b = out_b
        return a, b
    if out_a is None:
        out_a = np.empty((n, count), dtype=np.float64)
    if out_b is None:
        out_b = np.empty((n, count), dtype=np.float64)
    _uniforms_kernel(np.uint64(key[0]), np.uint64(key[1]), np.uint64(first), count,
                     np.ascontiguousarray(keys_lo, dtype=np.uint64), np.ascontiguousarray(keys_hi, dtype=np.uint64),
                     np.uint64(stream), out_a, out_b)
    return out_a, out_b
