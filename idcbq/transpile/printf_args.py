"""FORMAT arguments that DuckDB's printf would print otherwise, rewritten to ``%s`` text.

- ``%'d`` / ``%'i``: the integer with comma thousands separators (printf has no ``'``).
- ``%x`` / ``%X`` / ``%o`` of a negative INT64: GoogleSQL prints the sign and the
  magnitude (``-ff``); printf printed the two's complement (``ffffffffffffff01``). The
  flags ``-``, ``0`` and ``#`` and a width are kept; ``+``, space and a precision are refused.

Example:
    >>> from sqlglot import exp
    >>> fmt, args = printf_args(exp.Literal.string("%x|%'d"), [exp.column("a"), exp.column("b")])
    >>> fmt.this
    '%s|%s'
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError

#: Any specifier (``%%`` included), to pair specifiers with arguments.
_ANY_SPEC = re.compile(r"%(?:%|'?[-+ #0]*\d*(?:\.\d+)?.)")
_RADIX = re.compile(r"%(?P<flags>[-#0]*)(?P<width>\d*)(?P<conv>[xXo])")


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _grouped(arg: exp.Expr) -> exp.Expr:
    return _call("format", exp.Literal.string("{:,}"), exp.cast(arg.copy(), "BIGINT"))


def _signed_radix(spec: re.Match[str], arg: exp.Expr) -> tuple[str, exp.Expr]:
    """The ``%s`` spec and text argument that print ``arg`` as GoogleSQL's radix spec does:
    sign, ``#``'s prefix (``0x``, ``0X``, ``0``, also before a zero), zeros, digits."""
    flags, width, conv = spec["flags"], spec["width"], spec["conv"]
    prefix = {"x": "0x", "X": "0X", "o": "0"}[conv] if "#" in flags else ""
    value = exp.cast(arg.copy(), "HUGEINT")  # -INT64_MIN fits

    def text(sign: str, number: exp.Expr) -> exp.Expr:
        digits = _call("printf", exp.Literal.string(f"%{conv}"), number)
        if "0" in flags and "-" not in flags and width:  # zeros between prefix and digits
            size = exp.Literal.number(int(width) - len(sign) - len(prefix))
            longest = _call("greatest", size, _call("length", digits.copy()))
            digits = _call("lpad", digits, exp.cast(longest, "INT"), exp.Literal.string("0"))
        return exp.DPipe(this=exp.Literal.string(sign + prefix), expression=digits)

    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    magnitude = exp.Neg(this=exp.paren(value.copy()))
    spaced = not ("0" in flags and "-" not in flags)
    text_spec = f"%{'-' if '-' in flags else ''}{width}s" if spaced else "%s"
    case = exp.Case(ifs=[exp.If(this=negative, true=text("-", magnitude))], default=text("", value))
    return text_spec, case


def printf_args(fmt: exp.Literal, args: list[exp.Expr]) -> tuple[exp.Literal, list[exp.Expr]]:
    """The format and arguments, with the specifiers above turned into ``%s`` of text."""
    pieces, start, i = [], 0, 0
    for match in _ANY_SPEC.finditer(fmt.this):
        spec = match.group(0)
        if spec == "%%":
            continue
        if i < len(args):
            radix = _RADIX.fullmatch(spec)
            if spec in ("%'d", "%'i"):
                pieces.append(fmt.this[start : match.start()] + "%s")
                start, args[i] = match.end(), _grouped(args[i])
            elif radix:
                text_spec, args[i] = _signed_radix(radix, args[i])
                pieces.append(fmt.this[start : match.start()] + text_spec)
                start = match.end()
            elif spec[-1] in "xXo":
                raise TranspileError(
                    f"unsupported on DuckDB: FORMAT specifier {spec!r} (a sign flag or a "
                    "precision of a hexadecimal or octal integer)"
                )
        i += 1
    if not pieces:
        return fmt, args
    return exp.Literal.string("".join(pieces) + fmt.this[start:]), args
