"""Places by name and by point, from the areas and asset layers already loaded (no outside
geocoder): what a citizen types into the map's search box ("vi tan", "quoc lo 61") and what
the pin says where it stands ("Quốc lộ 61, Xã Hoả Lựu").

Both answer GeoJSON Features built in SQL, geometry a Point in WGS-84 (SRID 4326) with a
`bbox` (min lon, min lat, max lon, max lat, degrees) to fit the map to.
"""

from __future__ import annotations

from django.db import connection

# Search. Names are folded by citypin_fold (unaccent, then lower; migration 0003), so
# diacritics and case are optional. A name matches when it contains the folded query, or when
# one of its words is close to it (word_similarity above pg_trgm's threshold, 0.6 by default,
# the <% operator); both are served by the trigram GIN indexes. Assets that share a name (a
# national road is hundreds of segments) are one place: their geometries collected, the point
# the one on them nearest their centre. Best match first: whole-name prefix, then similarity,
# then the shorter name; areas before assets on a tie.
SEARCH_SQL = """
WITH q AS (SELECT citypin_fold(%(q)s) AS q),
areas AS (
    SELECT 'area' AS source, a.kind, a.code, a.name_vi, a.name_en, a.boundary AS geom,
           greatest(word_similarity(q.q, citypin_fold(a.name_vi)),
                    word_similarity(q.q, citypin_fold(a.name_en))) AS score,
           (citypin_fold(a.name_vi) LIKE q.q || '%%' OR citypin_fold(a.name_vi) LIKE '%% ' || q.q || '%%') AS starts
    FROM geo_area a, q
    WHERE citypin_fold(a.name_vi) LIKE '%%' || q.q || '%%' OR citypin_fold(a.name_en) LIKE '%%' || q.q || '%%'
       OR q.q <%% citypin_fold(a.name_vi) OR q.q <%% citypin_fold(a.name_en)
    ORDER BY starts DESC, score DESC
    LIMIT %(limit)s
),
assets AS (
    SELECT 'asset' AS source, l.code AS kind, min(s.code) AS code, s.name AS name_vi, '' AS name_en,
           ST_Collect(s.geom) AS geom,
           word_similarity(q.q, citypin_fold(s.name)) AS score,
           (citypin_fold(s.name) LIKE q.q || '%%' OR citypin_fold(s.name) LIKE '%% ' || q.q || '%%') AS starts
    FROM geo_asset s JOIN geo_assetlayer l ON l.id = s.layer_id, q
    WHERE s.name <> '' AND (citypin_fold(s.name) LIKE '%%' || q.q || '%%' OR q.q <%% citypin_fold(s.name))
    GROUP BY l.code, s.name, q.q
    ORDER BY starts DESC, score DESC
    LIMIT %(limit)s
)
SELECT json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(CASE WHEN GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') THEN ST_PointOnSurface(geom)
                                  ELSE ST_ClosestPoint(geom, ST_Centroid(geom)) END, 6)::json,
    'bbox', json_build_array(round(ST_XMin(geom)::numeric, 6), round(ST_YMin(geom)::numeric, 6),
                             round(ST_XMax(geom)::numeric, 6), round(ST_YMax(geom)::numeric, 6)),
    'properties', json_build_object('source', source, 'kind', kind, 'code', code,
                                    'name', CASE WHEN %(lang)s = 'en' AND name_en <> '' THEN name_en ELSE name_vi END)
)::text
FROM (SELECT * FROM areas UNION ALL SELECT * FROM assets) found
ORDER BY starts DESC, score DESC, length(name_vi), source
LIMIT %(limit)s
"""

# Where a point is: the smallest ward (area of kind 'ward') covering it (ST_Covers on SRID
# 4326; on a shared edge the lowest code, as routing does), and the nearest named asset within
# %(radius_m)s metres (ST_DWithin on geography against the subdivided asset parts, through
# their geography GiST index; distance in metres).
AT_POINT_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
ward AS (
    SELECT 'area' AS source, a.kind, a.code, a.name_vi, a.name_en, a.boundary AS geom, NULL::float8 AS distance_m
    FROM geo_area a JOIN geo_areapart p ON p.area_id = a.id, pt
    WHERE a.kind = 'ward' AND ST_Covers(p.geom, pt.g)
    ORDER BY a.area_m2, a.code
    LIMIT 1
),
road AS (
    SELECT 'asset' AS source, l.code AS kind, s.code, s.name AS name_vi, '' AS name_en, s.geom,
           ST_Distance(p.geom::geography, pt.g::geography) AS distance_m
    FROM geo_assetpart p JOIN geo_asset s ON s.id = p.asset_id JOIN geo_assetlayer l ON l.id = s.layer_id, pt
    WHERE s.name <> '' AND ST_DWithin(p.geom::geography, pt.g::geography, %(radius_m)s)
    ORDER BY distance_m
    LIMIT 1
)
SELECT json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(CASE WHEN source = 'area' THEN ST_PointOnSurface(geom)
                                  ELSE ST_ClosestPoint(geom, (SELECT g FROM pt)) END, 6)::json,
    'bbox', json_build_array(round(ST_XMin(geom)::numeric, 6), round(ST_YMin(geom)::numeric, 6),
                             round(ST_XMax(geom)::numeric, 6), round(ST_YMax(geom)::numeric, 6)),
    'properties', json_build_object('source', source, 'kind', kind, 'code', code,
                                    'name', CASE WHEN %(lang)s = 'en' AND name_en <> '' THEN name_en ELSE name_vi END,
                                    'distance_m', round(distance_m::numeric, 0))
)::text
FROM (SELECT * FROM road UNION ALL SELECT * FROM ward) found
"""

NEAR_ROAD_M = 150  # metres: farther than this from any named asset, the pin names its ward only


def search_places(q: str, lang: str, limit: int = 10) -> list[str]:
    """Feature texts of the places whose name matches `q`, best first."""
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_SQL, {"q": q, "lang": lang, "limit": limit})
        return [row[0] for row in cursor.fetchall()]


def places_at(lon: float, lat: float, lang: str, radius_m: float = NEAR_ROAD_M) -> list[str]:
    """Feature texts of the nearest named asset within radius_m (first, if any) and the ward
    the point (lon, lat in degrees, SRID 4326) lies in."""
    with connection.cursor() as cursor:
        cursor.execute(AT_POINT_SQL, {"lon": lon, "lat": lat, "lang": lang, "radius_m": radius_m})
        return [row[0] for row in cursor.fetchall()]
