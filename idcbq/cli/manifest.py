"""``idcbq manifest``: turn a results file into a download manifest."""

from __future__ import annotations

import json

import click

from idcbq.manifest.model import FORMATS, LEVELS, PROVIDERS


@click.command("manifest")
@click.argument("result", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Manifest file to write.",
)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
              help="Manifest format (default: from --out's extension, else s5cmd).")  # fmt: skip
@click.option("--level", type=click.Choice(LEVELS), default="instance", show_default=True,
              help="s5cmd/urls: one line per instance, or one wildcard line per series.")  # fmt: skip
@click.option("--provider", type=click.Choice(PROVIDERS), default="gcs", show_default=True)
@click.option("--engine", type=click.Choice(["duckdb", "bigquery"]), default="duckdb", show_default=True,
              help="Engine used to expand series/study/patient rows to instances.")  # fmt: skip
@click.option("--source", "source", default=None, metavar="SOURCE",
              help="Source to expand keys against (export root, mirror, idc-index) "
                   "[default: the result's own, from its provenance; else the sample].")  # fmt: skip
@click.option("--project", default=None, help="BigQuery billing project (with --engine bigquery).")
@click.option(
    "--idc-version", default=None, help="IDC version to expand against (default: engine's)."
)
@click.option(
    "--s5cmd-dest", default=".", show_default=True, help="Destination written in s5cmd cp lines."
)
@click.option("--dicomweb-url", default=None, metavar="URL",
              help="Base of the dicomweb_*_url columns [default: $IDCBQ_DICOMWEB_URL, else "
                   "IDC's public proxy].")  # fmt: skip
def manifest(result: str, out: str, fmt: str | None, level: str, provider: str, engine: str,
             source: str | None, project: str | None, idc_version: str | None, s5cmd_dest: str,
             dicomweb_url: str | None = None) -> None:  # fmt: skip
    """Write a manifest for the rows of RESULT (a file from `idcbq query --out`).

    \b
    Examples:
      idcbq manifest ct.parquet --out ct.s5cmd --provider aws
      idcbq manifest ct.parquet --out ct.jsonl
      idcbq manifest series.csv --out series.txt --format urls --level series
      idcbq manifest s.csv --out s.s5cmd --source idc-index

    Series/study/patient keys are expanded to files against the source the result came
    from (recorded with it); a result with rows that match no files there is an error
    (exit 2) naming the source and the column.
    """
    from pathlib import Path

    from idcbq.manifest import write_manifest
    from idcbq.manifest.expand import is_complete
    from idcbq.manifest.readers import read_table

    fmt = fmt or _format_from_name(out)
    schema, batches, _ = read_table(result)
    import pyarrow as pa

    reader = pa.RecordBatchReader.from_batches(schema, batches)
    eng = None
    prov_in = _result_provenance(Path(result))
    if source:  # the rows' source, as the user states it, overrides the recorded one
        prov_in.update(source=source, engine=engine)
    if not is_complete(schema.names):
        from idcbq.engines import get_engine

        # Expand against the result's own source and release (a CSV/JSON result keeps
        # them in its .provenance.json sidecar), unless told otherwise.
        opts = {k: v for k, v in (("project", project), ("idc_version", idc_version)) if v}
        if engine == "duckdb" and prov_in.get("engine") in (None, "duckdb", "googlesql"):
            if prov_in.get("source"):
                opts["source"] = prov_in["source"]
            if not idc_version and prov_in.get("idc_version"):
                opts["idc_version"] = prov_in["idc_version"]
        eng = get_engine(engine, **opts)
    try:
        import warnings

        with warnings.catch_warnings():  # the note is printed below, as one line
            warnings.simplefilter("ignore", UserWarning)
            prov = write_manifest(reader, out, format=fmt, level=level, provider=provider,
                                  engine=eng, provenance=prov_in, s5cmd_dest=s5cmd_dest,
                                  dicomweb_url=dicomweb_url)  # fmt: skip
    finally:
        if eng is not None:
            eng.close()
    click.echo(
        f"wrote {out}: {prov['instances']} instances, {prov['series']} series, {prov['total_bytes']} bytes; "
        f"licenses {json.dumps(prov['license_groups'])}",
        err=True,
    )
    if prov.get("dicomweb_note"):
        click.echo(f"warning: {prov['dicomweb_note']}", err=True)


def _format_from_name(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"s5cmd": "s5cmd", "txt": "urls", "urls": "urls", "jsonl": "jsonl", "csv": "csv",
            "parquet": "parquet"}.get(suffix, "s5cmd")  # fmt: skip


def _result_provenance(path):  # type: ignore[no-untyped-def]
    """Provenance stored with a results file (Parquet metadata or a sidecar), if any."""
    import contextlib

    from idcbq.core.version import __version__

    prov = None
    side = path.with_name(path.name + ".provenance.json")
    with contextlib.suppress(ValueError, OSError):  # provenance is informative, never fatal
        if side.is_file():
            prov = json.loads(side.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".parquet" and path.stat().st_size:
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path).metadata or {}
            for key in (b"idcbq.provenance", b"idcbq"):
                if key in meta:
                    prov = json.loads(meta[key])
                    break
    prov = dict(prov if isinstance(prov, dict) else {"tool": "idcbq", "tool_version": __version__})
    prov["result_file"] = str(path)
    return prov
