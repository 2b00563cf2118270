"""Literal values per GoogleSQL type, weighted towards the edges where engines part:
NULL, NaN and infinities, signed zero, the INT64 limits, NUMERIC's last digit, empty
and non-ASCII text, invalid UTF-8, the first and last days of the civil range."""

from __future__ import annotations

import random

POOL: dict[str, tuple[str, ...]] = {
    "INT64": (
        "0",
        "1",
        "-1",
        "2",
        "3",
        "-7",
        "10",
        "255",
        "64",
        "-64",
        "9223372036854775807",
        "-9223372036854775807 - 1",
        "4611686018427387904",
        "1000000",
    ),
    "FLOAT64": (
        "0.0",
        "1.5",
        "-2.5",
        "0.1",
        "2.675",
        "1e308",
        "-1e-320",
        "123456789.125",
        "CAST('NaN' AS FLOAT64)",
        "CAST('inf' AS FLOAT64)",
        "CAST('-inf' AS FLOAT64)",
        "CAST('-0' AS FLOAT64)",
        "3.0",
        "1e16",
        "-0.5",
    ),
    "NUMERIC": (
        "NUMERIC '0'",
        "NUMERIC '1.5'",
        "NUMERIC '-2.5'",
        "NUMERIC '0.000000001'",
        "NUMERIC '99999999999999999999999999999.999999999'",
        "NUMERIC '-1.005'",
        "NUMERIC '12345.6789'",
        "NUMERIC '3'",
    ),
    "STRING": (
        "''",
        "'abc'",
        "'Ab cD'",
        "'ß'",
        "'é'",
        "'  pad  '",
        "'a,b,,c'",
        "'日本語'",
        "'x%_y'",
        "'ǅungla'",
        "'2020-02-29'",
        "'12'",
        "'-3.5'",
        "'a.b.c'",
        "'\\n'",
        "'ﬁ'",
        "'İ'",
        "'Ω'",
        "'NaN'",
        "'true'",
        '\'{"a": [1, 2.50, "x"], "b": null}\'',
        "'$.a'",
        "'$.a[1]'",
        "'[0-9]+'",
        "'(a)(b)?'",
        "'%Y-%m-%d'",
        "'a'",
        "'b'",
        "'AbC'",
    ),
    "BYTES": (
        "b''",
        "b'abc'",
        "b'\\xff\\x00\\x80'",
        "b'\\xe2\\x82\\xac'",
        "b'ABC def'",
        "b'a'",
        "b'\\x00'",
    ),
    "BOOL": ("TRUE", "FALSE"),
    "DATE": (
        "DATE '2020-02-29'",
        "DATE '0001-01-01'",
        "DATE '9999-12-31'",
        "DATE '2021-01-03'",
        "DATE '1970-01-01'",
        "DATE '2024-12-30'",
    ),
    "DATETIME": (
        "DATETIME '2020-02-29 12:34:56.789012'",
        "DATETIME '0001-01-01 00:00:00'",
        "DATETIME '9999-12-31 23:59:59.999999'",
        "DATETIME '2021-01-03 00:00:00.5'",
    ),
    "TIMESTAMP": (
        "TIMESTAMP '2020-02-29 12:34:56.789012+00'",
        "TIMESTAMP '0001-01-01 00:00:00+00'",
        "TIMESTAMP '9999-12-31 23:59:59.999999+00'",
        "TIMESTAMP '2021-01-03 23:30:00-08'",
        "TIMESTAMP '1970-01-01 00:00:00+00'",
    ),
    "TIME": ("TIME '00:00:00'", "TIME '12:34:56.789'", "TIME '23:59:59.999999'", "TIME '01:02:03'"),
    "JSON": (
        'JSON \'{"a": [1, 2.50, "x"], "b": null, "c": {"d": true}}\'',
        "JSON 'null'",
        "JSON '\"txt\"'",
        "JSON '1.5'",
        "JSON '[1, \"2\", [3]]'",
        "JSON '12345678901234567890'",
        "JSON 'true'",
        "JSON '{}'",
    ),
    "INTERVAL": (
        "INTERVAL 1 DAY",
        "INTERVAL -3 MONTH",
        "INTERVAL '1-2 3 4:5:6.789' YEAR TO SECOND",
    ),
}

#: Element types of arrays; ``ARRAY<T>`` literals are built from the element pool.
ARRAY_ELEMENTS = ("INT64", "FLOAT64", "STRING", "BYTES", "NUMERIC", "DATE", "BOOL")
#: What a template type ``T1`` is bound to.
TEMPLATE_CHOICES = ("INT64", "STRING", "FLOAT64", "DATE", "BYTES", "NUMERIC", "BOOL")


def supported(kind: str) -> bool:
    """Whether :func:`value` can write a literal of ``kind``."""
    if kind.startswith("ARRAY<") and kind.endswith(">"):
        return kind[6:-1] in POOL
    return kind in POOL


def value(kind: str, rng: random.Random, null_rate: float = 0.08) -> str:
    """One literal of GoogleSQL type ``kind`` (a typed NULL now and then)."""
    if rng.random() < null_rate:
        return f"CAST(NULL AS {kind})"
    if kind.startswith("ARRAY<"):
        element = kind[6:-1]
        if rng.random() < 0.1:
            return f"{kind}[]"
        items = [value(element, rng, null_rate=0.1) for _ in range(rng.randint(1, 4))]
        return f"{kind}[{', '.join(items)}]"
    return rng.choice(POOL[kind])
