"""Named SQL templates: header model, catalog, sandboxed rendering.

Example:
    >>> from idcbq.templates import Template, bind_params, render
    >>> t = Template.from_text('''/*---
    ... name: demo
    ... description: Instances of one modality.
    ... parameters:
    ...   modality: {type: STRING, required: true, example: CT}
    ... ---*/
    ... SELECT SOPInstanceUID FROM {{ table('dicom_all') }} WHERE Modality = @modality
    ... ''')
    >>> q = render(t, bind_params(t, {"modality": "CT"}), idc_version="v25")
    >>> print(q.sql.strip())
    SELECT SOPInstanceUID FROM `bigquery-public-data.idc_v25.dicom_all` WHERE Modality = @modality
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Eager: light, and ``render`` must stay the function, not its submodule of that name.
from idcbq.templates.locations import LocationMap
from idcbq.templates.render import IDC_TABLES, RenderedQuery, bind_params, render, resolve_table

if TYPE_CHECKING:
    from idcbq.templates.catalog import Template, TemplateCatalog, builtin_dir
    from idcbq.templates.header import ParameterSpec, TemplateHeader, parse_header

#: Name -> submodule, loaded on first use: ad-hoc SQL needs neither, and the header
#: model imports pydantic (about 0.1 s of a CLI query).
_WHERE = {
    "Template": "catalog",
    "TemplateCatalog": "catalog",
    "builtin_dir": "catalog",
    "ParameterSpec": "header",
    "TemplateHeader": "header",
    "parse_header": "header",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'idcbq.templates' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"idcbq.templates.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "IDC_TABLES",
    "LocationMap",
    "ParameterSpec",
    "RenderedQuery",
    "Template",
    "TemplateCatalog",
    "TemplateHeader",
    "bind_params",
    "builtin_dir",
    "parse_header",
    "render",
    "resolve_table",
]
