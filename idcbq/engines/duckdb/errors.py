"""DuckDB's own error texts as idcbq errors that never quote SQL the user did not write.

DuckDB runs idcbq's translation of the user's BigQuery SQL, so its messages talk about that
translation: a parser error quotes the generated SQL (``LINE 1: SELECT ... ^``), a binder or
catalog error suggests names the user never wrote (``Did you mean "pg_enum"?``,
``Candidate bindings: ...``), a function from an extension asks to ``INSTALL inet``. Here
each becomes one line about the user's query: what failed, in words, and which engines can
run it as written.

Example:
    >>> str(clean_message('Binder Error: Referenced column "agee" not found in FROM clause!'
    ...                   '\\nCandidate bindings: "age"\\n\\nLINE 1: select agee from t\\n  ^'))
    'Binder Error: Referenced column "agee" not found in FROM clause!'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from idcbq.errors import IdcbqError, QueryError, SourceError
from idcbq.transpile.capability import NATIVE_ENGINES, UnsupportedOnEngine

if TYPE_CHECKING:
    from idcbq.sources.exports import ExportRoot
    from idcbq.sources.releases import IdcVersion

#: Lines of a DuckDB message that are advice about DuckDB itself, not about the query.
_ADVICE = (
    "Did you mean",
    "Candidate bindings",
    "Please try installing",
    "INSTALL ",
    "LOAD ",
    "For more info",
    "Failed to download",
    "Extension ",
)
_INLINE_SUGGESTION = re.compile(r"\s*(?:Did you mean|Candidate bindings:)[^\n]*")
_MISSING_FUNCTION = re.compile(
    r'(?:Scalar|Aggregate|Table|Pragma) Function with name "?([A-Za-z_][\w.]*)"? '
    r"(?:does not exist|is not in the catalog)"
)
_EXTENSION = re.compile(
    r"(?:exists in the |required extension ')([A-Za-z_]\w*)(?:'| extension)", re.IGNORECASE
)
_NEAR = re.compile(r'\s+at or near "((?:[^"]|"")*)"')


def clean_message(text: str, user_sql: str | None = None) -> str:
    """DuckDB's message without quoted SQL, suggestions or install advice (one line).

    Args:
        text: DuckDB's error text.
        user_sql: the SQL the user wrote; a token DuckDB quotes (``at or near "x"``) is kept
            only if it occurs there.
    """
    kept: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if line.startswith("LINE "):
            break  # the quoted SQL and its caret follow
        if not line or line.startswith(_ADVICE):
            continue
        kept.append(_INLINE_SUGGESTION.sub("", line))
    message = " ".join(kept) or "error"
    near = _NEAR.search(message)
    if near and (user_sql is None or near.group(1).lower() not in user_sql.lower()):
        message = _NEAR.sub("", message)
    return message


def translate(text: str, *, user_sql: str | None, template: str | None) -> IdcbqError:
    """The idcbq error for DuckDB's message ``text`` about the translation of ``user_sql``."""
    where = f" (template {template})" if template else ""
    function = _MISSING_FUNCTION.search(text)
    extension = _EXTENSION.search(text)
    if function or extension:
        if function:
            construct = function.group(1).upper()
        else:
            construct = f"a function of DuckDB's {extension.group(1)} extension"
        return UnsupportedOnEngine(construct)
    if text.startswith("Parser Error"):
        return QueryError(
            f"DuckDB cannot parse idcbq's translation of this query{where}: "
            + clean_message(text, user_sql).removeprefix("Parser Error: "),
            hint="a construct the DuckDB path does not support; engines that run it as "
            f"written: {', '.join(NATIVE_ENGINES)} (--engine {NATIVE_ENGINES[0]})",
        )
    return QueryError(f"DuckDB query failed{where}: {clean_message(text, user_sql)}")


def version_error(export: ExportRoot, idc_version: IdcVersion) -> SourceError:
    """Why ``export`` cannot serve ``idc_version``: no export, no such dataset, no dicom_all."""
    dataset = idc_version.dataset
    loc = export.location
    if not export.exists():
        from idcbq.validate.unknown import source_name_hint

        near = source_name_hint(loc.url) if not loc.is_remote else None
        return SourceError(
            f"{loc.export_url}: no IDC export here (expected {loc.export_url}/<dataset>/<table>/*.parquet)",
            hint=f"{near + '; ' if near else ''}"
            "pass a directory or bucket that contains bigquery_export/",
        )
    from idcbq.sources.catalog import sort_datasets

    datasets = sort_datasets(export.datasets())
    if dataset not in datasets:
        main = [d for d in datasets if not d.endswith("_clinical")]
        reason = export.missing_reason(dataset)
        return SourceError(
            f"IDC version {idc_version.label} ({dataset}) is not in {loc.export_url}",
            hint=f"{reason + '; ' if reason else ''}"
            f"datasets there: {', '.join(datasets) or 'none'}; "
            f"idc_version can be: {', '.join(d.removeprefix('idc_') for d in main) or 'none'}",
        )
    return SourceError(
        f"{loc.table_url(dataset, 'dicom_all')}: no dicom_all Parquet files in {dataset}",
        hint=f"tables there: {', '.join(export.tables(dataset)) or 'none'}",
    )


def mirror_error(
    mirror: Path | None, dataset: str, exc: Exception, text: str
) -> SourceError | None:
    """A column the source has but the ``mirror`` does not: name it and the fix."""
    import duckdb

    if mirror is None or not isinstance(exc, duckdb.BinderException):
        return None
    match = re.search(r'column "?([A-Za-z_][A-Za-z0-9_]*)"? not found', text)
    if not match:
        return None
    from idcbq.sources.mirror.state import mirrored_tables, missing_column_hint

    column = match.group(1)
    for table in mirrored_tables(mirror, dataset):
        hint = missing_column_hint(mirror, dataset, table, column)
        if hint:
            return SourceError(
                f"column {column!r} of {table} is not in the mirror at {mirror}",
                hint=f"add it with: {hint}",
            )
    return None
