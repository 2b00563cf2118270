"""Column presets for ``idcbq mirror``: which top-level columns of a table to copy.

* ``templates``: every column the shipped template library (``sql/*.sql``) names;
* ``idc-index``: every column the ``idc-index-data`` queries name;
* ``all``: every column;
* or a comma-separated list of presets and column names (``templates,PixelSpacing``).

Names are found with sqlglot's BigQuery tokenizer (Jinja tags removed first) and kept
when they are a top-level column of the table (case-insensitive), so a preset is a
superset of what the queries read: an identifier that happens to equal a column name
is mirrored too, which is harmless.

Example:
    >>> resolve_columns("SOPInstanceUID,Modality", ["SOPInstanceUID", "Modality", "Rows"])
    ['SOPInstanceUID', 'Modality']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from idcbq.errors import UsageError
from idcbq.manifest.model import DICOM_ALL_COLUMNS

PRESETS = ("templates", "idc-index", "all")
#: Kept in every mirror: what manifests and downloads read (manifest.model.DICOM_ALL_COLUMNS),
#: plus the URLs and version columns that jobs and diffs use.
ALWAYS = tuple(
    dict.fromkeys(
        (
            *DICOM_ALL_COLUMNS,
            "gcs_url",
            "aws_url",
            "series_aws_url",
            "series_init_idc_version",
            "series_revised_idc_version",
            "instance_init_idc_version",
            "instance_revised_idc_version",
        )
    )
)
_JINJA = re.compile(r"\{%.*?%\}|\{#.*?#\}|\{\{.*?\}\}", re.S)


def identifiers(sql_text: str) -> set[str]:
    """Identifier-like tokens of a (Jinja) BigQuery SQL text, lower-cased."""
    from sqlglot.dialects.bigquery import BigQuery
    from sqlglot.tokens import TokenType

    text = _JINJA.sub(" NULL ", sql_text)
    try:
        tokens = BigQuery().tokenize(text)
    except Exception:  # sqlglot.errors.TokenError on odd Jinja leftovers: fall back to a regex
        return {m.lower() for m in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
    kinds = {TokenType.VAR, TokenType.IDENTIFIER}
    out: set[str] = set()
    for tok in tokens:
        if tok.token_type in kinds or tok.text.isidentifier():
            for part in tok.text.strip("`").split("."):
                out.add(part.lower())
    return out


@cache
def _preset_identifiers(preset: str) -> frozenset[str]:
    files: list[Path] = []
    if preset == "templates":
        from idcbq.templates.catalog import builtin_dir

        base = builtin_dir()
        files = sorted(base.glob("*.sql")) if base else []
    elif preset == "idc-index":
        import idc_index_data

        files = sorted(Path(idc_index_data.__file__).parent.glob("*.sql"))
    names: set[str] = set()
    for f in files:
        names |= identifiers(f.read_text(encoding="utf-8"))
    return frozenset(names)


def resolve_columns(spec: str | Sequence[str] | None, available: Iterable[str]) -> list[str]:
    """Columns to mirror, in the table's order.

    Args:
        spec: a preset name, a comma-separated list, a sequence of names, or None
            (``templates``).
        available: the table's top-level columns, in order.

    Raises:
        UsageError: a listed column is not in the table.
    """
    cols = list(available)
    by_lower = {c.lower(): c for c in cols}
    if spec is None:
        spec = "templates"
    if isinstance(spec, str):
        spec = [s for s in (p.strip() for p in spec.split(",")) if s]
    if "all" in spec:
        return cols
    preset: set[str] = set()
    for name in (s for s in spec if s in PRESETS):
        preset |= _preset_identifiers(name)
    spec = [s for s in spec if s not in PRESETS]
    missing = [s for s in spec if s.lower() not in by_lower]
    if missing:
        raise UsageError(
            f"column {missing[0]!r} is not in the table",
            hint=f"use a preset ({', '.join(PRESETS)}) or columns of the table; "
            f"{len(missing)} unknown: {', '.join(missing[:5])}",
        )
    wanted = {s.lower() for s in spec} | preset | {c.lower() for c in ALWAYS}
    return [c for c in cols if c.lower() in wanted]
