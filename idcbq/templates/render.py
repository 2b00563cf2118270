"""Sandboxed Jinja rendering of templates: structure and table names only, never values.

The Jinja context holds exactly two functions:

- ``table(name)``: the only way to name a table. ``table('dicom_all')`` (and the other
  IDC tables) renders the backquoted BigQuery FQN for the configured IDC version and data
  project; ``table('clinical.<t>')`` names a table of the matching clinical dataset.
- ``given(name)``: True if a declared parameter was provided with a non-NULL value
  (explicitly or by its default). It lets a template drop a filter, e.g.
  ``{% if given('collection_id') %}AND collection_id = @collection_id{% endif %}``.

Parameter values are not in the context: they reach the engine only as bound ``@name``
parameters. The environment is ``ImmutableSandboxedEnvironment`` with
``StrictUndefined``, autoescape off, and no default globals (no ``range``, ``cycler``,
``joiner``, ``lipsum``, ``namespace``, ``dict``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from idcbq.errors import Location, ParameterError, TemplateError
from idcbq.params import BoundParameter
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion, table_fqn
from idcbq.templates.locations import LocationMap

if TYPE_CHECKING:
    from idcbq.templates.catalog import Template

#: Tables of the main ``idc_vNN`` datasets that ``table()`` accepts.
IDC_TABLES = frozenset(
    {
        "dicom_all",
        "dicom_all_view",
        "auxiliary_metadata",
        "dicom_metadata",
        "dicom_metadata_curated",
        "dicom_metadata_curated_series_level",
        "dicom_derived_all",
        "dicom_pivot",
        "original_collections_metadata",
        "analysis_results_metadata",
        "version_metadata",
        "segmentations",
        "measurement_groups",
        "qualitative_measurements",
        "quantitative_measurements",
    }
)
_CLINICAL_RE = re.compile(r"^clinical\.([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class RenderedQuery:
    """BigQuery SQL from a template with its bound parameters and a map back to the file."""

    sql: str
    params: tuple[BoundParameter, ...]
    template: str | None
    path: str | None
    location_map: LocationMap
    tables: tuple[str, ...] = ()
    engine_sql: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Which check validated it (``googlesql-analyzer`` / ``strict``), once validated.
    validated_by: str | None = None

    @property
    def param_dict(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.params}


def resolve_table(name: Any, *, idc_version: IdcVersion, data_project: str) -> str:
    """The FQN ``table(name)`` renders; TemplateError for anything not an IDC table."""
    if not isinstance(name, str):
        raise TemplateError(f"table() takes a table name string, got {type(name).__name__}")
    clinical = _CLINICAL_RE.match(name)
    if clinical:
        return table_fqn(
            clinical.group(1), idc_version=idc_version, data_project=data_project, clinical=True
        )
    if name in IDC_TABLES:
        return table_fqn(name, idc_version=idc_version, data_project=data_project)
    import difflib

    close = difflib.get_close_matches(name, sorted(IDC_TABLES), n=1)
    hint = (
        f"did you mean table({close[0]!r})?" if close else "clinical tables are 'clinical.<name>'"
    )
    raise TemplateError(f"table({name!r}): not an IDC table", hint=hint)


_MAX_REPEAT = 100_000


@cache
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        # Templates only shape SQL: refuse arithmetic that could exhaust time or memory
        # (`{{ 10**10**10 }}`, `{{ 'x' * 10**9 }}`), which the plain sandbox allows.
        intercepted_binops = frozenset({"**", "*"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                raise SecurityError("the power operator is not allowed in templates")
            for seq, count in ((left, right), (right, left)):
                too_long = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if too_long and len(seq) * count > _MAX_REPEAT:
                    raise SecurityError("sequence repetition is too large for a template")
            return super().call_binop(context, operator, left, right)

    env = BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()
    return env


def bind_params(
    template: Template, values: Mapping[str, Any], *, from_text: bool = False
) -> tuple[BoundParameter, ...]:
    """Check ``values`` against the header: unknown names, missing required, types.

    Defaults fill parameters not given. With ``from_text`` values are CLI strings parsed by
    the declared type (``2024-01-01`` for a STRING stays a string).
    """
    header = template.header
    unknown = [k for k in values if k not in header.parameters]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(header.parameters), n=1)
        declared = ", ".join(header.parameters) or "none"
        raise ParameterError(
            f"template {header.name!r} has no parameter {unknown[0]!r}",
            location=template.location(),
            hint=f"did you mean {close[0]!r}?" if close else f"declared parameters: {declared}",
        )
    from idcbq.templates.header import coerce_yaml_value  # pydantic: not for ad-hoc SQL

    bound = []
    for name, spec in header.parameters.items():
        ptype = spec.param_type
        if name in values:
            raw = values[name]
            try:
                if from_text and isinstance(raw, str):
                    value = ptype.parse_text(raw, name=name)
                else:
                    value = coerce_yaml_value(ptype, raw, name=name)
            except ParameterError as exc:
                line = template.header_line_of(name)
                raise ParameterError(
                    exc.message, location=template.location(line), hint=f"declared as {ptype}"
                ) from None
        else:
            value = spec.typed_default()
        if value is None and spec.required:
            line = template.header_line_of(name)
            example = f" (e.g. {spec.example!r})" if spec.example is not None else ""
            raise ParameterError(
                f"template {header.name!r} needs parameter {name!r} ({ptype}){example}",
                location=template.location(line),
                hint=f"pass -p {name}=VALUE" if from_text else f"pass {name}=...",
            )
        bound.append(BoundParameter(name=name, type=ptype, value=value))
    return tuple(bound)


def render(
    template: Template,
    params: tuple[BoundParameter, ...],
    *,
    idc_version: IdcVersion | str | None = None,
    data_project: str = IDC_DATA_PROJECT,
    source: str | None = None,
) -> RenderedQuery:
    """Render a template's body with bound parameters (values stay out of the SQL).

    ``source="idc-index"`` renders the branch of a template whose header says
    ``idc_index: true`` (Jinja variable ``idc_index``); other templates refuse it.
    """
    from idcbq.sources.idc_index import INDEX_TABLES, is_idc_index

    version = IdcVersion.parse(idc_version)
    on_index = is_idc_index(source)
    if on_index and not template.header.idc_index:
        raise TemplateError(
            f"template {template.name} does not run on the idc-index tables",
            hint="templates that do have idc_index: true in their header "
            "(`idcbq templates list` marks them); or use the sample, an export or BigQuery",
        )
    declared = template.header.parameters
    present = {p.name for p in params if p.value is not None}
    tables: list[str] = []
    path = str(template.path)

    def table(name: Any) -> str:
        if on_index and name in INDEX_TABLES:  # idc-index tables live in the pinned dataset
            fqn = table_fqn(name, idc_version=version, data_project=data_project)
        else:
            fqn = resolve_table(name, idc_version=version, data_project=data_project)
        tables.append(name)
        return fqn

    def given(name: Any) -> bool:
        if name not in declared:
            raise TemplateError(f"given({name!r}): not a declared parameter")
        return name in present

    full = _render_text(
        template.body, path, {"table": table, "given": given, "idc_index": on_index}, template.text
    )
    stripped = full.lstrip("\n")
    offset = len(full) - len(stripped)
    # Keep leading newlines in the map so rendered line k + offset is the file's line.
    lmap = LocationMap.build(path, template.text, full)
    lmap = _shift(lmap, offset)
    return RenderedQuery(
        sql=stripped.rstrip() + "\n",
        params=params,
        template=template.name,
        path=path,
        location_map=lmap,
        tables=tuple(dict.fromkeys(tables)),
    )


def _shift(lmap: LocationMap, offset: int) -> LocationMap:
    return LocationMap(
        lmap.path,
        lmap.template_lines,
        lmap.rendered_lines[offset:],
        lmap.line_map[offset:],
        lmap.exact[offset:],
    )


@lru_cache(maxsize=256)
def _compiled(body: str) -> Any:
    """The sandbox's compiled template for a body (compiling costs more than rendering)."""
    return _environment().from_string(body)


def _render_text(body: str, path: str, context: dict[str, Any], file_text: str) -> str:
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import SecurityError, UndefinedError
    from jinja2.exceptions import TemplateError as JinjaError

    try:
        compiled = _compiled(body)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"Jinja syntax error: {exc.message}", location=_loc(path, exc.lineno, file_text)
        ) from None
    try:
        return compiled.render(context)
    except TemplateError as exc:
        if exc.location is not None:
            raise
        line = _template_line(exc)
        raise TemplateError(
            exc.message, location=_loc(path, line, file_text), hint=exc.hint
        ) from None
    except SecurityError as exc:
        raise TemplateError(
            f"Jinja sandbox refused: {exc}",
            location=_loc(path, _template_line(exc), file_text),
            hint="templates may only call table() and given(); no attribute walks",
        ) from None
    except UndefinedError as exc:
        raise TemplateError(
            f"undefined in template: {exc.message}",
            location=_loc(path, _template_line(exc), file_text),
            hint="parameter values are not Jinja variables: use @name in SQL, given('name') in {% if %}",
        ) from None
    except JinjaError as exc:
        raise TemplateError(
            f"Jinja error: {exc}", location=_loc(path, _template_line(exc), file_text)
        ) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise TemplateError(
            f"template code failed: {type(exc).__name__}: {exc}",
            location=_loc(path, _template_line(exc), file_text),
        ) from None


def _template_line(exc: BaseException) -> int | None:
    """The innermost traceback line that belongs to the template (Jinja rewrites frames)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _loc(path: str, line: int | None, text: str) -> Location:
    lines = text.splitlines()
    snippet = lines[line - 1].rstrip() if line and 0 < line <= len(lines) else None
    return Location(path, line, None, snippet)
