"""The warm GoogleSQL helper's server side: answers with :mod:`idcbq.validate.googlesql`.

The socket, protocol and client live in :mod:`idcbq.engines.googlesql.helper`; this
module supplies the analysis (it sits above both), so neither imports the other back.

Example:
    python -m idcbq.validate.helper_server      # what the CLI starts in the background
"""

from __future__ import annotations

from typing import Any


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The verdict on one request (see the protocol in engines.googlesql.helper)."""
    from idcbq.params import BoundParameter, ParamType
    from idcbq.sources.releases import IdcVersion
    from idcbq.sources.schema import field_from_json
    from idcbq.validate.googlesql import make_resolver, run_analysis, verdict_of

    tables = {
        tuple(name.split(".", 1)): tuple(field_from_json(f) for f in fields)
        for name, fields in request["tables"].items()
    }
    params = [
        BoundParameter(name=n, type=ParamType.parse(t), value=None) for n, t in request["params"]
    ]
    resolver = make_resolver(
        lambda d, t: tables.get((d, t)),
        IdcVersion.parse(request.get("idc_version")),
        request.get("data_project") or "bigquery-public-data",
    )
    return verdict_of(*run_analysis(request["sql"], params, resolver))


if __name__ == "__main__":
    from idcbq.engines.googlesql.helper import serve

    serve(answer)
