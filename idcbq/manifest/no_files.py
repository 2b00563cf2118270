"""The error for result rows whose keys match no file in the source asked (exit 2)."""

from __future__ import annotations

from typing import Any

from idcbq.errors import ManifestError


def source_label(engine: Any) -> str:
    """How a message names the source an engine reads (path, idc-index, BigQuery), with its release."""
    src = getattr(engine, "source", None)
    name = str(src) if src else getattr(engine, "name", type(engine).__name__)
    version = getattr(engine, "idc_version", None)
    return f"{name} (IDC {version})" if version is not None else name


def no_files(count: int, key: str, where: str) -> ManifestError:
    """The error for a result with rows whose keys match no file in the source asked."""
    return ManifestError(
        f"the result's {count} {key} value(s) match no files in {where}",
        hint="expand against the source the rows came from (idcbq manifest --source SOURCE), "
        "or check the column holds that source's identifiers",
    )
