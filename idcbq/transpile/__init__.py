"""BigQuery SQL -> DuckDB SQL: table mapping, scripts, parameters and our rewrites.

``to_duckdb`` is the one entry point the DuckDB engine calls. It never returns SQL
that would silently mean something else: what it cannot translate faithfully
raises ``idcbq.errors.TranspileError`` ("unsupported on DuckDB: ..."), and a function or
construct outside :mod:`idcbq.transpile.capability`'s allow-list is refused up front
(``UnsupportedOnEngine``, naming it and the engines that can run it).

Example:
    >>> from idcbq.params import BoundParameter
    >>> to_duckdb(
    ...     "SELECT ImageType[SAFE_OFFSET(0)] AS t FROM `bigquery-public-data.idc_v25.dicom_all` "
    ...     "WHERE Modality IN UNNEST(@m)",
    ...     params=[BoundParameter.of("m", "ARRAY<STRING>", ["CT"])],
    ... )[:51]
    'SELECT ImageType[1] AS t FROM "idc_v25"."dicom_all"'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from idcbq.core.gcpause import pausing_gc
from idcbq.errors import TranspileError
from idcbq.transpile.scripts import split_declare_script

if TYPE_CHECKING:
    from idcbq.params import BoundParameter

__all__ = ["TranspileError", "split_declare_script", "to_duckdb", "to_duckdb_tree"]


@pausing_gc  # sqlglot's trees are cycles: see idcbq.core.gcpause
def to_duckdb(
    sql: str,
    *,
    schema: Mapping | None = None,
    data_project: str = "bigquery-public-data",
    params: Sequence[BoundParameter] = (),
    dataset: str = "idc_current",
    expression_types: Mapping[str, Any] | None = None,
    strict_types: bool = True,
) -> str:
    """Translate one BigQuery query (or DECLARE script) to DuckDB SQL with ``$name`` parameters.

    Args:
        sql: BigQuery SQL, parameters as ``@name``; may start with ``DECLARE name TYPE
            DEFAULT literal;`` statements (their defaults apply unless ``params`` has the name).
        schema: ``{project: {dataset: {table: {column: bigquery_type}}}}`` for the
            type-aware rewrites; None: idcbq's reference notes for the IDC tables named.
            A rewrite that needs a type nobody knows refuses the query.
        data_project: the project whose tables become ``dataset.table`` in DuckDB.
        params: declared parameters; each ``@name`` becomes ``CAST($name AS <type>)``.
        dataset: the dataset bare table names (``dicom_all``) are in.
        expression_types: what the gate's GoogleSQL analysis resolved: types of
            expressions by character span of ``sql`` and of column names (see
            :mod:`idcbq.transpile.analyzed_types`); they type what sqlglot cannot.

    Raises:
        TranspileError: for SQL with no faithful DuckDB equivalent.
    """
    from sqlglot.errors import ErrorLevel, SqlglotError

    from idcbq.transpile.dialects import DuckDBText

    tree = to_duckdb_tree(
        sql,
        schema=schema,
        data_project=data_project,
        params=params,
        dataset=dataset,
        expression_types=expression_types,
        strict_types=strict_types,
    )
    try:
        # the tree is ours alone: generate from it without copying it first
        return tree.sql(dialect=DuckDBText, unsupported_level=ErrorLevel.RAISE, copy=False)
    except SqlglotError as exc:
        raise TranspileError(f"unsupported on DuckDB: {_first_line(exc)}") from exc


@pausing_gc
def to_duckdb_tree(
    sql: str,
    *,
    schema: Mapping | None = None,
    data_project: str = "bigquery-public-data",
    params: Sequence[BoundParameter] = (),
    dataset: str = "idc_current",
    expression_types: Mapping[str, Any] | None = None,
    strict_types: bool = True,
):
    """Like :func:`to_duckdb` but returns the rewritten sqlglot tree (for tests and benches)."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from idcbq.transpile import (
        alias_fields,
        array_sizes,
        bytes_text,
        case_mapping,
        casts,
        civil_buckets,
        civil_text,
        compliance,
        concat_text,
        corresponding,
        current_times,
        dates,
        errors_runtime,
        float_functions,
        functions,
        json_subscripts,
        json_values,
        known,
        literal_coercion,
        numeric,
        numeric_supertypes,
        range_frames,
        rewrites,
        rules,
        semantics,
        sequences,
        set_order,
        shapes,
        stats,
        string_search,
        strings,
        structs,
        time_buckets,
        typed,
        unnest_rows,
        value_names,
        window_frames,
        zones,
    )
    from idcbq.transpile.analyzed_types import fill_unknown
    from idcbq.transpile.capability import require_duckdb
    from idcbq.transpile.parameters import bind_placeholders
    from idcbq.transpile.scripts import split_script, variables_to_parameters
    from idcbq.transpile.tables import map_tables
    from idcbq.transpile.types import annotate
    from idcbq.transpile.unnest_joins import unnest_joins_to_projections

    query, declarations = split_script(sql)
    # Before anything names or reads the operands' columns (output_names would name an
    # anonymous one, which GoogleSQL refuses under CORRESPONDING).
    query = corresponding.positional(query, sql)
    # Fail closed: only what the rules below translate faithfully reaches DuckDB.
    require_duckdb(query)
    query = window_frames.inverted_frames(query)  # on the offsets as written
    case_mapping.mark_default_delimiters(query)  # while the parser's positions tell
    rewrites.bitwise_mixes(query)  # before any rewrite builds operators of its own
    types = {p.name: p.type for p in params}
    try:
        query = errors_runtime.cast_formats(query)  # before rewrites that would drop FORMAT
        query = variables_to_parameters(query, declarations)
        _inline_unbound_declarations(query, declarations, types)
        # Output names before any rewrite: a typed rewrite or simplification may replace
        # an expression (``COALESCE(1, NULL)`` -> ``1``) and with it DuckDB's name.
        query = value_names.struct_value_table_fields(query)  # before names: fields f0_...
        query = value_names.anonymous_value_columns(query)  # before names: it names f0_
        query = semantics.output_names(query, columns=False)
        query = set_order.order_expressions(query)  # before types: the wrapper is typed
        query = zones.extract_at_time_zone(query)  # before types: DATETIME(ts, zone)
        query = json_values.pretty_print_option(query)  # before TO_JSON_STRING's typed rules
        query = literal_coercion.numeric_literals(query)  # before types: the literal is NUMERIC
        query = literal_coercion.civil_argument_literals(query)  # before types: a DATE
        # Types first (the schema is keyed by the original project), and only when a
        # rewrite needs them: qualifying against an 800-column schema is not free.
        wanted = casts.needs_types(query) or typed.needs_types(query)
        typed_families = (concat_text, functions, json_values, shapes, stats, civil_text)
        known_schema = known.schema_or_reference(query, schema, data_project, dataset)
        wanted = (
            wanted
            or any(family.needs_types(query) for family in typed_families)
            or numeric.needs_types(query, known_schema, types)
            or strings.needs_types(query, known_schema, types)
            or dates.needs_types(query, known_schema, types)
            or structs.needs_types(query, known_schema, types)
            or compliance.needs_types(query)
            or unnest_rows.needs_types(query, known_schema)
            or zones.needs_types(query)
            or time_buckets.needs_types(query)
            or civil_buckets.needs_types(query)
            or window_frames.needs_types(query)
            or json_subscripts.needs_types(query)
            or bytes_text.needs_types(query, known_schema, types)
            or numeric_supertypes.needs_types(query)
        )
        if wanted:
            declared = {name: _declared_type(str(kind)).copy() for name, kind in types.items()}
            annotated = annotate(query, known_schema, bare=(data_project, dataset), params=declared)
            if expression_types:  # GoogleSQL typed what sqlglot could not
                fill_unknown(query, sql, expression_types)
            known.require_types(query, annotated, per_node=strict_types)
            _forget_positions(query)  # served fill_unknown; every copy would deep-copy them
            query = casts.cast_to_int64(query)
            query = rules.run_rules(
                query,
                (
                    numeric_supertypes.numeric_beside_literals,  # before rules build nodes
                    *bytes_text.TYPED,  # first: the string rules then see text
                    *concat_text.TYPED,  # before the rules that translate its cast
                    *functions.TYPED,
                    *structs.TYPED,
                    *numeric.TYPED,
                    *stats.TYPED,
                    *dates.TYPED,
                    *strings.TYPED,
                    *json_subscripts.TYPED,
                    *json_values.TYPED,
                    *shapes.TYPED,
                    *civil_text.TYPED,
                    *typed.TYPED,
                    *compliance.TYPED,
                    *unnest_rows.TYPED,
                    *zones.TYPED,
                    *time_buckets.TYPED,
                    civil_buckets.civil_bucket_operand,
                    *window_frames.TYPED,
                ),
            )
            # later copies need no (large, nested) types: dropped in the marks' walk
            query = errors_runtime.mark_overflow_free(query, drop_types=True)
        query = map_tables(query, data_project)
        columns_of = _columns_lookup(schema, data_project)
        # One run of every module's untyped rules, in this order: the node types seen are
        # kept from rule to rule (a rule whose types the tree lacks is skipped unwalked).
        untyped = (
            civil_text.literal_casts,  # before errors_runtime reads literals
            structs.array_struct_names,  # before UNNEST reads the fields
            structs.anonymous_struct_fields,
            unnest_rows.explode_struct_literals,
            rules.Triggered(semantics.UNTYPED),
            *json_values.UNTYPED,  # before functions, as compliance
            rules.Triggered(compliance.UNTYPED),  # before functions: SAFE. turns error() to NULL
            *zones.UNTYPED,  # before functions (FORMAT_TIMESTAMP's zone)
            array_sizes.generated_size_limit,  # before sequences replaces GENERATE_ARRAY
            sequences.float_generate_array,  # before functions' step guard
            *float_functions.STEPS,
            rules.Triggered(functions.UNTYPED),
            *dates.UNTYPED,
            current_times.current_clock,  # before errors_runtime guards its zones
            *time_buckets.UNTYPED,
            civil_buckets.civil_bucket,
            string_search.instr_positions,
            *strings.UNTYPED,
            case_mapping.initcap_words,  # after strings: its UPPER/LOWER are final
            *shapes.UNTYPED,
            *rewrites.ALL,
            range_frames.count_star_floor,
            alias_fields.order_by_alias_fields,
            *errors_runtime.STEPS,  # BigQuery's runtime errors (EXP overflow, ...)
            rules.handles(exp.Unnest)(  # a SELECT's UNNEST joins
                lambda tree: unnest_joins_to_projections(tree, columns_of)
            ),
            rewrites.operator_grouping,  # last: guards above may add operators
        )
        query = rules.run_steps(query, untyped)
        return bind_placeholders(query, types)
    except SqlglotError as exc:
        raise TranspileError(f"unsupported on DuckDB: {_first_line(exc)}") from exc


def _columns_lookup(schema: Mapping | None, data_project: str):
    """``(dataset, table) -> {column: type}`` from a ``{project: {dataset: {table: ...}}}`` schema."""
    datasets = (schema or {}).get(data_project) or {}

    def columns_of(dataset: str, table: str) -> Mapping[str, str] | None:
        return (datasets.get(dataset) or {}).get(table)

    return columns_of


def _inline_unbound_declarations(query, declarations, types) -> None:
    """A DECLARE default not overridden by a parameter is the script's own literal: inline it."""
    from sqlglot import exp

    pending = {d.name.lower(): d for d in declarations if d.name not in types}
    if not pending:  # a plain query: no walk
        return
    for param in list(query.find_all(exp.Parameter)):
        decl = pending.get(param.name.lower())
        if decl is None:
            continue
        target = exp.DataType.build(decl.type.duckdb_type, dialect="duckdb")
        param.replace(exp.cast(exp.convert(decl.value), target))


@lru_cache(maxsize=256)
def _declared_type(text: str):
    """A parameter's declared BigQuery type, parsed once per process (callers copy it)."""
    from sqlglot import exp

    return exp.DataType.build(text, dialect="bigquery")


#: The parser's token positions in a node's ``meta`` (only GoogleSQL's spans read them).
_POSITIONS = ("line", "col", "start", "end")


def _forget_positions(tree) -> None:
    """Drop the parser's token positions from ``tree``'s nodes (``Expr.copy`` deep-copies
    each node's ``meta``: the typed rules copy many nodes)."""
    for node in tree.walk():
        meta = node._meta
        if meta:
            for key in _POSITIONS:
                meta.pop(key, None)
            if not meta:
                node._meta = None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
