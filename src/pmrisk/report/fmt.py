"""Number formats shared by the terminal summary, the charts and the HTML report."""

from __future__ import annotations


def pct(x: float | None) -> str:
    """A share as a percentage: whole percent, one decimal near 0% and 100%, so 0.4% never shows as
    0% and 99.96% never as 100% ("" for a missing value).

    Examples
    --------
    >>> [pct(v) for v in (0.0004, 0.004, 0.41, 0.996, 0.9996, 1.0, None)]
    ['<0.1%', '0.4%', '41%', '99.6%', '>99.9%', '100%', '']
    """
    if x is None or x != x:
        return ""
    if 0 < x < 0.001:
        return "<0.1%"
    if 0.999 < x < 1:
        return ">99.9%"
    if 0 < x < 0.01 or 0.99 < x < 1:
        return f"{100 * x:.1f}%"
    return f"{100 * x:.0f}%"
