"""What the OpenAPI schema (/api/schema/) says about the bodies built in SQL (read/geojson.py,
read/cells.py, read/layers.py) and about errors: JSON Schema written out by hand, since no serializer makes them.

Each *_FEATURE mirrors one SQL constant key for key; tests/test_api_schema.py calls every
operation with schemathesis and checks the answers against these, so a key added to the SQL
without being added here fails there. Coordinates are lon/lat in SRID 4326 throughout.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from incidents.models import Report
from incidents.read.reports import MAX_PAGE

GEOJSON = "application/geo+json"
JSON = "application/json"
Schema = dict[str, Any]


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def obj(required: list[str] | None = None, **properties: Schema) -> Schema:
    """An object with these properties, all of them always present unless `required` says
    which are."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
WHEN = {"type": "string", "format": "date-time"}
POSITION = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 3,
            "description": "[longitude, latitude] in degrees, WGS-84 (SRID 4326)"}
POINT = {**obj(type={"type": "string", "enum": ["Point"]}, coordinates=POSITION),
         "description": "GeoJSON Point, [longitude, latitude] in WGS-84 (SRID 4326)",
         "example": {"type": "Point", "coordinates": [105.7469, 10.0452]}}
GEOMETRY = {**obj(["type"], type={"type": "string", "enum": [
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"]}),
    "additionalProperties": True, "description": "GeoJSON geometry in WGS-84 (SRID 4326)"}
NAMED = obj(code=STRING, name=STRING)  # name in the request's language (Accept-Language)

REPORT_PROPERTIES = obj(
    public_id=STRING,
    status={"type": "string", "enum": list(Report.Status.values)},
    incident=nullable(INTEGER),
    recurrence_of=nullable(INTEGER),
    category=NAMED,
    department=NAMED,
    ward=nullable(NAMED),
    description=STRING,
    address=STRING,
    attributes={"type": "object", "additionalProperties": True},
    location_accuracy_m=nullable({**NUMBER, "description": "metres, as the reporter's device gave it"}),
    location_precision_m={**INTEGER, "description": "metres: the public point is snapped to a grid this fine (0: exact)"},
    routing=obj(
        reason=nullable({**STRING, "description": "rule, contested, no_rule, unlocated, rerouted or not_ours"}),
        place=nullable({**obj(
            kind={**STRING, "description": "area (inside it), asset (near it, e.g. a road) or default (the "
                                           "jurisdiction's default)"},
            code=STRING, name=STRING,
            distance_m=nullable({**NUMBER, "description": "metres from the asset; only for categories published "
                                                          "exactly"})),
            "description": "the place the responsibility follows from"}),
        contested_between=nullable({"type": "array", "items": {"type": "object", "additionalProperties": True}}),
        text=nullable({**STRING, "description": "who handles it and why, in plain words in the request's language "
                                                "(null for reports routed before plain explanations existed)"}),
    ),
    source={"type": "string", "enum": list(Report.Source.values)},
    supporter_count=INTEGER,
    photos={"type": "array", "items": obj(url=STRING, thumbnail=STRING)},
    created_at=WHEN,
    updated_at=WHEN,
)


def feature(id_schema: Schema | None, geometry: Schema, properties: Schema, description: str) -> Schema:
    members = {"type": {"type": "string", "enum": ["Feature"]}, "geometry": geometry, "properties": properties}
    if id_schema is not None:
        members["id"] = id_schema
    return {**obj(**members), "description": description}


def collection(of: Schema, paged: bool = False) -> Schema:
    members: Schema = {"type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array", "items": of}}
    if paged:
        members["next"] = {"type": "string", "format": "uri",
                           "description": "the next page (same filters); absent on the last page"}
    return obj(["type", "features"], **members)


REPORT_FEATURE = feature(
    STRING, nullable(POINT), REPORT_PROPERTIES,
    "A report; geometry is its public point (null when it was given by address only).")
NEARBY_FEATURE = feature(
    STRING, nullable(POINT),
    {**REPORT_PROPERTIES, "properties": {**REPORT_PROPERTIES["properties"], "distance_m": INTEGER},
     "required": [*REPORT_PROPERTIES["required"], "distance_m"]},
    "An open report near the given point; distance_m is metres from it, on the ellipsoid.")
INCIDENT_FEATURE = feature(INTEGER, nullable(POINT), obj(
    id=INTEGER,
    status=STRING,
    category=NAMED,
    department=NAMED,
    report_count=INTEGER,
    supporter_count=INTEGER,
    first_reported_at=WHEN,
    last_reported_at=WHEN,
    resolved_at=nullable(WHEN),
    merged_into=nullable(INTEGER),
    footprint=nullable({**GEOMETRY, "description": "convex hull of its reports; null unless all are published exactly"}),
    reports={"type": "array", "items": STRING, "description": "public ids of its reports"},
), "One problem reported one or more times.")
HOTSPOT_FEATURE = feature(INTEGER, GEOMETRY, obj(
    category=NAMED,
    report_count=INTEGER,
    open_count=INTEGER,
    open_share=NUMBER,
    previous_count=INTEGER,
    trend={**NUMBER, "description": "change of report_count against the window before, as a fraction"},
    centroid=POINT,
    window_start=WHEN,
    window_end=WHEN,
    computed_at=WHEN,
), "A dense cluster of reports of one category; geometry is its footprint polygon.")
AREA_FEATURE = feature(STRING, nullable(GEOMETRY), obj(
    code=STRING,
    kind=STRING,
    name_vi=STRING,
    name_en=STRING,
    parent=nullable(STRING),
    area_km2=nullable(NUMBER),
), "An administrative or service area; geometry simplified for the requested zoom.")
PLACE_FEATURE = {**feature(None, POINT, obj(
    required=["source", "kind", "code", "name"],
    source={"type": "string", "enum": ["area", "asset"]},
    kind={**STRING, "description": "the area's kind (ward, province…) or the asset's layer code (roads…)"},
    code=STRING,
    name={**STRING, "description": "in the request's language where the place has a name in it"},
    distance_m=nullable({**NUMBER, "description": "metres from the given point (assets found by lon/lat)"}),
), "A ward, area or named asset (a road); the point lies on it, bbox is its extent in degrees "
   "(min lon, min lat, max lon, max lat)."), "required": ["type", "geometry", "properties", "bbox"]}
PLACE_FEATURE["properties"]["bbox"] = {"type": "array", "items": NUMBER, "minItems": 4, "maxItems": 4}
PLACE_QUERY = [
    OpenApiParameter("q", {"type": "string", "minLength": 2, "maxLength": 100},
                     description="a name or part of one, diacritics and case optional ('vi tan', 'quoc lo 61'); "
                                 "or give lon and lat instead"),
    OpenApiParameter("lon", {"type": "number", "minimum": -180, "maximum": 180},
                     description="longitude in degrees, WGS-84, with lat: the ward there and the nearest named road"),
    OpenApiParameter("lat", {"type": "number", "minimum": -90, "maximum": 90}, description="latitude in degrees, WGS-84"),
]
CELL_FEATURE = feature(None, POINT, obj(count=INTEGER, open=INTEGER),
                       "One grid cell: at the mean position of its reports, how many and how many open.")



MESSAGES = {"type": "array", "items": STRING}


def field_errors(example: dict, nested: tuple[str, ...] = ()) -> Schema:
    """{field: [messages]}; a `nested` field (an object in the request) has its own
    {field: [messages]} when its members are wrong."""
    schema: Schema = {"type": "object", "additionalProperties": MESSAGES, "example": example,
                      "description": "{field: [messages]}: each message can be shown beside its field"}
    if nested:
        schema["properties"] = {name: {"oneOf": [MESSAGES, {"type": "object", "additionalProperties": MESSAGES}]}
                                for name in nested}
    return schema


BAD_REQUEST = OpenApiResponse(field_errors({"location": ["Give a location on the map, or at least an address."]}),
                              "Invalid input: messages by parameter or field.")
TOO_LARGE = OpenApiResponse(field_errors({"body": ["The request body is larger than 32 MB."]}),
                            "The body is larger than the upload limit (incidents/limits.py).")
UNAVAILABLE = OpenApiResponse(field_errors({"database": ["The database is unavailable; try again shortly."]}),
                              "The database cannot be reached; the Retry-After header says when to try again "
                              "(incidents/outage.py).")
INTAKE_REFUSED = OpenApiResponse(
    field_errors({"location": ["Give a location on the map, or at least an address."],
                  "reporter": {"email": ["Enter a valid email address."]}}, nested=("reporter",)),
    "Invalid report: messages by field; those about `reporter` are by its member (reporter.email or, "
    "nested, reporter: {email: [...]}).")
NOT_FOUND = OpenApiResponse(field_errors({"public_id": ["No report CT-2026-000999."]}),
                            "No such object (or an unknown `format`).")
THROTTLED = OpenApiResponse(field_errors({"detail": ["Request was throttled. Expected available in 120 seconds."]}),
                            "Too many submissions from this address; the Retry-After header says when to try again.")


def geojson(status: int, schema: Schema, description: str) -> dict:
    """A response that is GeoJSON whatever the client asked for, plus the documented errors."""
    return {(status, GEOJSON): OpenApiResponse(schema, description), 400: BAD_REQUEST, 404: NOT_FOUND,
            503: UNAVAILABLE}


def comma_list(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, description=f"{what}, comma-separated; any of them matches")


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "pattern": "^[!-~]{1,200}$"}, OpenApiParameter.HEADER,
    description="A key of your own (a UUID) for this report: a retry with the same key and body answers the first "
                "answer and creates nothing; the same key with another body answers 422. Keys live 24 hours.")
IDEMPOTENCY_REUSED = OpenApiResponse(description="This Idempotency-Key was used for a different request.")
LANGUAGE = OpenApiParameter("Accept-Language", str, OpenApiParameter.HEADER,
                            description="vi (default) or en: names and explanations in that language")
BBOX = OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat in degrees, WGS-84 (SRID 4326); "
                                                 "longitudes -180..180, latitudes -90..90, min not above max")
ZOOM = {"type": "number", "minimum": 0, "maximum": 22}
REPORT_FILTERS = [
    BBOX,
    comma_list("category", "category codes"),
    OpenApiParameter("status", str, description="statuses, comma-separated: " + ", ".join(Report.Status.values)),
    comma_list("department", "department codes"),
    OpenApiParameter("area", str, description="area code: only what lies inside that area"),
    OpenApiParameter("created_after", str, description="ISO 8601 date (from its start) or date-time; "
                                                       "without an offset, in the city's time zone"),
    OpenApiParameter("created_before", str, description="ISO 8601 date (to its end) or date-time; "
                                                        "without an offset, in the city's time zone"),
]
LIMIT = OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                         description=f"page size, 1 to {MAX_PAGE} (default 500)")
REPORT_PAGE = [*REPORT_FILTERS, LIMIT,
               OpenApiParameter("cursor", str, description="where the page starts: copy it from the `next` link")]
INCIDENT_PAGE = [*REPORT_FILTERS, LIMIT,
                 OpenApiParameter("cursor", {"type": "integer"},
                                  description="where the page starts: copy it from the `next` link")]
AGGREGATE = [
    OpenApiParameter("zoom", ZOOM, description="map zoom 0 to 22 (default 10): a cell is about 64 px wide"),
    OpenApiParameter("bbox", str, required=True, description=BBOX.description),
    *REPORT_FILTERS[1:],
]
NEARBY = [
    OpenApiParameter("category", str, required=True, description="category code"),
    OpenApiParameter("lon", {"type": "number", "minimum": -180, "maximum": 180}, required=True,
                     description="longitude in degrees, WGS-84"),
    OpenApiParameter("lat", {"type": "number", "minimum": -90, "maximum": 90}, required=True,
                     description="latitude in degrees, WGS-84"),
]
HOTSPOT_FILTERS = [comma_list("category", "category codes"), BBOX]
AREA_FILTERS = [
    comma_list("kind", "area kinds: province, ward, service_area, other"),
    OpenApiParameter("parent", str, description="parent area code"),
    OpenApiParameter("zoom", ZOOM, description="map zoom 0 to 22 (default 14): simplified to about half a pixel"),
    OpenApiParameter("tolerance_m", {"type": "number", "minimum": 0, "maximum": 100_000},
                     description="simplification tolerance in metres, 0 to 100000 (overrides zoom)"),
    BBOX,
]
BROWSER_COOKIE = OpenApiParameter(
    "citypin_browser", str, OpenApiParameter.COOKIE,
    description="the id our pages give a browser (20 to 64 of A-Z a-z 0-9 _ -); without it the support is refused")
SUPPORT_REQUEST = inline_serializer("SupportRequest", {"email": serializers.CharField(
    required=False, allow_blank=True, help_text="Optional: to follow updates of the report.")})
SUPPORT_RESPONSE = obj(supporter_count=INTEGER)
INTAKE_EXAMPLES = [
    OpenApiExample("on the map", request_only=True, value={
        "category": "pothole", "location": {"type": "Point", "coordinates": [105.7469, 10.0452]},
        "location_accuracy_m": 8, "description": "Ổ gà lớn trước chợ", "attributes": {"size": "large", "depth_cm": 12},
        "reporter": {"name": "Lan", "email": "lan@example.vn"}}),
    OpenApiExample("by address only", request_only=True, value={
        "category": "pothole", "address": "123 Đường 30/4, Ninh Kiều", "attributes": {"size": "small"}}),
]
