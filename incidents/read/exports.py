"""Bulk exports of the public projection (public.py): every matching report as CSV or GeoJSON,
streamed through `COPY (SELECT ...) TO STDOUT` (copy.py) so memory stays constant whatever the
size, and GeoPackage built by GDAL from that same CSV.

PostgreSQL formats everything (CSV quoting, each GeoJSON Feature's text), so Python only passes
batches of bytes on: measured in bench/exports.py against COPY of the same columns. Both
formats are generated from REPORT_FIELDS, so an export can never hold a field the data
dictionary does not describe. The point is PUBLIC_POINT (SRID 4326, snapped to the category's
public precision), as lon/lat with 6 decimals (~0.1 m, finer than any snapping).

CSV cells a spreadsheet could run as formulas (text starting with =, +, -, @, tab or CR) get a
leading apostrophe in SQL, as csv.spreadsheet_safe does for the staff export.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from incidents.read.copy import copy_out
from incidents.read.csv import BOM
from incidents.read.public import PUBLIC_POINT, REPORT_FIELDS, REPORT_PROPERTIES_SQL, PublicField
from incidents.read.query import ReportQuery
from incidents.read.replicas import read_connection
from incidents.read.sql import REPORT_FROM_SQL, language

# lon/lat of the public point, SRID 4326, degrees with 6 decimals; NULL for a report placed
# by address only.
LON_SQL = f"round(ST_X(r.{PUBLIC_POINT})::numeric, 6)"
LAT_SQL = f"round(ST_Y(r.{PUBLIC_POINT})::numeric, 6)"

# The flat exports (CSV, and the data dictionary of the dataset page) add the point's
# coordinates to the public fields; GeoJSON and GeoPackage carry them as the geometry.
POINT_FIELDS = (
    PublicField("lon", LON_SQL, "number", _("Longitude of the published point (WGS 84, degrees), snapped as "
                                            "location_precision_m says.")),
    PublicField("lat", LAT_SQL, "number", _("Latitude of the published point (WGS 84, degrees).")),
)
EXPORT_FIELDS: tuple[PublicField, ...] = REPORT_FIELDS + POINT_FIELDS
COLUMNS: tuple[str, ...] = tuple(f.name for f in EXPORT_FIELDS)

FORMULA_START = "('=', '+', '-', '@', E'\\t', E'\\r')"


def csv_value_sql(field: PublicField, defuse: bool = True) -> str:
    """One CSV column in SQL, for COPY's CSV format: text (with `defuse`, harmless if it could
    run as a formula), times in ISO 8601 (COPY would write 2026-05-01 07:00:00+00)."""
    if field.type == "string" and defuse:
        return f"CASE WHEN left({field.sql}, 1) IN {FORMULA_START} THEN '''' || {field.sql} ELSE {field.sql} END"
    if field.type == "date-time":
        return f"to_json({field.sql}) #>> '{{}}'"
    return field.sql


def csv_columns_sql(defuse: bool = True) -> str:
    """The exported columns, named as in the data dictionary (COPY's HEADER line)."""
    return ", ".join(f"{csv_value_sql(f, defuse)} AS {f.name}" for f in EXPORT_FIELDS)


# GDAL's column types (its .csvt file) for the same columns.
CSVT_TYPES = {"string": "String", "integer": "Integer64", "number": "Real", "date-time": "DateTime"}

# One GeoJSON Feature per report: id the public id, geometry the public point. Joined as text:
# json_build_object over ST_AsGeoJSON(...)::json parsed the geometry and re-wrote the properties,
# ~20% slower at 1M reports (bench/exports.py) for the same JSON.
FEATURE_SQL = ("""'{"type":"Feature","id":' || to_json(r.public_id)::text || ',"geometry":' || """
               f"""coalesce(ST_AsGeoJSON(r.{PUBLIC_POINT}, 6), 'null') || ',"properties":' || """
               f"""{REPORT_PROPERTIES_SQL}::text || '}}'""")

# Every matching report, oldest first (the primary key's order: stable from one export to the
# next, and no sort of the whole table).
EXPORT_SQL = f"""
SELECT {{row}}
{REPORT_FROM_SQL}
WHERE {{where}}
ORDER BY r.id
"""

# The same rows as plain columns: the COPY baseline of the benchmark.
COLUMNS_SQL = EXPORT_SQL.replace("{row}", ", ".join(f.select() for f in EXPORT_FIELDS))


@dataclass(frozen=True)
class Export:
    """What to export: the filters (read/query.py, public) and the language of names."""

    query: ReportQuery
    lang: str

    def sql(self, row: str) -> tuple[str, dict]:
        params = {"lang": language(self.lang)}
        return EXPORT_SQL.format(row=row, where=self.query.where(params)), params

    @property
    def filtered(self) -> bool:
        return self.query != ReportQuery(now=self.query.now)


def csv_chunks(export: Export, bom: bool = False, defuse: bool = True) -> Iterator[bytes]:
    """The CSV file in UTF-8 (with a byte-order mark for spreadsheets if `bom`), header first,
    written by PostgreSQL's COPY (quoting only what needs it; lines end in LF)."""
    if bom:
        yield BOM.encode()
    yield from copy_out(*export.sql(csv_columns_sql(defuse)), options="WITH (FORMAT csv, HEADER)")


def geojson_chunks(export: Export) -> Iterator[bytes]:
    """One FeatureCollection, features one per line so that line-based tools can follow.

    COPY's text format escapes backslashes, tabs and line breaks; JSON text holds no raw tab or
    line break (they are escaped inside strings), so undoubling backslashes restores it exactly,
    and each line break ends one feature."""
    yield b'{"type":"FeatureCollection","features":[\n'
    separator = b""
    for batch in copy_out(*export.sql(FEATURE_SQL)):
        yield separator + batch.rstrip(b"\n").replace(b"\\\\", b"\\").replace(b"\n", b",\n")
        separator = b",\n"
    yield b"\n]}\n"


# At most this many reports in a GeoPackage built for one request (SQLite cannot be streamed
# while written, so GDAL writes a temporary file first); larger extracts are the daily snapshot.
MAX_GPKG_REPORTS = 50_000

COUNT_UP_TO_SQL = f"SELECT count(*) FROM (SELECT 1 {REPORT_FROM_SQL} WHERE {{where}} LIMIT %(cap)s) s"


def count_up_to(export: Export, cap: int) -> int:
    """How many reports match, counting no further than `cap` (bounded cost on a large table)."""
    params = {"lang": language(export.lang), "cap": cap}
    with read_connection().cursor() as cursor:
        cursor.execute(COUNT_UP_TO_SQL.format(where=export.query.where(params)), params)
        return cursor.fetchone()[0]


def write_gpkg(export: Export, path: Path) -> None:
    """A GeoPackage of the export at `path`: layer `reports`, SRID 4326, the public fields typed
    (times as DateTime), the point made from lon/lat. GDAL reads a CSV written to a temporary
    file beside a .csvt of its types (it reads its input twice), so an empty extract keeps its
    columns too."""
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        source = Path(work) / "reports.csv"
        with source.open("wb") as out:
            for chunk in csv_chunks(export, defuse=False):
                out.write(chunk)
        source.with_suffix(".csvt").write_text(",".join(CSVT_TYPES[f.type] for f in EXPORT_FIELDS))
        subprocess.run(["ogr2ogr", "-q", "-f", "GPKG", str(path), str(source), "-nln", "reports", "-a_srs", "EPSG:4326",
                        "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-oo", "KEEP_GEOM_COLUMNS=NO",
                        "-nlt", "POINT", "-overwrite"], check=True, capture_output=True, timeout=3600)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# What an export's ETag is made of: every report's last change and how many there are (a
# deletion lowers the count), and the names and precisions of categories, departments and
# wards, which exports show but which do not touch a report's updated_at. One scan of the
# reports (no index on updated_at; an export reads them all anyway) and of three small tables.
DATA_VERSION_SQL = """
SELECT (SELECT max(updated_at)::text || '/' || count(*) FROM incidents_report)
    || (SELECT md5(coalesce(string_agg(c::text, '' ORDER BY c.id), '')) FROM incidents_category c)
    || (SELECT md5(coalesce(string_agg(d::text, '' ORDER BY d.id), '')) FROM incidents_department d)
    || (SELECT md5(coalesce(string_agg(concat_ws('|', a.id, a.code, a.name_vi, a.name_en), '' ORDER BY a.id), ''))
        FROM geo_area a)
"""


def data_version() -> str:
    """A short text that changes whenever anything an export shows may have changed."""
    with read_connection().cursor() as cursor:
        cursor.execute(DATA_VERSION_SQL)
        return hashlib.sha256((cursor.fetchone()[0] or "").encode()).hexdigest()[:32]
