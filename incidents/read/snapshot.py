"""The daily open-data snapshot: every public report as one GeoPackage (layer `reports`, SRID
4326, for GIS tools) and one gzipped CSV (for spreadsheets and scripts), each beside a
`.sha256` file in the format `sha256sum -c` checks. The background worker makes one a day
(worker.py); `manage.py make_open_data_snapshot` makes one now. Files are written under a
temporary name and renamed, so a reader never sees half a file; the last KEEP days stay.

Where: CITYPIN_OPEN_DATA_DIR, by default MEDIA_ROOT/open-data. The open-data face serves them.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from incidents.read.exports import Export, csv_chunks, sha256_of, write_gpkg
from incidents.read.query import ReportQuery

KEEP = 7  # days of snapshots kept
FORMATS = ("gpkg", "csv.gz")
NAME_RE = re.compile(r"^citypin-reports-(\d{4}-\d{2}-\d{2})\.(gpkg|csv\.gz)$")


def snapshot_dir() -> Path:
    return Path(settings.CITYPIN_OPEN_DATA_DIR or Path(settings.MEDIA_ROOT) / "open-data")


def file_name(day: date, fmt: str) -> str:
    return f"citypin-reports-{day.isoformat()}.{fmt}"


@dataclass(frozen=True)
class SnapshotFile:
    name: str
    day: date
    format: str
    size: int  # bytes
    sha256: str

    @property
    def path(self) -> Path:
        return snapshot_dir() / self.name


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _publish(tmp: Path, final: Path) -> None:
    """Write the checksum, then move the file into place (the checksum file first, so a file
    that exists always has one)."""
    checksum = _checksum_file(final)
    checksum_tmp = checksum.with_name(checksum.name + ".tmp")
    checksum_tmp.write_text(f"{sha256_of(tmp)}  {final.name}\n")
    checksum_tmp.replace(checksum)
    tmp.replace(final)


def make_snapshot(day: date | None = None) -> list[SnapshotFile]:
    """Write today's (or `day`'s) snapshot files, in the site's default language, and drop
    those older than KEEP days. Returns the files written."""
    day = day or timezone.localdate()
    folder = snapshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    export = Export(ReportQuery(), settings.LANGUAGE_CODE)

    gpkg_tmp = folder / (file_name(day, "gpkg") + ".tmp")
    gpkg_tmp.unlink(missing_ok=True)
    write_gpkg(export, gpkg_tmp)
    _publish(gpkg_tmp, folder / file_name(day, "gpkg"))

    csv_tmp = folder / (file_name(day, "csv.gz") + ".tmp")
    with gzip.open(csv_tmp, "wb", compresslevel=6) as out:
        for chunk in csv_chunks(export, bom=True):
            out.write(chunk)
    _publish(csv_tmp, folder / file_name(day, "csv.gz"))

    _drop_older_than(day)
    return [f for f in snapshot_files() if f.day == day]


def _drop_older_than(day: date) -> None:
    days = sorted({f.day for f in snapshot_files()}, reverse=True)
    for old in days[KEEP:]:
        for fmt in FORMATS:
            path = snapshot_dir() / file_name(old, fmt)
            path.unlink(missing_ok=True)
            _checksum_file(path).unlink(missing_ok=True)


def snapshot_files() -> list[SnapshotFile]:
    """Every complete snapshot file (with its checksum), newest first."""
    folder = snapshot_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = NAME_RE.match(path.name)
        checksum = _checksum_file(path)
        if match and checksum.exists():
            found.append(SnapshotFile(path.name, date.fromisoformat(match[1]), match[2], path.stat().st_size,
                                      checksum.read_text().split()[0]))
    return sorted(found, key=lambda f: (f.day, f.format), reverse=True)


def latest_snapshot() -> dict[str, SnapshotFile]:
    """The newest file of each format, by format ("gpkg", "csv.gz")."""
    latest: dict[str, SnapshotFile] = {}
    for f in snapshot_files():
        latest.setdefault(f.format, f)
    return latest


def snapshot_file(name: str) -> SnapshotFile | None:
    """The complete snapshot file of that name, or None (also for any name not a snapshot's)."""
    return next((f for f in snapshot_files() if f.name == name), None)


def snapshot_due(day: date | None = None) -> bool:
    """True when the day's snapshot does not exist yet."""
    day = day or timezone.localdate()
    return not all((snapshot_dir() / file_name(day, fmt)).exists() for fmt in FORMATS)
