"""A local GCS server to try downloads offline: ``python -m idcbq.testing.local_gcs``.

Starts fake-gcs-server (in memory, loopback only), uploads the embedded sample's
seedable series (the same bytes ``idcbq sample seed`` writes), prints the endpoint and
the commands to try, and runs until Ctrl-C::

    $ python -m idcbq.testing.local_gcs --series 3
    local GCS server at http://127.0.0.1:4443 (Ctrl-C stops it)
    ...
    $ idcbq download rows.parquet --dest data --endpoint http://127.0.0.1:4443
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop."""
    parser = argparse.ArgumentParser(
        prog="python -m idcbq.testing.local_gcs",
        description="Serve the embedded sample's DICOM files from a local GCS server.",
    )
    parser.add_argument("--port", type=int, default=4443, help="loopback port (default 4443)")
    parser.add_argument("--series", type=int, default=None, help="seed only the first N series")
    parser.add_argument("--no-seed", action="store_true", help="start empty")
    args = parser.parse_args(argv)

    from idcbq.testing.servers import FakeGcsServer

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with FakeGcsServer(port=args.port) as server:
        print(f"local GCS server at {server.url} (Ctrl-C stops it)", flush=True)
        uid = "<SeriesInstanceUID>"
        if not args.no_seed:
            from idcbq.sources.sample import ensure_sample
            from idcbq.sources.sample.seed import seed_gcs

            report = seed_gcs(ensure_sample(None), server.url, series=args.series)
            print(report.summary(), flush=True)
            uid = report.series[0] if report.series else uid
        print(
            "try:\n"
            '  idcbq sql "SELECT * FROM dicom_all WHERE SeriesInstanceUID = @s"'
            f" -p s={uid} --out rows.parquet\n"
            f"  idcbq download rows.parquet --dest data --endpoint {server.url}",
            flush=True,
        )
        while not stop.wait(0.5):
            if server.process is None or server.process.poll() is not None:
                print("the server stopped on its own", file=sys.stderr, flush=True)
                return 1
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
