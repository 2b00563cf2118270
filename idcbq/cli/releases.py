"""``idcbq releases``: the IDC releases a source holds, one per line (or ``--json``)."""

from __future__ import annotations

import json

import click


@click.command("releases")
@click.option("--source", default=None, envvar="IDCBQ_SOURCE", metavar="ROOT",
              help="Export root (dir, mirror, s3://, gs://), idc-index, or sample "
                   "(default: the embedded sample; env IDCBQ_SOURCE).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list: dataset, release, clinical_dataset, same_as, on_disk.")  # fmt: skip
def releases(source: str | None, as_json: bool) -> None:
    """List the IDC release datasets SOURCE holds: idc_v2 ... idc_v25, idc_current.

    Each line is a dataset name a query can use (`bigquery-public-data.idc_v15.dicom_all`)
    or pass as --idc-version (v15). The embedded sample derives every release from v2
    on from idc-index-data's version history; one not built yet is built the first time
    a query reads it (a few seconds). A note on stderr says which release idc_current is.

    \b
    Examples:
      idcbq releases
      idcbq releases --json
      idcbq releases --source ~/idc-mirror
      idcbq sql --idc-version v14 "SELECT COUNT(*) FROM dicom_all"
    """
    from idcbq.engines.base import default_endpoints
    from idcbq.sources.catalog import source_releases

    connect = {}
    if source and (str(source).startswith(("s3://", "gs://", "gcs://")) or source == "idc"):
        s3, gcs = default_endpoints(None, None)
        connect = {k: v for k, v in (("s3_endpoint", s3), ("gcs_endpoint", gcs)) if v}
    found = source_releases(source, **connect)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in found.releases], indent=2))
        return
    for name in found.datasets:
        click.echo(name)
    if found.current:
        pending = sum(1 for r in found.releases if not r.on_disk)
        note = f"idc_current is {found.current}"
        if pending:
            note += f"; {pending} releases are derived from idc-index-data on first use"
        click.echo(note, err=True)
