"""DICOMweb download throughput beside the GCS path: the same DICOM files on both servers.

One set of real DICOM files (CT, 512 x 512 x 16 bit by default: ~0.5 MB each) is stored
in Orthanc (DICOMweb plugin, loopback) and in fake-gcs-server. Timed, into fresh folders:

- ``idcbq download`` from fake-gcs-server (the GCS path, verified by MD5);
- ``idcbq download --transport dicomweb`` from Orthanc (WADO-RS, verified by size + MD5);
- baseline: ``dicomweb-client`` ``retrieve_instance`` in a thread pool, each instance
  written with ``pydicom`` (no verification, no atomic rename, no resume).

    python -m bench dicomweb                 # 300 files
    python -m bench.dicomweb --files 100 --workers 8

Needs Orthanc and its DICOMweb plugin (``make orthanc`` as root); otherwise it says so
and reports nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

QUICK = True


def make_files(n: int, matrix: int) -> list[tuple[dict[str, Any], bytes]]:
    """``n`` CT instances in 4 series with random pixels: (manifest row, DICOM bytes)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 4096, size=(matrix, matrix), dtype=np.uint16)
    study = generate_uid(entropy_srcs=["idcbq-bench-study"])
    out = []
    for i in range(n):
        series = generate_uid(entropy_srcs=["idcbq-bench-series", str(i % 4)])
        sop = generate_uid(entropy_srcs=["idcbq-bench-sop", str(i)])
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, sop
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientID, ds.Modality, ds.InstanceNumber = "BENCH", "CT", str(i + 1)
        ds.Rows = ds.Columns = matrix
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        pixels[0, :4] = np.frombuffer(i.to_bytes(8, "big"), dtype=np.uint16)
        ds.PixelData = pixels.tobytes()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        data = buf.getvalue()
        row = {
            "collection_id": "bench", "PatientID": "BENCH", "StudyInstanceUID": study,
            "SeriesInstanceUID": series, "SOPInstanceUID": sop, "Modality": "CT",
            "crdc_series_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, series)),
            "crdc_instance_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, sop)),
            "gcs_bucket": "idc-open-data", "aws_bucket": "idc-open-data",
            "instance_size": len(data), "instance_hash": hashlib.md5(data).hexdigest(),
            "license_short_name": "CC BY 4.0",
        }  # fmt: skip
        out.append((row, data))
    return out


def verified(dest: Path, rows: list[dict[str, Any]]) -> int:
    want = {r["instance_hash"] for r in rows}
    return sum(1 for p in dest.rglob("*.dcm") if hashlib.md5(p.read_bytes()).hexdigest() in want)


def baseline(url: str, rows: list[dict[str, Any]], dest: Path, workers: int) -> None:
    """dicomweb-client's public API: parsed datasets, written back with pydicom."""
    from dicomweb_client import DICOMwebClient

    client = DICOMwebClient(url)
    dest.mkdir(parents=True, exist_ok=True)

    def one(row: dict[str, Any]) -> None:
        ds = client.retrieve_instance(
            row["StudyInstanceUID"], row["SeriesInstanceUID"], row["SOPInstanceUID"],
            media_types=(("application/dicom", "*"),),
        )  # fmt: skip
        ds.save_as(dest / f"{row['crdc_instance_uuid']}.dcm", enforce_file_format=True)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.dicomweb", description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--matrix", type=int, default=512, help="pixels per side (16-bit)")
    ap.add_argument("--workers", type=int, default=16, help="idcbq DICOMweb threads")
    ap.add_argument("--gcs-workers", type=int, default=64)
    ap.add_argument("--quick", action="store_true", help="100 files")
    args = ap.parse_args(argv)
    if args.quick:
        args.files = min(args.files, 100)

    from idcbq.testing.orthanc import OrthancServer, missing_reason

    reason = missing_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    import pyarrow as pa

    from idcbq.download import download
    from idcbq.download.dicomweb import download_dicomweb
    from idcbq.manifest import write_manifest
    from idcbq.sources.sample.seed import upload_objects
    from idcbq.testing.servers import FakeGcsServer

    files = make_files(args.files, args.matrix)
    rows = [r for r, _ in files]
    size = sum(len(d) for _, d in files)
    results: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="idcbq-bench-dw-") as tmpname:
        tmp = Path(tmpname)
        manifest = tmp / "m.parquet"
        write_manifest(pa.Table.from_pylist(rows), manifest, format="parquet")
        with OrthancServer() as orthanc, FakeGcsServer() as gcs:
            t0 = time.perf_counter()
            orthanc.upload_many((d for _, d in files), workers=4)
            t_orthanc = time.perf_counter() - t0
            upload_objects("gcs", gcs.url, [(r["gcs_bucket"], f"{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm", d) for r, d in files])  # fmt: skip
            print(f"stored {args.files} files ({size / 1e6:.0f} MB) in Orthanc in {t_orthanc:.1f} s "
                  "and in fake-gcs-server", flush=True)  # fmt: skip
            runs = [
                (f"idcbq download (GCS, {args.gcs_workers} workers)",
                 lambda d: download(manifest, d, endpoint=gcs.url, workers=args.gcs_workers, quiet=True)),
                (f"idcbq download --transport dicomweb ({args.workers} threads)",
                 lambda d: download_dicomweb(manifest, d, dicomweb_url=orthanc.dicomweb_url,
                                             workers=args.workers, quiet=True)),
                (f"dicomweb-client retrieve_instance ({args.workers} threads)",
                 lambda d: baseline(orthanc.dicomweb_url, rows, d, args.workers)),
            ]  # fmt: skip
            for name, fn in runs:
                dest = tmp / f"out-{len(results)}"
                start = time.perf_counter()
                try:
                    report = fn(dest)
                except Exception as exc:
                    print(f"  {name}: failed: {exc}"[:200], flush=True)
                    continue
                elapsed = time.perf_counter() - start
                if report is not None and not report.ok:
                    print(f"  {name}: INCOMPLETE\n{report.summary()}", flush=True)
                good = verified(dest, rows)
                print(f"  {name}: {elapsed:.2f} s ({good} byte-identical)", flush=True)
                results.append((name, good, elapsed))
                shutil.rmtree(dest, ignore_errors=True)

    print()
    print(f"{'path':56} {'files':>6} {'seconds':>8} {'files/s':>8} {'MB/s':>7} {'vs GCS':>7}")
    gcs_rate = results[0][1] / results[0][2] if results and results[0][2] else 0.0
    for name, good, t in results:
        rate = good / t if t else 0.0
        mbps = size * (good / max(1, len(rows))) / 1e6 / t if t else 0.0
        ratio = rate / gcs_rate if gcs_rate else 0.0
        print(f"{name:56} {good:6} {t:8.2f} {rate:8.0f} {mbps:7.1f} {ratio:7.2f}")
    print("('vs GCS' = that row's files/s divided by idcbq's GCS path on the same files; the "
          "dicomweb-client baseline re-encodes with pydicom, so its files are not byte-identical "
          "unless pydicom writes them back unchanged)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
