"""The public projection: the one place that says what the public sees of a report or an
incident, and where. Every public output (API, map, tracking page) selects these and nothing
else; reporter contact data and internal fields are simply not selected.

Which point: `PUBLIC_POINT`, a report's location snapped at intake to a grid of its category's
public_location_precision_m (metres, in the deployment's metric SRID), stored in SRID 4326.
Public filters (read/query.py), distances and aggregates (read/cells.py) use it too, so the
exact point cannot be narrowed down.

Which fields: REPORT_FEATURE_SQL and INCIDENT_FEATURE_SQL (the API's nested shape; public.py
has the same report fields flat, for open data), GeoJSON built in SQL
(ST_AsGeoJSON + json_build_object), never by serializers. Measured on this kind of machine:
DRF-GIS serializers ~110 µs per feature, SQL ~5 µs.
"""

from __future__ import annotations

from django.db import connection

from incidents.prepared import PreparedQuery
from incidents.read.public import PUBLIC_PHOTOS_WHERE, PUBLIC_POINT
from incidents.read.sql import REPORT_FROM_SQL, language, localized

REPORT_FEATURE_SQL = f"""
json_build_object(
    'type', 'Feature',
    'id', r.public_id,
    'geometry', ST_AsGeoJSON(r.{PUBLIC_POINT}, 6)::json,
    'properties', json_build_object(
        'public_id', r.public_id,
        'status', r.status,
        'incident', r.incident_id,
        'recurrence_of', r.recurrence_of_id,
        'category', json_build_object('code', c.code, 'name', {localized('c')}),
        'department', json_build_object('code', d.code, 'name', {localized('d')}),
        'ward', CASE WHEN w.id IS NULL THEN NULL
                     ELSE json_build_object('code', w.code, 'name', {localized('w')}) END,
        'description', r.public_description,
        'address', r.address,
        'attributes', r.attributes,
        'location_accuracy_m', r.location_accuracy_m,
        'location_precision_m', c.public_location_precision_m,
        'routing', json_build_object(  -- the public why: the rule itself (name, id, priority) is staff-only
            'reason', r.routing->'reason',
            'place', CASE WHEN jsonb_typeof(r.routing->'rule'->'place') = 'object' THEN json_build_object(
                         'kind', r.routing->'rule'->'kind',
                         'code', r.routing->'rule'->'place'->'code',
                         'name', coalesce(r.routing->'rule'->'place'->>('name_' || %(lang)s),
                                          r.routing->'rule'->'place'->>'name_vi'),
                         'distance_m', CASE WHEN c.public_location_precision_m = 0
                                            THEN r.routing->'rule'->'distance_m' END) END,
            'contested_between', r.routing->'contested_between',
            'text', coalesce(r.routing->'public_text'->>%(lang)s, r.routing->'public_text'->>'vi',
                             CASE WHEN r.routing->>'reason' IN ('rerouted', 'not_ours')  -- already plain words
                                  THEN coalesce(r.routing->'text'->>%(lang)s, r.routing->'text'->>'vi') END)),
        'source', r.source,
        'supporter_count', r.supporter_count,
        'photos', (SELECT coalesce(json_agg(json_build_object(
                              'url', '/photos/' || ph.uuid || '/', 'thumbnail', '/photos/' || ph.uuid || '/thumbnail/')
                          ORDER BY ph.id), '[]')
                   FROM incidents_photo ph WHERE {PUBLIC_PHOTOS_WHERE}),
        'created_at', r.created_at,
        'updated_at', r.updated_at
    )
)::text
"""

def base_params(lang: str) -> dict:
    return {"lang": language(lang)}


# The 201 answer to a new report: REPORT_FEATURE_SQL for the row just written, by its primary
# key, on the connection that wrote it (the primary, never a replica that may lag). Prepared
# once per session: planning it (about 0.6 ms) cost three times what running it does (0.2 ms).
CREATED_REPORT = PreparedQuery("citypin_created_report",
                               f"SELECT {REPORT_FEATURE_SQL} {REPORT_FROM_SQL} WHERE r.id = %(id)s",
                               {"lang": "text", "id": "bigint"})


def created_report_feature(report_id: int, lang: str) -> str | None:
    with connection.cursor() as cursor:
        CREATED_REPORT.execute(cursor, base_params(lang) | {"id": report_id})
        row = cursor.fetchone()
    return row[0] if row else None


def feature_collection(features: list[str], extra: str = "") -> str:
    """Join feature texts made by SQL into one FeatureCollection without re-parsing them."""
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + extra + "}"


# Incidents, public: the representative point (snapped like its reports when the category
# publishes a reduced precision), counts, times and the public ids of its reports. The
# footprint is only published for categories published exactly.
INCIDENT_FEATURE_SQL = f"""
json_build_object(
    'type', 'Feature',
    'id', i.id,
    'geometry', ST_AsGeoJSON(i.{PUBLIC_POINT}, 6)::json,
    'properties', json_build_object(
        'id', i.id,
        'status', i.status,
        'category', json_build_object('code', c.code, 'name', {localized('c')}),
        'department', json_build_object('code', d.code, 'name', {localized('d')}),
        'report_count', i.report_count,
        'supporter_count', i.supporter_count,
        'first_reported_at', i.first_reported_at,
        'last_reported_at', i.last_reported_at,
        'resolved_at', i.resolved_at,
        'merged_into', i.merged_into_id,
        'footprint', CASE WHEN NOT EXISTS (  -- exact points: only when every report is published exactly
                              SELECT 1 FROM incidents_report rr JOIN incidents_category cc ON cc.id = rr.category_id
                              WHERE rr.incident_id = i.id AND cc.public_location_precision_m > 0)
                          THEN ST_AsGeoJSON(i.footprint, 6)::json END,
        'reports', (SELECT coalesce(json_agg(rr.public_id ORDER BY rr.id), '[]')
                    FROM incidents_report rr WHERE rr.incident_id = i.id)
    )
)::text
"""

INCIDENT_FROM_SQL = """
FROM incidents_incident i
JOIN incidents_category c ON c.id = i.category_id
JOIN incidents_department d ON d.id = i.department_id
"""
