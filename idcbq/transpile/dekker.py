"""The exact error of a double product (Dekker's split), as DuckDB SQL text.

Exact rounding of FLOAT64 results (``ROUND(x, d)``, ``CBRT``) needs ``a * b - fl(a * b)``
exactly; splitting each factor into two 26-bit halves makes every partial product exact.

Example (the SQL text is also Python arithmetic on floats):
    >>> from fractions import Fraction
    >>> a, b = 0.1, 0.7
    >>> p = a * b
    >>> err = eval(product_error("a", "b", "p"))
    >>> Fraction(a) * Fraction(b) - Fraction(p) == Fraction(err) != 0
    True
"""

from __future__ import annotations

#: 2^27 + 1: ``a * SPLIT - (a * SPLIT - a)`` is ``a``'s high 26 bits.
SPLIT = "134217729.0"


def high_half(a: str) -> str:
    """``a``'s high 26 bits (``a`` is SQL text)."""
    return f"(({a}) * {SPLIT} - (({a}) * {SPLIT} - ({a})))"


def product_error(a: str, b: str, product: str) -> str:
    """SQL text for the exact ``a * b - product``, where ``product`` is ``a * b`` rounded."""
    ah, bh = high_half(a), high_half(b)
    al, bl = f"(({a}) - {ah})", f"(({b}) - {bh})"
    return (
        f"(((({ah}) * ({bh}) - ({product})) + ({ah}) * ({bl}) + ({al}) * ({bh})) + ({al}) * ({bl}))"
    )
