"""Parse ZetaSQL's value text (a compliance case's expected result) into Python values.

The expected result of a query is ``ARRAY<STRUCT<name TYPE, ...>>[...]``: a type, then
rows. Values are read guided by the type:

- scalars: ``NULL``, ints, floats (``inf``, ``nan``), ``true``, ``"strings"`` and
  ``b"bytes"`` with C-style escapes, dates/times/timestamps as bare text, NUMERIC as
  :class:`decimal.Decimal`, JSON as parsed JSON;
- ``{a, b}`` structs (tuples), ``[...]`` / ``ARRAY<T>[...]`` arrays, each possibly
  prefixed ``known order:`` or ``unknown order:`` (:class:`Arr` keeps which).

Types ZetaSQL has but BigQuery does not (``INT32``, ``UINT64``, ``FLOAT``, ``ENUM``,
``PROTO``, ``UUID``...) parse as text; :func:`foreign_types` names them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass
from typing import Any

#: ZetaSQL type names -> BigQuery's.
BIGQUERY_NAME = {"DOUBLE": "FLOAT64", "INT64": "INT64", "BOOL": "BOOL", "STRING": "STRING"}
BIGQUERY_SCALARS = {
    "INT64", "FLOAT64", "DOUBLE", "BOOL", "STRING", "BYTES", "DATE", "DATETIME", "TIME",
    "TIMESTAMP", "NUMERIC", "BIGNUMERIC", "JSON", "INTERVAL", "GEOGRAPHY",
}  # fmt: skip


class ValueSyntaxError(ValueError):
    """The text is not a value this parser reads."""


@dataclass(frozen=True)
class Type:
    """A ZetaSQL type: ``kind`` is the scalar name, ``ARRAY``, ``STRUCT`` or ``RANGE``."""

    kind: str
    params: tuple[Any, ...] = ()  # ARRAY/RANGE: (element,); STRUCT: ((name, Type), ...)

    def spell(self) -> str:
        """BigQuery spelling (``ARRAY<STRUCT<a INT64>>``; DOUBLE -> FLOAT64)."""
        if self.kind == "ARRAY":
            return f"ARRAY<{self.params[0].spell()}>"
        if self.kind == "RANGE":
            return f"RANGE<{self.params[0].spell()}>"
        if self.kind == "STRUCT":
            inner = ", ".join(f"{n} {t.spell()}" if n else t.spell() for n, t in self.params)
            return f"STRUCT<{inner}>"
        return BIGQUERY_NAME.get(self.kind, self.kind)


def foreign_types(t: Type) -> set[str]:
    """Type names in ``t`` that BigQuery does not have."""
    if t.kind in ("ARRAY", "RANGE"):
        return foreign_types(t.params[0])
    if t.kind == "STRUCT":
        return set().union(*(foreign_types(f) for _, f in t.params)) if t.params else set()
    return set() if t.kind in BIGQUERY_SCALARS or t.kind == "?" else {t.kind}


@dataclass(frozen=True)
class Arr:
    """An array value; ``ordered`` is False for ``unknown order:``, None when unmarked."""

    items: tuple[Any, ...]
    ordered: bool | None = None
    element: Type | None = None  # the spelled element type (``ARRAY<INT64>[...]``)


@dataclass
class Expected:
    """A parsed expected result: the row type's columns and the rows."""

    columns: list[tuple[str, Type]]
    rows: Arr


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_WS = re.compile(r"\s*")


class _Reader:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    def ws(self) -> None:
        self.i = _WS.match(self.s, self.i).end()

    def peek(self, n: int = 1) -> str:
        self.ws()
        return self.s[self.i : self.i + n]

    def eat(self, tok: str) -> bool:
        self.ws()
        if self.s.startswith(tok, self.i):
            self.i += len(tok)
            return True
        return False

    def expect(self, tok: str) -> None:
        if not self.eat(tok):
            raise ValueSyntaxError(
                f"expected {tok!r} at {self.i}: {self.s[self.i : self.i + 30]!r}"
            )

    def ident(self) -> str:
        self.ws()
        m = _IDENT.match(self.s, self.i)
        if not m:
            raise ValueSyntaxError(f"expected a name at {self.i}: {self.s[self.i : self.i + 30]!r}")
        self.i = m.end()
        return m.group(0)

    # -- types ---------------------------------------------------------------------

    def type(self) -> Type:
        name = self.ident().upper()
        if name in ("ARRAY", "RANGE"):
            self.expect("<")
            if self.eat(">"):  # ARRAY<> in a row type: the value spells its type
                return Type(name, (Type("?"),))
            inner = self.type()
            self.expect(">")
            return Type(name, (inner,))
        if name == "STRUCT":
            self.expect("<")
            fields: list[tuple[str, Type]] = []
            while not self.eat(">"):
                save = self.i
                first = self.ident()
                nxt = self.peek()
                if nxt in (",", ">", "<", "("):
                    self.i = save
                    fields.append(("", self.type()))
                else:
                    fields.append((first, self.type()))
                self.eat(",")
            return Type("STRUCT", tuple(fields))
        if name in ("PROTO", "ENUM") and self.eat("<"):
            inner = self.ident()
            self.expect(">")
            return Type(f"{name}<{inner}>")
        if self.peek() == "(":  # parameterized (STRING(10), NUMERIC(5, 2))
            depth = 0
            while True:
                c = self.s[self.i]
                self.i += 1
                depth += c == "("
                depth -= c == ")"
                if depth == 0:
                    break
        return Type(name)

    # -- values --------------------------------------------------------------------

    def value(self, t: Type) -> Any:
        self.ws()
        if self.s.startswith("NULL", self.i) and not self.s[self.i + 4 : self.i + 5].isalnum():
            self.i += 4
            return None
        if t.kind == "ARRAY":
            return self.array(t.params[0])
        if t.kind == "STRUCT":
            if self.s.startswith("STRUCT", self.i):  # a spelled-out type before the value
                self.type()
                self.ws()
                if self.eat("(NULL)"):
                    return None
            self.expect("{")
            out = []
            for k, (_n, ft) in enumerate(t.params):
                if k:
                    self.expect(",")
                out.append(self.value(ft))
            self.expect("}")
            return tuple(out)
        if t.kind == "RANGE":
            self.expect("[")
            lo = self.value(t.params[0])
            self.expect(",")
            hi = self.value(t.params[0])
            self.expect(")")
            return ("RANGE", lo, hi)
        if t.kind == "JSON":
            return self.json()
        if (
            t.kind in ("STRING", "BYTES")
            or self.peek() in ('"', "'")
            or self.peek(2) in ('b"', "b'")
        ):
            return self.string(t.kind)
        return scalar(t.kind, self.token())

    def array(self, et: Type) -> Arr | None:
        if self.s.startswith("ARRAY", self.i):
            spelled = self.type()
            if et.kind == "?":
                et = spelled.params[0]
            if self.eat("(NULL)"):
                return None
        self.expect("[")
        ordered: bool | None = None
        if self.eat("known order:"):
            ordered = True
        elif self.eat("unknown order:"):
            ordered = False
        items = []
        while not self.eat("]"):
            if items:
                self.expect(",")
            items.append(self.value(et))
        return Arr(tuple(items), ordered, et)

    def token(self) -> str:
        """Bare scalar text up to the next ``,``, ``}``, ``]`` or ``)`` (spaces kept inside)."""
        self.ws()
        j = self.i
        while j < len(self.s) and self.s[j] not in ",}])":
            j += 1
        tok = self.s[self.i : j].strip()
        self.i = j
        if not tok:
            raise ValueSyntaxError(f"empty value at {j}")
        return tok

    def string(self, kind: str) -> Any:
        self.ws()
        is_bytes = self.s[self.i] in "bB"
        if is_bytes:
            self.i += 1
        raw = self.s[self.i] in "rR"
        if raw:
            self.i += 1
        q = self.s[self.i]
        if q not in "\"'":
            raise ValueSyntaxError(f"expected a quote at {self.i}")
        triple = self.s.startswith(q * 3, self.i)
        end_tok = q * 3 if triple else q
        self.i += len(end_tok)
        out = bytearray()
        while True:
            if self.i >= len(self.s):
                raise ValueSyntaxError("unterminated string")
            if self.s.startswith(end_tok, self.i):
                self.i += len(end_tok)
                break
            c = self.s[self.i]
            if c == "\\" and not raw:
                out += _escape(self.s, self)
                continue
            out += c.encode("utf-8")
            self.i += 1
        data = bytes(out)
        if is_bytes or kind == "BYTES":
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueSyntaxError(f"invalid UTF-8 in a string: {exc}") from None

    def json(self) -> Any:
        self.ws()
        dec = json.JSONDecoder(parse_float=decimal.Decimal)
        try:
            value, end = dec.raw_decode(self.s, self.i)
        except json.JSONDecodeError as exc:
            raise ValueSyntaxError(f"bad JSON: {exc}") from None
        self.i = end
        return ("JSON", value)


_SIMPLE_ESC = {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"', "'": b"'", "a": b"\a",
               "b": b"\b", "f": b"\f", "v": b"\v", "?": b"?", "`": b"`"}  # fmt: skip


def _escape(s: str, r: _Reader) -> bytes:
    c = s[r.i + 1]
    if c in _SIMPLE_ESC:
        r.i += 2
        return _SIMPLE_ESC[c]
    if c in "xX":
        r.i += 4
        return bytes([int(s[r.i - 2 : r.i], 16)])
    if c == "u":
        r.i += 6
        return chr(int(s[r.i - 4 : r.i], 16)).encode("utf-8")
    if c == "U":
        r.i += 10
        return chr(int(s[r.i - 8 : r.i], 16)).encode("utf-8")
    if c in "01234567":
        r.i += 4
        return bytes([int(s[r.i - 3 : r.i], 8)])
    raise ValueSyntaxError(f"unknown escape \\{c}")


_TS_RE = re.compile(
    r"^(-?\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-]\d\d)(?::?(\d\d))?)?$"
)
_TIME_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$")


def _micros(frac: str | None) -> int:
    return int(((frac or "") + "000000")[:6])


def scalar(kind: str, tok: str) -> Any:
    """A scalar from its bare text (no quotes)."""
    try:
        if kind in ("INT64", "INT32", "UINT32", "UINT64"):
            return int(tok)
        if kind in ("DOUBLE", "FLOAT", "FLOAT64"):
            return float(tok)
        if kind == "BOOL":
            if tok not in ("true", "false"):
                raise ValueSyntaxError(f"not a BOOL: {tok}")
            return tok == "true"
        if kind in ("NUMERIC", "BIGNUMERIC"):
            return decimal.Decimal(tok)
        if kind == "DATE":
            return dt.date.fromisoformat(tok)
        if kind in ("TIMESTAMP", "DATETIME"):
            m = _TS_RE.match(tok)
            if not m:
                raise ValueSyntaxError(f"not a {kind}: {tok}")
            y, mo, d, h, mi, s, frac, oh, om = m.groups()
            v = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), _micros(frac))
            if kind == "DATETIME":
                return v
            off = dt.timedelta(hours=int(oh or 0))
            off += dt.timedelta(minutes=int(om or 0)) * (-1 if (oh or "+").startswith("-") else 1)
            return v.replace(tzinfo=dt.timezone(off)).astimezone(dt.UTC)
        if kind == "TIME":
            m = _TIME_RE.match(tok)
            if not m:
                raise ValueSyntaxError(f"not a TIME: {tok}")
            h, mi, s, frac = m.groups()
            return dt.time(int(h), int(mi), int(s), _micros(frac))
        if kind == "INTERVAL":
            return interval(tok)
    except (ValueError, OverflowError) as exc:
        raise ValueSyntaxError(f"{kind} {tok!r}: {exc}") from None
    return ("TEXT", kind, tok)


_INTERVAL_RE = re.compile(r"^(-?)(\d+)-(\d+) (-?\d+) (-?)(\d+):(\d+):(\d+)(?:\.(\d+))?$")


def interval(tok: str) -> tuple[str, int, int, int]:
    """``Y-M D H:M:S[.F]`` (each part signed) -> ``("INTERVAL", months, days, nanoseconds)``."""
    m = _INTERVAL_RE.match(tok)
    if not m:
        raise ValueSyntaxError(f"not an INTERVAL: {tok}")
    ysign, y, mo, d, tsign, h, mi, sec, frac = m.groups()
    months = (int(y) * 12 + int(mo)) * (-1 if ysign else 1)
    nanos = ((int(h) * 60 + int(mi)) * 60 + int(sec)) * 10**9 + int(((frac or "") + "0" * 9)[:9])
    return (
        "INTERVAL",
        months,
        int(d),
        -nanos if tsign else nanos,
    )  # INTERVAL, ENUM, UUID...: compared as text


def parse_expected(text: str) -> Expected:
    """The columns and rows of a query's expected result text."""
    text = "\n".join(ln for ln in text.split("\n") if not ln.lstrip().startswith("#"))
    text = text.split("\nNOTE: ")[0].split("NOTE: Reference")[0].strip()
    r = _Reader(text)
    t = r.type()
    if t.kind != "ARRAY" or t.params[0].kind != "STRUCT":
        raise ValueSyntaxError(f"not a table result: {t.spell()}")
    rows = r.array(t.params[0])
    r.ws()
    if r.i != len(text):
        raise ValueSyntaxError(f"text after the value at {r.i}: {text[r.i : r.i + 30]!r}")
    return Expected(columns=list(t.params[0].params), rows=rows)
