"""Writing a release to disk: parquet files under data/, the card, the checksums file, and
one zip archive. Everything is written into a hidden temporary folder that is renamed into
place only when complete, so a crash leaves no half-written release; files are then made
read-only, since a published version never changes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import uuid
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CHECKSUMS = "checksums"
# zstd: smaller than snappy at about the same speed; every reader of the field reads it.
COMPRESSION = "zstd"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scratch_folder(root: Path, slug: str) -> Path:
    folder = root / slug / f".building-{uuid.uuid4().hex}"
    (folder / "data").mkdir(parents=True)
    return folder


def tables_write(folder: Path, tables: dict[str, pa.Table], config: dict) -> dict[str, int]:
    """Write each table as data/<name>.parquet (plus config.json); return bytes per table."""
    sizes = {}
    for name, table in tables.items():
        path = folder / "data" / f"{name}.parquet"
        pq.write_table(table, path, compression=COMPRESSION)
        sizes[name] = path.stat().st_size
    (folder / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False))
    return sizes


def checksums_write(folder: Path) -> None:
    """`checksums` in sha256sum's format, every other file of the folder, sorted."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CHECKSUMS)
    lines = [f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}\n" for p in files]
    (folder / CHECKSUMS).write_text("".join(lines))


def checksums_verify(folder: Path) -> list[str]:
    """The files whose content no longer matches `checksums` (or that are missing)."""
    wrong = []
    for line in (folder / CHECKSUMS).read_text().splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file() or sha256_of(path) != digest:
            wrong.append(name)
    return wrong


def _read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def publish_folder(scratch: Path, final: Path, top: str) -> tuple[str, int]:
    """Rename the finished scratch folder to `final`, write `final`.zip (entries under `top`/)
    and make both read-only. Returns the archive's sha256 and size in bytes."""
    os.replace(scratch, final)
    archive = final.with_suffix(".zip")
    partial = final.parent / f".{final.name}.zip.partial"
    # Stored, not deflated: parquet is compressed already, and deflate would double the time.
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
        for path in sorted(p for p in final.rglob("*") if p.is_file()):
            zf.write(path, f"{top}/{path.relative_to(final).as_posix()}")
    os.replace(partial, archive)
    _read_only(final)
    archive.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return sha256_of(archive), archive.stat().st_size


def scratch_discard(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
