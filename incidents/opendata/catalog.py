"""What the dataset page shows and what data portals harvest, from one description of the
dataset: DCAT-AP 2 as JSON-LD (catalog.jsonld, also embedded in the page) and the Project Open
Data catalogue (data.json, schema 1.1), which CKAN's ckanext-dcat harvesters read.

Nothing here counts the reports: the size shown is PostgreSQL's estimate (pg_class.reltuples)
and the extent the table's estimated extent (ST_EstimatedExtent), both kept by ANALYZE, so the
page costs the same at a thousand reports or ten million.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from incidents.models import Department
from incidents.read.exports import EXPORT_FIELDS, MAX_GPKG_REPORTS
from incidents.read.snapshot import SnapshotFile, latest_snapshot

MEDIA_TYPES = {"csv": "text/csv", "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
               "csv.gz": "application/gzip"}
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPES = {"csv": "CSV", "geojson": "GEOJSON", "gpkg": "GPKG", "csv.gz": "CSV"}

# Estimated size and extent (SRID 4326, lon/lat) of the public reports, and the first report's
# time (the report_created_keyset index's end); all three cost an index or catalogue lookup. A
# small table (or one never analyzed, reltuples -1) is counted, at most EXACT_UP_TO rows.
EXACT_UP_TO = 100_000
FACTS_SQL = f"""
SELECT CASE WHEN reltuples < {EXACT_UP_TO}
            THEN (SELECT count(*) FROM (SELECT 1 FROM incidents_report LIMIT {EXACT_UP_TO}) s)
            ELSE reltuples::bigint END,
       (SELECT min(created_at) FROM incidents_report),
       (SELECT ST_EstimatedExtent('incidents_report', 'public_location')::text)
FROM pg_class WHERE oid = 'incidents_report'::regclass
"""


def _facts() -> tuple[int, str | None, list[float] | None]:
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():  # a savepoint: the fallback below runs in a sound transaction
                cursor.execute(FACTS_SQL)
                estimate, first, box = cursor.fetchone()
        except DatabaseError:  # no statistics yet: some PostGIS versions raise rather than answer NULL
            cursor.execute(FACTS_SQL.replace("(SELECT ST_EstimatedExtent('incidents_report', 'public_location')::text)",
                                             "NULL"))
            (estimate, first), box = cursor.fetchone(), None
    bbox = None
    if box:  # BOX(minx miny,maxx maxy)
        bbox = [round(float(v), 4) for v in box[4:-1].replace(",", " ").split()]
    return estimate, first.isoformat() if first else None, bbox


def snapshot_url(snapshot: SnapshotFile) -> str:
    return reverse("opendata:snapshot", args=[snapshot.name])


def _license() -> tuple[str, str]:
    name, url = (list(settings.CITYPIN_DATA_LICENSE) + [""])[:2]
    return name, url


def _publisher() -> Department | None:
    return Department.objects.filter(is_operations_center=True).order_by("pk").first()


def endpoints(request: HttpRequest) -> list[dict]:
    """Where the same public projection is served live, for the page and the catalogue."""
    site = request.build_absolute_uri("/").rstrip("/")
    return [
        {"title": _("REST API (JSON, GeoJSON)"), "url": f"{site}/api/v1/", "docs": f"{site}/api/docs/"},
        {"title": _("Open311 GeoReport v2"), "url": f"{site}/open311/v2/discovery.json", "docs": ""},
        {"title": _("OGC API – Features (for QGIS, GDAL, ArcGIS)"), "url": f"{site}/ogc/", "docs": ""},
        {"title": _("Vector tiles (Mapbox Vector Tile)"), "url": f"{site}/tiles/reports/{{z}}/{{x}}/{{y}}.mvt",
         "docs": ""},
    ]


def distributions(request: HttpRequest) -> list[dict]:
    """Every downloadable form of the dataset: the live exports, then the latest snapshot."""
    live = [
        {"format": "csv", "title": _("CSV (UTF-8; add ?bom=1 for Excel)"), "url": reverse("opendata:reports-csv"),
         "size": None, "sha256": None, "live": True},
        {"format": "geojson", "title": _("GeoJSON (WGS 84)"), "url": reverse("opendata:reports-geojson"),
         "size": None, "sha256": None, "live": True},
        {"format": "gpkg", "title": _("GeoPackage (WGS 84), up to %(n)s reports per extract")
         % {"n": f"{MAX_GPKG_REPORTS:,}"}, "url": reverse("opendata:reports-gpkg"), "size": None, "sha256": None,
         "live": True},
    ]
    snapshots = [{"format": f.format, "title": _("Daily snapshot of %(day)s: %(format)s")
                  % {"day": f.day.isoformat(), "format": "GeoPackage" if f.format == "gpkg" else "CSV (gzip)"},
                  "url": snapshot_url(f), "size": f.size, "sha256": f.sha256, "live": False,
                  "checksum_url": snapshot_url(f) + ".sha256"} for f in latest_snapshot().values()]
    for item in live + snapshots:
        item["absolute_url"] = request.build_absolute_uri(item["url"])
    return live + snapshots


def page_context(request: HttpRequest) -> dict:
    estimate, first, bbox = _facts()
    name, url = _license()
    return {
        "license_name": name, "license_url": url, "fields": EXPORT_FIELDS, "first": first,
        "estimate_text": number_format(estimate, force_grouping=True),
        "distributions": distributions(request), "endpoints": endpoints(request), "publisher": _publisher(),
    }


def _in_both_languages(text: str) -> list[dict]:
    values = []
    for code in ("vi", "en"):
        with override(code):
            values.append({"@value": _(text), "@language": code})
    return values


TITLE = gettext_noop("Citizen reports of urban problems")
DESCRIPTION = gettext_noop("Every report citizens made of an urban problem (potholes, dark streetlights, flooding, uncollected "
               "garbage…), with its category, the department responsible, its status and its public location. "
               "Contact details are never published; sensitive categories are published at a reduced precision.")


def dcat_catalog(request: HttpRequest) -> dict:
    """The DCAT-AP 2 catalogue of one dataset, its distributions and its data services."""
    site = request.build_absolute_uri("/").rstrip("/")
    page = request.build_absolute_uri(reverse("opendata:dataset"))
    estimate, first, bbox = _facts()
    name, license_url = _license()
    publisher = _publisher()
    agent = {"@type": "foaf:Agent", "foaf:name": publisher.name if publisher else "Citypin"}
    dataset_id = page + "#reports"
    dataset = {
        "@id": dataset_id, "@type": "dcat:Dataset",
        "dct:identifier": dataset_id,
        "dct:title": _in_both_languages(TITLE),
        "dct:description": _in_both_languages(DESCRIPTION),
        "dcat:keyword": ["311", "urban", "incidents", "phản ánh hiện trường", "đô thị"],
        "dct:publisher": agent,
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": agent["foaf:name"],
                              **({"vcard:hasEmail": f"mailto:{publisher.email}"} if publisher and publisher.email
                                 else {})},
        "dct:license": {"@id": license_url, "rdfs:label": name},
        "dct:accessRights": {"@id": "http://publications.europa.eu/resource/authority/access-right/PUBLIC"},
        "dct:accrualPeriodicity": {"@id": EU_FREQUENCY + "UPDATE_CONT"},
        "dct:language": [{"@id": "http://publications.europa.eu/resource/authority/language/VIE"},
                         {"@id": "http://publications.europa.eu/resource/authority/language/ENG"}],
        "dct:modified": {"@value": timezone.now().isoformat(), "@type": "xsd:dateTime"},
        "dcat:landingPage": {"@id": page},
        "dcat:distribution": [],
    }
    if first:
        dataset["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": {"@value": first,
                                                                                   "@type": "xsd:dateTime"}}
    if bbox:
        minx, miny, maxx, maxy = bbox
        dataset["dct:spatial"] = {"@type": "dct:Location", "dcat:bbox": {
            "@value": f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}))",
            "@type": "http://www.opengis.net/ont/geosparql#wktLiteral"}}
    for item in distributions(request):
        distribution = {
            "@id": item["absolute_url"], "@type": "dcat:Distribution", "dct:title": str(item["title"]),
            "dcat:accessURL": {"@id": item["absolute_url"]}, "dcat:downloadURL": {"@id": item["absolute_url"]},
            "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/" + MEDIA_TYPES[item["format"]]},
            "dct:format": {"@id": EU_FILE_TYPE + FILE_TYPES[item["format"]]},
            "dct:license": {"@id": license_url},
        }
        if not item["live"]:
            distribution["dcat:byteSize"] = {"@value": str(item["size"]), "@type": "xsd:nonNegativeInteger"}
            distribution["spdx:checksum"] = {"@type": "spdx:Checksum", "spdx:algorithm": {
                "@id": "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"}, "spdx:checksumValue": item["sha256"]}
            distribution["dct:accrualPeriodicity"] = {"@id": EU_FREQUENCY + "DAILY"}
        dataset["dcat:distribution"].append(distribution)
    services = [{"@id": e["url"], "@type": "dcat:DataService", "dct:title": str(e["title"]),
                 "dcat:endpointURL": {"@id": e["url"]}, "dcat:servesDataset": {"@id": dataset_id},
                 **({"dcat:endpointDescription": {"@id": e["docs"]}} if e["docs"] else {})}
                for e in endpoints(request)]
    return {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#",
                     "xsd": "http://www.w3.org/2001/XMLSchema#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                     "spdx": "http://spdx.org/rdf/terms#"},
        "@id": request.build_absolute_uri(reverse("opendata:catalog")), "@type": "dcat:Catalog",
        "dct:title": _in_both_languages(gettext_noop("Citypin open data")),
        "dct:description": _in_both_languages(DESCRIPTION),
        "dct:publisher": agent, "foaf:homepage": {"@id": site + "/"},
        "dct:license": {"@id": license_url},
        "dcat:dataset": [dataset], "dcat:service": services,
    }


def pod_catalog(request: HttpRequest) -> dict:
    """The same dataset as a Project Open Data 1.1 catalogue (data.json)."""
    page = request.build_absolute_uri(reverse("opendata:dataset"))
    estimate, first, bbox = _facts()
    name, license_url = _license()
    publisher = _publisher()
    publisher_name = publisher.name if publisher else "Citypin"
    email = (publisher.email if publisher and publisher.email else settings.DEFAULT_FROM_EMAIL)
    dataset = {
        "@type": "dcat:Dataset", "identifier": page + "#reports",
        "title": _(TITLE), "description": _(DESCRIPTION),
        "keyword": ["311", "urban", "incidents", "phản ánh hiện trường", "đô thị"],
        "modified": timezone.now().isoformat(), "accessLevel": "public",
        "publisher": {"@type": "org:Organization", "name": publisher_name},
        "contactPoint": {"@type": "vcard:Contact", "fn": publisher_name, "hasEmail": f"mailto:{email}"},
        "license": license_url, "rights": name, "accrualPeriodicity": "R/PT1S", "landingPage": page,
        "language": ["vi", "en"],
        "distribution": [{"@type": "dcat:Distribution", "title": str(d["title"]), "downloadURL": d["absolute_url"],
                          "mediaType": MEDIA_TYPES[d["format"]], "format": FILE_TYPES[d["format"]]}
                         for d in distributions(request)],
    }
    if first:
        dataset["temporal"] = f"{first}/{timezone.now().isoformat()}"
    if bbox:
        dataset["spatial"] = ",".join(str(v) for v in bbox)
    return {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
            "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
            "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
            "@type": "dcat:Catalog", "dataset": [dataset]}
