"""GoogleSQL analysis: table references, catalogs, language options, located errors.

Shared by the googlesql engine and the validator (:mod:`idcbq.validate.googlesql`).

ZetaSQL's local service only attaches table content to tables at the root of the
catalog, so every IDC table a query names (``dicom_all``, ``idc_current.x``,
`` `bigquery-public-data.idc_v25.x` ``) is spliced to one flat root name
(`` `idcbq__<dataset>__<table>` ``, plus ``AS <table>`` when the query gave no alias,
BigQuery's implicit alias). The same rewritten text is analyzed and evaluated, and
error positions are mapped back to the text as written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from idcbq.engines.googlesql.ast_names import location, named_columns, narrow_tables, walk
from idcbq.engines.googlesql.runtime import ZetaSQLCallError, runtime
from idcbq.errors import Location, ValidationError

if TYPE_CHECKING:
    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field

#: BigQuery reserves these, ZetaSQL does not by default.
_RESERVED = ("QUALIFY",)
_AT_RE = re.compile(r"\s*\[at (\d+):(\d+)\]\s*$")


def bigquery_features() -> list[str]:
    """ZetaSQL language features BigQuery has (``idcbq/data/bigquery_features.json``)."""
    import json
    from importlib import resources

    text = (
        resources.files("idcbq")
        .joinpath("data", "bigquery_features.json")
        .read_text(encoding="utf-8")
    )
    return sorted(n for n, e in json.loads(text)["features"].items() if e["bigquery"])


@cache
def language_options() -> Any:
    """BigQuery's GoogleSQL features (the checked-in feature map), PRODUCT_EXTERNAL.

    Not ``maximum_features=True``: that accepts features BigQuery lacks (FILTER
    inside aggregates, graph queries, lambdas, protos, ...).
    """
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls
    from zetasql.wasi._pb2.zetasql.proto import options_pb2
    from zetasql.wasi._pb2.zetasql.public import options_pb2 as public

    opts = runtime().call(
        "GetLanguageOptions",
        ls.LanguageOptionsRequest(maximum_features=True),
        options_pb2.LanguageOptionsProto,
    )
    del opts.enabled_language_features[:]
    for name in bigquery_features():
        opts.enabled_language_features.append(public.LanguageFeature.Value(name))
    opts.product_mode = 1  # PRODUCT_EXTERNAL
    opts.reserved_keywords.extend(_RESERVED)
    return opts


def analyzer_options(params: Mapping[str, Any] | None = None, *, prune: bool = True) -> Any:
    """``AnalyzerOptionsProto``: UTC, one-line errors with ``[at l:c]``, typed @params,
    each resolved node's source span."""
    from zetasql.wasi._pb2.zetasql.proto import options_pb2

    opts = options_pb2.AnalyzerOptionsProto(
        language_options=language_options(),
        default_timezone="UTC",
        error_message_mode=1,  # ERROR_MESSAGE_ONE_LINE
        prune_unused_columns=prune,
        parse_location_record_type=1,  # FULL_NODE_SCOPE: expressions' spans, for their types
    )
    for name, type_proto in (params or {}).items():
        opts.query_parameters.add(name=name, type=type_proto)
    return opts


def param_types(params: Sequence[BoundParameter]) -> dict[str, Any]:
    """``{name: TypeProto}`` of bound parameters (declared types)."""
    from idcbq.engines.googlesql.values import scalar_type_proto

    return {p.name: scalar_type_proto(p.type.scalar, p.type.is_array) for p in params}


# -- table references ------------------------------------------------------------------


@dataclass(frozen=True)
class TableRef:
    """One table path in the SQL text: byte span, name parts (dots split), alias given."""

    start: int
    end: int
    parts: tuple[str, ...]
    has_alias: bool


class ParsedSQL:
    """The statement's table paths and CTE names, from GoogleSQL's own parser."""

    def __init__(self, sql: str):
        from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

        self.sql = sql
        try:
            resp = runtime().call(
                "Parse",
                ls.ParseRequest(sql_statement=sql, options=language_options()),
                ls.ParseResponse,
            )
        except ZetaSQLCallError as exc:
            raise located_error(_located_syntax_error(sql) or exc.message, sql, sql, ()) from None
        self.tables: list[TableRef] = []
        self.ctes: set[str] = set()
        #: Lower-cased names the statement can use columns by (None: it reaches others).
        self.columns = named_columns(resp.parsed_statement)
        #: ``ANY_VALUE(x)`` calls: (call start, arg start, arg end, call end, OVER end or -1).
        self.any_values: list[tuple[int, int, int, int, int]] = []
        windowed: dict[tuple[int, int], int] = {}
        for node in walk(resp.parsed_statement):
            kind = node.DESCRIPTOR.name
            if kind == "ASTAnalyticFunctionCallProto":
                windowed[location(node.function)] = location(node)[1]
            elif kind == "ASTFunctionCallProto" and _plain_any_value(node):
                call, arg = location(node), location(node.arguments[0])
                self.any_values.append((call[0], arg[0], arg[1], call[1], windowed.get(call, -1)))
            if kind == "ASTAliasedQueryProto" and node.HasField("alias"):
                alias = node.alias
                if "identifier" in alias.DESCRIPTOR.fields_by_name:
                    alias = alias.identifier
                self.ctes.add(alias.id_string.lower())
            elif kind == "ASTTablePathExpressionProto" and node.HasField("path_expr"):
                path = node.path_expr
                parts: list[str] = []
                for name in path.names:
                    parts.extend(name.id_string.split(".") if name.is_quoted else [name.id_string])
                start, end = location(path)
                self.tables.append(
                    TableRef(start, end, tuple(parts), has_alias=node.HasField("alias"))
                )


def _located_syntax_error(sql: str) -> str | None:
    """The parser's message with ``[at l:c]`` (Parse has no error mode; Analyze has)."""
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

    cat, _ = catalog_proto({})
    req = ls.AnalyzeRequest(options=analyzer_options(), simple_catalog=cat, sql_statement=sql)
    try:
        runtime().call("Analyze", req, ls.AnalyzeResponse)
    except ZetaSQLCallError as exc:
        return exc.message if exc.message.startswith("Syntax error") else None
    return None


def _plain_any_value(node: Any) -> bool:
    """``ANY_VALUE(x)`` with one argument and no modifier (DISTINCT, HAVING, ...)."""
    names = node.function.names
    if len(names) != 1 or names[0].id_string.upper() != "ANY_VALUE":
        return False
    if len(node.arguments) != 1 or node.distinct or node.null_handling_modifier:
        return False
    return not any(
        node.HasField(f)
        for f in ("having_modifier", "order_by", "limit_offset", "clamped_between_modifier")
        if f in node.DESCRIPTOR.fields_by_name
    )


@dataclass
class Rewrite:
    """SQL with table paths replaced by flat root names, and the edits to map positions back."""

    sql: str
    tables: dict[str, Any] = field(default_factory=dict)  # flat name -> resolved key
    edits: list[tuple[int, int, int]] = field(default_factory=list)  # (start, old_len, new_len)
    any_values: int = 0  # ANY_VALUE calls rewritten to skip NULLs
    columns: frozenset[str] | None = None  # names columns are reached by; None: any
    value_table: bool = False  # SELECT AS STRUCT/VALUE at the top (set by analyze)

    def original_offset(self, offset: int) -> int:
        """Byte offset in the original text of a byte offset in the rewritten text."""
        shift = 0
        for start, old_len, new_len in self.edits:
            if offset < start + shift + new_len:
                if offset >= start + shift:
                    return start
                break
            shift += new_len - old_len
        return offset - shift


def flat_name(key: tuple[str, str]) -> str:
    return f"idcbq__{key[0]}__{key[1]}"


def rewrite(
    sql: str,
    resolve: Callable[[tuple[str, ...]], tuple[str, str] | None],
    *,
    any_value: bool = False,
) -> tuple[Rewrite, list[tuple[str, ...]]]:
    """Splice flat names for every table path ``resolve`` knows; list the unknown ones.

    ``any_value=True`` also makes ``ANY_VALUE(x)`` skip NULLs as BigQuery does (this
    ZetaSQL build keeps them): it becomes ``ARRAY_AGG(x IGNORE NULLS LIMIT 1)[SAFE_OFFSET(0)]``
    (a non-NULL value if there is one, else NULL), in its window form
    ``ARRAY_AGG(x IGNORE NULLS) OVER (...)[SAFE_OFFSET(0)]`` (same frame), by edits
    around ``x`` so table paths inside ``x`` are still spliced.
    """
    parsed = ParsedSQL(sql)
    raw = sql.encode("utf-8")
    result = Rewrite(sql="", columns=parsed.columns)
    unknown: list[tuple[str, ...]] = []
    edits: list[tuple[int, int, bytes]] = []
    for ref in parsed.tables:
        if len(ref.parts) == 1 and ref.parts[0].lower() in parsed.ctes:
            continue
        key = resolve(ref.parts)
        if key is None:
            unknown.append(ref.parts)
            continue
        name = flat_name(key)
        result.tables[name] = key
        text = f"`{name}`" if ref.has_alias else f"`{name}` AS `{ref.parts[-1]}`"
        edits.append((ref.start, ref.end, text.encode("utf-8")))
    if any_value:
        for call_start, arg_start, arg_end, call_end, over_end in parsed.any_values:
            edits.append((call_start, arg_start, b"ARRAY_AGG("))
            if over_end >= 0:  # window form: the frame's non-NULL values, the first of them
                edits.append((arg_end, call_end, b" IGNORE NULLS)"))
                edits.append((over_end, over_end, b"[SAFE_OFFSET(0)]"))
            else:
                edits.append((arg_end, call_end, b" IGNORE NULLS LIMIT 1)[SAFE_OFFSET(0)]"))
            result.any_values += 1
    out = bytearray()
    pos = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        out += raw[pos:start] + new
        result.edits.append((start, end - start, len(new)))
        pos = end
    out += raw[pos:]
    result.sql = out.decode("utf-8")
    return result, unknown


# -- catalogs and analysis ------------------------------------------------------------


def table_proto(name: str, fields: Sequence[Field], serialization_id: int) -> Any:
    from zetasql.wasi._pb2.zetasql.public import simple_table_pb2

    from idcbq.engines.googlesql.values import type_proto

    t = simple_table_pb2.SimpleTableProto(name=name, serialization_id=serialization_id)
    for f in fields:
        t.column.add(name=f.name, type=type_proto(f))
    return t


def catalog_proto(tables: Mapping[str, Sequence[Field]]) -> tuple[Any, dict[int, str]]:
    """A root catalog holding ``tables`` and the builtin functions; ids -> names."""
    from zetasql.wasi._pb2.zetasql.proto import simple_catalog_pb2

    cat = simple_catalog_pb2.SimpleCatalogProto(name="idcbq")
    cat.builtin_function_options.language_options.CopyFrom(language_options())
    ids: dict[int, str] = {}
    for i, (name, fields) in enumerate(sorted(tables.items()), start=1):
        cat.table.append(table_proto(name, fields, i))
        ids[i] = name
    return cat, ids


def used_columns(
    resolved: Any, ids: Mapping[int, str], tables: Mapping[str, Sequence[Field]]
) -> dict[str, set[str]]:
    """Columns each table scan of a resolved statement reads (after pruning)."""
    used: dict[str, set[str]] = {name: set() for name in tables}
    for node in walk(resolved):
        if node.DESCRIPTOR.name != "ResolvedTableScanProto":
            continue
        name = ids.get(node.table.serialization_id) or node.table.name
        fields = tables.get(name)
        if fields is None:
            continue
        for i in node.column_index_list:
            used[name].add(fields[i].name)
    return used


class CatalogCache:
    """Catalogs registered in the module once and reused by id (building one per call
    costs ~50 ms, mostly the builtin function table).

    Schema catalogs (columns without data, for analysis) are keyed by tables and their
    columns; content catalogs (pruned columns with data, for evaluation) by (table,
    columns). Each kind is a small LRU; evicted catalogs are unregistered.
    """

    def __init__(self, max_content: int = 16, max_schema: int = 32):
        self.schema: dict[frozenset[Any], tuple[int, dict[int, str]]] = {}
        self.content: dict[tuple[Any, ...], int] = {}
        self.max_content = max_content
        self.max_schema = max_schema

    def _register(
        self, tables: Mapping[str, Sequence[Field]], blobs: Mapping[str, bytes]
    ) -> tuple[int, dict[int, str]]:
        from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

        from idcbq.engines.googlesql.values import map_entry

        cat, ids = catalog_proto(tables)
        raw = ls.RegisterCatalogRequest(simple_catalog=cat).SerializeToString()
        raw += b"".join(map_entry(4, name, blob) for name, blob in blobs.items())
        resp = ls.RegisterResponse.FromString(runtime().call_raw("RegisterCatalog", raw))
        return resp.registered_id, ids

    def schema_catalog(self, tables: Mapping[str, Sequence[Field]]) -> tuple[int, dict[int, str]]:
        key = frozenset((name, tuple(fields)) for name, fields in tables.items())
        if key in self.schema:
            self.schema[key] = self.schema.pop(key)  # most recently used last
        else:
            self.schema[key] = self._register(tables, {})
            while len(self.schema) > self.max_schema:
                _unregister(self.schema.pop(next(iter(self.schema)))[0])
        return self.schema[key]

    def content_catalog(
        self,
        key: tuple[Any, ...],
        build: Callable[[], tuple[Mapping[str, Sequence[Field]], Mapping[str, bytes]]],
    ) -> int:
        if key in self.content:
            cid = self.content.pop(key)
            self.content[key] = cid  # most recently used last
            return cid
        tables, blobs = build()
        cid, _ = self._register(tables, blobs)
        self.content[key] = cid
        while len(self.content) > self.max_content:
            _unregister(self.content.pop(next(iter(self.content))))
        return cid

    def close(self) -> None:
        for cid in [*(v[0] for v in self.schema.values()), *self.content.values()]:
            with contextlib.suppress(ZetaSQLCallError):
                _unregister(cid)
        self.schema.clear()
        self.content.clear()


def _unregister(catalog_id: int) -> None:
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

    runtime().call("UnregisterCatalog", ls.UnregisterRequest(registered_id=catalog_id), _empty())


def _empty() -> Any:
    from google.protobuf import empty_pb2

    return empty_pb2.Empty


def resolve_statement(
    rewritten: Rewrite,
    original_sql: str,
    tables: Mapping[str, Sequence[Field]],
    params: Mapping[str, Any] | None = None,
    *,
    catalogs: CatalogCache | None = None,
    path: str | None = None,
    line_offset: int = 0,
) -> tuple[Any, dict[int, str], Mapping[str, Sequence[Field]]]:
    """Analyze rewritten SQL: (resolved statement, table ids, the tables' columns as
    analyzed); raise ValidationError.

    The tables are narrowed to the columns the SQL names (see
    :mod:`~idcbq.engines.googlesql.ast_names`); a refusal is re-analyzed with every
    column, so its message (e.g. a did-you-mean) is the one the full schema gives.
    """
    narrowed = narrow_tables(tables, rewritten.columns)
    try:
        resolved, ids = _resolve(rewritten.sql, narrowed, params, catalogs)
        return resolved, ids, narrowed
    except ZetaSQLCallError as exc:
        error = exc
    if narrowed is not tables:
        try:
            resolved, ids = _resolve(rewritten.sql, tables, params, catalogs)
            return resolved, ids, tables
        except ZetaSQLCallError as exc:
            error = exc
    raise located_error(
        error.message,
        original_sql,
        rewritten.sql,
        rewritten.edits,
        path=path,
        line_offset=line_offset,
        rewrite=rewritten,
    ) from None


def _resolve(
    sql: str,
    tables: Mapping[str, Sequence[Field]],
    params: Mapping[str, Any] | None,
    catalogs: CatalogCache | None,
) -> tuple[Any, dict[int, str]]:
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

    req = ls.AnalyzeRequest(options=analyzer_options(params), sql_statement=sql)
    if catalogs is not None:
        cid, ids = catalogs.schema_catalog(tables)
        req.registered_catalog_id = cid
    else:
        cat, ids = catalog_proto(tables)
        req.simple_catalog.CopyFrom(cat)
    return runtime().call("Analyze", req, ls.AnalyzeResponse).resolved_statement, ids


def analyze(
    rewritten: Rewrite,
    original_sql: str,
    tables: Mapping[str, Sequence[Field]],
    params: Mapping[str, Any] | None = None,
    *,
    catalogs: CatalogCache | None = None,
    path: str | None = None,
    line_offset: int = 0,
) -> dict[str, set[str]]:
    """Analyze rewritten SQL; return used columns per flat table; raise ValidationError."""
    resolved, ids, analyzed = resolve_statement(
        rewritten,
        original_sql,
        tables,
        params,
        catalogs=catalogs,
        path=path,
        line_offset=line_offset,
    )
    which = resolved.WhichOneof("node")
    stmt = getattr(resolved, which) if which else None
    rewritten.value_table = bool(getattr(stmt, "is_value_table", False))
    return used_columns(resolved, ids, analyzed)


def _offset_of(text: str, line: int, col: int) -> int:
    raw = text.encode("utf-8")
    lines = raw.split(b"\n")
    off = sum(len(x) + 1 for x in lines[: line - 1])
    return off + col - 1


def _line_col(text: str, offset: int) -> tuple[int, int, str]:
    raw = text.encode("utf-8")[:offset]
    line = raw.count(b"\n") + 1
    col_bytes = raw[raw.rfind(b"\n") + 1 :]
    col = len(col_bytes.decode("utf-8", "replace")) + 1
    snippet = text.splitlines()[line - 1] if text.splitlines()[line - 1 : line] else ""
    return line, col, snippet


def located_error(
    message: str,
    original_sql: str,
    analyzed_sql: str,
    edits: Sequence[tuple[int, int, int]],
    *,
    path: str | None = None,
    line_offset: int = 0,
    rewrite: Rewrite | None = None,
) -> ValidationError:
    """A ValidationError at the original text's line:col, from ZetaSQL's ``[at l:c]``."""
    m = _AT_RE.search(message)
    text = _AT_RE.sub("", message).strip()
    for flat in re.findall(r"idcbq__\w+", text):
        if rewrite is not None and flat in rewrite.tables:
            text = text.replace(flat, ".".join(rewrite.tables[flat]))
    if m is None:
        return ValidationError(f"GoogleSQL: {text}", location=Location(path) if path else None)
    offset = _offset_of(analyzed_sql, int(m.group(1)), int(m.group(2)))
    if rewrite is not None:
        offset = rewrite.original_offset(offset)
    line, col, snippet = _line_col(original_sql, offset)
    loc = Location(path or "<sql>", line + line_offset, col, snippet)
    return ValidationError(f"GoogleSQL: {text}", location=loc)
