"""Optional numba: ``njit`` compiles when numba is importable and not disabled, else is a no-op.

Set ``PMRISK_DISABLE_NUMBA=1`` to run the plain NumPy/Python code paths (the test oracles).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:  # pragma: no cover - exercised implicitly
    if os.environ.get("PMRISK_DISABLE_NUMBA", "").strip() not in ("", "0"):
        raise ImportError("disabled by PMRISK_DISABLE_NUMBA")
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    _numba = None  # type: ignore[assignment]
    HAVE_NUMBA = False


def njit(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True, ...)`` when numba is available, else identity."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("nogil", True)
    if HAVE_NUMBA:
        return _numba.njit(*args, **kwargs)  # type: ignore[no-any-return]
    if args and callable(args[0]):
        return args[0]  # type: ignore[no-any-return]
    return lambda f: f
