"""The probe corpus through the strict layer alone (no GoogleSQL analyzer, as on Colab).

Every probe of ``tests/probes/*.yaml`` is prepared by a client with
``googlesql_analysis = False``:

- an invalid probe (``error: true``) is ``refused`` (the strict layer or another check
  raises), ``duckdb_refused`` (prepared, then DuckDB raises) or ``answered`` (the gap
  this census counts);
- a valid probe (no ``error`` key) refused by the strict layer (a ``ValidationError``)
  is a false refusal, which must stay 0.

Run: ``python -m tests.strict_census [-v] [-k TEXT]`` (``IDCBQ_TEST_SAMPLE_ROOT`` names the
sample export). The last line is the summary; exit 1 when a valid probe is refused.
"""

from __future__ import annotations

import argparse
import collections
import sys

from tests.probes.test_probes import PROBES, T


def _client():
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine
    from tests.fuzz.__main__ import _root

    client = Client(DuckDBEngine.from_options(source=_root(), idc_version="current"))
    client.googlesql_analysis = False
    client.explain_empty = False
    return client


def verdict(client, probe: dict) -> tuple[str, str]:
    """``(verdict, detail)`` of one probe through the strict layer alone."""
    from idcbq.errors import IdcbqError, ValidationError

    sql = probe["sql"].replace("{T}", T)
    try:
        prepared = client.prepare_sql(sql)
    except ValidationError as exc:
        kind = "refused" if probe.get("error") else "false_refusal"
        return kind, str(exc).splitlines()[0]
    except IdcbqError as exc:  # the transpiler's loud refusal, not the strict layer's
        return ("refused" if probe.get("error") else "loud"), str(exc).splitlines()[0]
    if not probe.get("error"):
        return "accepted", ""
    try:
        client.execute(prepared)
    except Exception as exc:  # DuckDB's error: loud, not an answer
        return "duckdb_refused", str(exc).splitlines()[0]
    return "answered", ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.strict_census", description=__doc__)
    ap.add_argument("-k", dest="only", default=None, help="probes whose family/name has this")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every answered probe")
    args = ap.parse_args(argv)
    client = _client()
    counts: dict[str, collections.Counter] = {
        "invalid": collections.Counter(),
        "valid": collections.Counter(),
    }
    for family, probe in PROBES:
        name = f"{family}/{probe['name']}"
        if args.only and args.only not in name:
            continue
        kind = "invalid" if probe.get("error") else "valid"
        what, detail = verdict(client, probe)
        counts[kind][what] += 1
        if what in ("answered", "false_refusal") or (args.verbose and what == "duckdb_refused"):
            print(f"{what:>14}  {name}  {detail[:160]}")
    client.close()
    for kind, c in counts.items():
        print(
            f"{kind}: total={sum(c.values())} " + " ".join(f"{k}={v}" for k, v in sorted(c.items()))
        )
    return 1 if counts["valid"]["false_refusal"] else 0


if __name__ == "__main__":
    sys.exit(main())
