"""The YAML header of a template file: parsing, the typed model, errors with header lines.

A template starts with a block comment ``/*--- ... ---*/`` holding YAML; the rest of the
file is the Jinja + BigQuery SQL body. The header is parsed *before* Jinja runs, so a
header can never be influenced by template code.

Example:
    >>> text = '''/*---
    ... name: demo
    ... description: A demo.
    ... parameters:
    ...   n: {type: INT64, default: 3}
    ... ---*/
    ... SELECT @n AS n'''
    >>> header, body_line = parse_header(text, "demo.sql")
    >>> header.name, str(header.parameters["n"].param_type), body_line
    ('demo', 'INT64', 7)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from idcbq.errors import Location, ParameterError, TemplateError
from idcbq.params import ParamType

#: Opening and closing lines of the header comment.
HEADER_OPEN = "/*---"
HEADER_CLOSE = "---*/"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ParameterSpec(BaseModel):
    """One declared parameter: type, whether it is required, default, example, help."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    type: str
    required: bool = False
    default: Any = None
    example: Any = None
    description: str = ""

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            return str(ParamType.parse(value))
        except ParameterError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from None

    @model_validator(mode="after")
    def _typed_values(self) -> ParameterSpec:
        ptype = self.param_type
        for label in ("default", "example"):
            value = getattr(self, label)
            if value is not None:
                try:
                    coerce_yaml_value(ptype, value, name=label)
                except ParameterError as exc:
                    raise ValueError(f"{label}: {exc.message}") from None
        if self.required and self.default is not None:
            raise ValueError("a required parameter cannot have a default")
        return self

    @property
    def param_type(self) -> ParamType:
        return ParamType.parse(self.type)

    def typed_default(self) -> Any:
        return coerce_yaml_value(self.param_type, self.default, name="default")

    def typed_example(self) -> Any:
        return coerce_yaml_value(self.param_type, self.example, name="example")


class TemplateHeader(BaseModel):
    """The validated header of one template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    tables: list[str] = Field(default_factory=list)
    output: dict[str, str] = Field(default_factory=dict)
    examples: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    #: Also runs on ``--source idc-index``: the body branches on ``{% if idc_index %}`` and
    #: reads ``table('index')`` (idc-index's series-level tables) there.
    idc_index: bool = False

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid template name (letters, digits, _ and dots)"
            )
        return value

    @field_validator("description")
    @classmethod
    def _has_description(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("description must not be empty")
        return value.strip()

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, value: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        for key in value:
            if not _PARAM_NAME_RE.match(key):
                raise ValueError(f"{key!r} is not a valid parameter name")
        return value

    @model_validator(mode="after")
    def _examples_declared(self) -> TemplateHeader:
        for ex_name, values in self.examples.items():
            for key, value in values.items():
                spec = self.parameters.get(key)
                if spec is None:
                    raise ValueError(f"example {ex_name!r} sets undeclared parameter {key!r}")
                try:
                    coerce_yaml_value(spec.param_type, value, name=key)
                except ParameterError as exc:
                    raise ValueError(f"example {ex_name!r}: {exc.message}") from None
        # Every template must be runnable by tests and docs with a known parameter set.
        for key, spec in self.parameters.items():
            if spec.required and spec.example is None and not self.examples:
                raise ValueError(
                    f"required parameter {key!r} needs an example (or add an examples: set)"
                )
        return self

    def example_params(self) -> dict[str, Any]:
        """One parameter set that the template should run with.

        The first named example if there is one, else every required parameter's
        ``example`` (values typed by the declared types).
        """
        if self.examples:
            first = next(iter(self.examples.values()))
            return {
                k: coerce_yaml_value(self.parameters[k].param_type, v, name=k)
                for k, v in first.items()
            }
        return {
            k: spec.typed_example()
            for k, spec in self.parameters.items()
            if spec.example is not None or spec.required
        }


def coerce_yaml_value(ptype: ParamType, value: Any, *, name: str) -> Any:
    """Type a value written in YAML: dates may come as strings, ints are fine as FLOAT64."""
    if value is None:
        return None
    if isinstance(value, str) and ptype.scalar in ("DATE", "TIMESTAMP") and not ptype.is_array:
        return ptype.parse_text(value, name=name)
    if ptype.is_array and isinstance(value, list):
        return [coerce_yaml_value(ptype.element_type, v, name=name) for v in value]
    if ptype.scalar == "TIMESTAMP" and not ptype.is_array:
        import datetime as dt

        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
    return ptype.check(value, name=name)


def split_header(text: str, path: str | None) -> tuple[str, int, int]:
    """Return (yaml text, line of the YAML's first line, line where the body starts).

    Lines are 1-based. The header must be the first non-blank thing in the file.
    """
    lines = text.splitlines(keepends=True)
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines) or lines[first].strip() != HEADER_OPEN:
        raise TemplateError(
            f"template must start with a {HEADER_OPEN} header comment",
            location=Location(path, first + 1, 1, lines[first].rstrip() if lines[first:] else ""),
            hint=f"put the YAML header between a {HEADER_OPEN} line and a {HEADER_CLOSE} line",
        )
    for idx in range(first + 1, len(lines)):
        if lines[idx].strip() == HEADER_CLOSE:
            return "".join(lines[first + 1 : idx]), first + 2, idx + 2
    raise TemplateError(
        f"header comment opened here is never closed with a {HEADER_CLOSE} line",
        location=Location(path, first + 1, 1, lines[first].rstrip()),
    )


def parse_header(text: str, path: str | None = None) -> tuple[TemplateHeader, int]:
    """Parse and validate a template's header; return it and the body's first line."""
    import yaml

    yaml_text, yaml_line, body_line = split_header(text, path)
    file_lines = text.splitlines()
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.load(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = yaml_line + (mark.line if mark else 0)
        col = (mark.column + 1) if mark else None
        raise TemplateError(
            f"header is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            location=Location(path, line, col, _line(file_lines, line)),
        ) from None
    if not isinstance(data, dict):
        raise TemplateError(
            "header must be a YAML mapping (name:, description:, parameters:, ...)",
            location=Location(path, yaml_line, 1, _line(file_lines, yaml_line)),
        )
    from pydantic import ValidationError as PydanticError

    try:
        header = TemplateHeader.model_validate(data)
    except PydanticError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        rel = _yaml_line_of(node, loc)
        named = re.search(r"parameter '(\w+)'", err.get("msg", ""))
        if not loc and named:  # model-level checks name the parameter they are about
            rel = _yaml_line_of(node, ("parameters", named.group(1)))
        line = yaml_line + rel
        where = ".".join(str(p) for p in loc) or "header"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise TemplateError(
            f"header field {where}: {msg}{more}",
            location=Location(path, line, None, _line(file_lines, line)),
        ) from None
    return header, body_line


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1].rstrip() if 0 < number <= len(lines) else ""


def _yaml_line_of(node: Any, loc: tuple[Any, ...]) -> int:
    """0-based line (within the YAML) of the node a pydantic error location points to."""
    import yaml

    best = node.start_mark.line if node is not None else 0
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    best = key.start_mark.line
                    node = value
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return best
            node = node.value[part]
            best = node.start_mark.line
        else:
            return best
    return best


def declared_types(header: TemplateHeader) -> Mapping[str, ParamType]:
    return {k: v.param_type for k, v in header.parameters.items()}
