"""``INITCAP`` as GoogleSQL maps case, and the case pairs DuckDB's Unicode tables lack.

GoogleSQL (ICU) knows the case pairs Unicode 16 added; DuckDB's UPPER and LOWER leave
them alone. :data:`LOWER_16` and :data:`UPPER_16` list them (same length, paired by
position) for ``translate`` before DuckDB's UPPER/LOWER (:mod:`idcbq.transpile.strings`).

``INITCAP`` (untyped rule ``initcap_words``): GoogleSQL upper-cases the first character
of each word with the one-character mapping (``ß`` stays ``ß``; DuckDB's UPPER gives
``ẞ``) and lower-cases the rest; a word starts after a delimiter. The default
delimiters are Unicode's white space and ASCII punctuation other than ``'``, `````
and ``=``; among them ``\\`` (sqlglot's DuckDB INITCAP omitted it and the white space
beyond ASCII). The translation splits the text into runs of delimiters and of other
characters and maps each run that is not delimiters.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT INITCAP(s) AS a", read="bigquery")
    >>> "REGEXP_EXTRACT_ALL" in initcap_words(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles

#: (lower, upper) code points of the case pairs new in Unicode 16.
_PAIRS_16 = (
    (0x019B, 0xA7DC),
    (0x0264, 0xA7CB),
    (0x1C8A, 0x1C89),
    (0xA7CD, 0xA7CC),
    (0xA7DB, 0xA7DA),
    *((0x10D70 + i, 0x10D50 + i) for i in range(0x16)),
)
LOWER_16 = "".join(chr(low) for low, _ in _PAIRS_16)
UPPER_16 = "".join(chr(up) for _, up in _PAIRS_16)

#: GoogleSQL's default INITCAP delimiters: Unicode's White_Space and ASCII punctuation.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
DEFAULT_DELIMITERS = _WHITE_SPACE + '!"#$%&()*+,-./:;<>?@[\\]^_{|}~'
#: Characters that mean something in a regular expression's class.
_CLASS_SPECIAL = ("\\", "]", "[", "^", "-")

#: One word: its first character upper-cased alone, the rest lower-cased.
_WORD = (
    "CASE WHEN left(_w, 1) = 'ß' THEN 'ß' "
    "ELSE upper(translate(left(_w, 1), _lo, _up)) END "
    "|| lower(translate(substring(_w, 2), _up, _lo))"
)
#: Runs of delimiters (``_d`` a regular expression class's content) and of the rest.
_SPLIT = (
    "array_to_string(list_transform(regexp_extract_all(_s, '[' || _d || ']+|[^' || _d || ']+'), "
    "lambda _idcbq_run: CASE WHEN regexp_matches(left(_idcbq_run, 1), '^[' || _d || ']') "
    "THEN _idcbq_run ELSE _word END), '')"
)


_DEFAULT = "idcbq_default_delimiters"


def mark_default_delimiters(tree: exp.Expr) -> None:
    """Mark each ``INITCAP`` written without delimiters: sqlglot's parser fills in its own
    default, a literal without the token position a written one has."""
    for node in tree.find_all(exp.Initcap):
        given = node.args.get("expression")
        if given is None or (isinstance(given, exp.Literal) and "start" not in given.meta):
            node.meta[_DEFAULT] = True


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in _CLASS_SPECIAL else c for c in text)


def _word(value: exp.Expr) -> exp.Expr:
    tree = duck_fragment(
        _WORD,
        _w=value,
        _lo=exp.Literal.string(LOWER_16),
        _up=exp.Literal.string(UPPER_16),
    )
    for node in tree.find_all(exp.Upper, exp.Lower):  # already GoogleSQL's mapping
        node.meta["idcbq_full_case"] = node.meta["idcbq_upper"] = True
    return tree


def _class_of(delimiters: exp.Expr) -> exp.Expr:
    """A regular expression class's content matching the characters of ``delimiters``."""
    if isinstance(delimiters, exp.Literal) and delimiters.is_string:
        return exp.Literal.string(_escaped(delimiters.this))
    out = delimiters.copy()
    for char in _CLASS_SPECIAL:
        out = exp.Anonymous(
            this="replace",
            expressions=[out, exp.Literal.string(char), exp.Literal.string("\\" + char)],
        )
    return out


@handles(exp.Initcap)
def initcap_words(tree: exp.Expr) -> exp.Expr:
    """``INITCAP(s[, delimiters])`` word by word, as GoogleSQL maps case."""
    for node in list(tree.find_all(exp.Initcap)):
        value, delimiters = node.this, node.args.get("expression")
        if delimiters is None or node.meta.get(_DEFAULT):
            delimiters = None
            chars = exp.Literal.string(_escaped(DEFAULT_DELIMITERS))
        elif isinstance(delimiters, exp.Literal) and delimiters.is_string and not delimiters.this:
            node.replace(_word(value))  # no delimiters: one word
            continue
        else:
            chars = _class_of(delimiters)
        run = exp.column("_idcbq_run")
        split = duck_fragment(_SPLIT, _s=value, _d=chars, _word=_word(run))
        if delimiters is not None and not isinstance(delimiters, exp.Literal):
            empty = exp.EQ(this=delimiters.copy(), expression=exp.Literal.string(""))
            split = exp.Case(ifs=[exp.If(this=empty, true=_word(value))], default=split)
        node.replace(split)
    return tree
