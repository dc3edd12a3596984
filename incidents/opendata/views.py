"""The open-data face: bulk exports of the public projection (CSV, GeoJSON, GeoPackage), the
daily snapshot files, the dataset page and its catalogue entries (DCAT-AP, data.json).

Every view is read-only and wrapped in http.opendata.open_data: CORS for any origin and a per-IP
read limit (429 with Retry-After). Exports carry an ETag made of the data version (read/
exports.data_version) and of what was asked, so a client that has the file gets 304.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_safe

from incidents.http.opendata import open_data
from incidents.opendata import catalog
from incidents.read.exports import (
    MAX_GPKG_REPORTS,
    Export,
    count_up_to,
    csv_chunks,
    data_version,
    geojson_chunks,
    write_gpkg,
)
from incidents.read.query import ReportQuery
from incidents.read.snapshot import latest_snapshot, snapshot_file
from incidents.read.sql import language

TRUE, FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def _bom(request: HttpRequest) -> bool:
    raw = request.GET.get("bom", "").lower()
    if raw not in TRUE + FALSE:
        raise ValidationError({"bom": [_("Use 1 (a byte-order mark for spreadsheets) or 0.")]})
    return raw in TRUE


def _export(request: HttpRequest) -> Export:
    """The filters asked for (date range, category, area… as the API reads them); raises
    ValidationError naming each bad parameter."""
    return Export(ReportQuery.parse(request.GET), language(get_language()))


def _etag(kind: str) -> Callable[..., str]:
    def etag(request: HttpRequest, *args) -> str:
        asked = sorted((k, v) for k, vs in request.GET.lists() for v in vs)
        key = json.dumps([kind, data_version(), language(get_language()), asked])
        return hashlib.sha256(key.encode()).hexdigest()[:32]
    return etag


def _attachment(response: HttpResponse, export: Export, ext: str) -> HttpResponse:
    suffix = "-extract" if export.filtered else ""
    response["Content-Disposition"] = f'attachment; filename="citypin-reports-{timezone.localdate()}{suffix}.{ext}"'
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Language, Cookie"
    return response


def _bad(exc: ValidationError) -> JsonResponse:
    return JsonResponse(exc.message_dict, status=400)


@open_data
@require_safe
@condition(etag_func=_etag("csv"))
def reports_csv(request: HttpRequest) -> HttpResponse:
    try:
        export, bom = _export(request), _bom(request)
    except ValidationError as exc:
        return _bad(exc)
    response = StreamingHttpResponse(csv_chunks(export, bom), content_type="text/csv; charset=utf-8")
    return _attachment(response, export, "csv")


@open_data
@require_safe
@condition(etag_func=_etag("geojson"))
def reports_geojson(request: HttpRequest) -> HttpResponse:
    try:
        export = _export(request)
    except ValidationError as exc:
        return _bad(exc)
    response = StreamingHttpResponse(geojson_chunks(export), content_type="application/geo+json")
    return _attachment(response, export, "geojson")


def _served_then_removed(path: Path, folder: Path) -> Iterator[bytes]:
    """The file's bytes, then its temporary folder removed (also when the client goes away)."""
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 16):
                yield block
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@open_data
@require_safe
@condition(etag_func=_etag("gpkg"))
def reports_gpkg(request: HttpRequest) -> HttpResponse:
    """A GeoPackage of at most MAX_GPKG_REPORTS reports, built for this request (SQLite cannot
    be written as a stream); more than that is the daily snapshot's job."""
    try:
        export = _export(request)
    except ValidationError as exc:
        return _bad(exc)
    if count_up_to(export, MAX_GPKG_REPORTS + 1) > MAX_GPKG_REPORTS:
        snapshot = latest_snapshot().get("gpkg")
        return JsonResponse({
            "detail": _("More than %(n)s reports match: narrow the extract with created_after, created_before, "
                        "category or area, or download the daily snapshot.") % {"n": f"{MAX_GPKG_REPORTS:,}"},
            "snapshot": request.build_absolute_uri(catalog.snapshot_url(snapshot)) if snapshot else None,
        }, status=400)
    folder = Path(tempfile.mkdtemp(prefix="citypin-gpkg-"))
    path = folder / "reports.gpkg"
    try:
        write_gpkg(export, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response = StreamingHttpResponse(_served_then_removed(path, folder), content_type="application/geopackage+sqlite3")
    response["Content-Length"] = str(path.stat().st_size)
    return _attachment(response, export, "gpkg")


@open_data
@require_safe
def snapshot(request: HttpRequest, name: str) -> HttpResponse:
    """A daily snapshot file, or its .sha256 checksum file; its ETag is its checksum."""
    checksum_only = name.endswith(".sha256")
    found = snapshot_file(name.removesuffix(".sha256"))
    if found is None:
        raise Http404
    etag = f'"{found.sha256}{"-sha256" if checksum_only else ""}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    elif checksum_only:
        response = HttpResponse(f"{found.sha256}  {found.name}\n", content_type="text/plain; charset=utf-8")
    else:
        response = FileResponse(found.path.open("rb"), as_attachment=True, filename=found.name,
                                content_type=catalog.MEDIA_TYPES[found.format])
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600"
    return response


@open_data
@require_safe
def dataset(request: HttpRequest) -> HttpResponse:
    """The dataset page: license, data dictionary, formats, snapshot, endpoints, DCAT-AP."""
    context = catalog.page_context(request)
    context["jsonld"] = json.dumps(catalog.dcat_catalog(request), ensure_ascii=False, indent=1).replace("</", "<\\/")
    return render(request, "opendata/dataset.html", context)


@open_data
@require_safe
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    body = json.dumps(catalog.dcat_catalog(request), ensure_ascii=False, indent=1)
    return HttpResponse(body, content_type="application/ld+json; charset=utf-8")


@open_data
@require_safe
def data_json(request: HttpRequest) -> HttpResponse:
    """The Project Open Data catalogue (data.json, schema 1.1), as CKAN's harvesters read it."""
    return JsonResponse(catalog.pod_catalog(request), json_dumps_params={"ensure_ascii": False, "indent": 1})
