"""Routing: which department answers for a report of this category at this point.

One SQL query, ROUTE_SQL, does the work for (category, point, accuracy_m):

1. Samples: the point itself (n = 0) and, when accuracy_m > 0, 24 points of its accuracy
   circle (16 on the rim, 8 at half the radius), placed in metres with ST_Project on the
   geography. Sampling can miss a sliver thinner than the gap between samples; for phone
   GPS circles (tens of metres) that gap is a few metres.
2. What each sample lies in: area pieces (geo_areapart, boundaries cut to ≤ 64 vertices,
   GiST-indexed) that cover it (ST_Covers on SRID 4326, so a point exactly on a shared edge
   lies in both areas), plus their parent areas, marked "via child".
3. Which rules match each sample, among the active, currently valid rules of the category or
   its group: an "area" rule when the sample lies in its area; a "default" rule when it lies in
   its jurisdiction or a child of it (ward and province outlines come from different surveys
   and leave slivers); an "asset" rule when an asset of its layer and class is within buffer_m
   metres (ST_DWithin on geography against geo_assetpart, the assets cut to ≤ 64 vertices,
   GiST on geom::geography).
4. Rules rank by priority (higher first), then specificity (the smaller place first: the
   area's m², or π·buffer_m² for an asset rule), then id. The ranking is total, so a point on
   a shared edge always resolves the same way. Each sample's winner is its best-ranked match.
5. The report's rule is the point's winner. If another department wins at any other sample,
   the report is contested and goes to the jurisdiction's operations center.
6. The ward is the smallest ward the point lies in (ties on an edge: the lowest code), with its
   code and names for the explanation.
7. The jurisdiction is the smallest operations-center area the point lies in (itself or via a
   child area); none means the point is outside every jurisdiction and the report is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gis.models import Area
from incidents.models import Category, RoutingRule
from incidents.prepared import PreparedQuery

ROUTE_SQL = """
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS gg, %(accuracy_m)s::float8 AS acc
),
samples AS (
    SELECT 0 AS n, pt.gg::geometry AS g, pt.gg FROM pt
    UNION ALL
    SELECT k, p::geometry, p
    FROM pt, generate_series(1, 24) AS k,
         LATERAL ST_Project(pt.gg, CASE WHEN k <= 16 THEN pt.acc ELSE pt.acc / 2 END,
                            radians(CASE WHEN k <= 16 THEN 22.5 * k ELSE 45 * k + 22.5 END)) AS p
    WHERE pt.acc > 0
),
sample_areas AS (
    SELECT DISTINCT s.n, p.area_id
    FROM samples s JOIN geo_areapart p ON ST_Covers(p.geom, s.g)
),
sample_places AS (
    SELECT n, area_id, false AS via_child FROM sample_areas
    UNION
    SELECT sa.n, a.parent_id, true
    FROM sample_areas sa JOIN geo_area a ON a.id = sa.area_id
    WHERE a.parent_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM sample_areas same WHERE same.n = sa.n AND same.area_id = a.parent_id)
),
rules AS (
    SELECT r.id, r.kind, r.name, r.priority, r.department_id, r.area_id, r.asset_layer_id, r.asset_class,
           r.buffer_m
    FROM incidents_routingrule r
    WHERE r.active
      AND (r.category_id = %(category_id)s OR r.category_group_id = %(group_id)s)
      AND (r.valid_from IS NULL OR r.valid_from <= %(now)s)
      AND (r.valid_until IS NULL OR r.valid_until > %(now)s)
),
asset_rules AS (
    -- Asset rules whose class comes within buffer_m + accuracy_m of the point at all.
    SELECT r.*, near.code AS place_code, near.name AS place_name, near.d AS distance_m
    FROM rules r CROSS JOIN pt
    CROSS JOIN LATERAL (
        SELECT s.code, s.name, ST_Distance(p.geom::geography, pt.gg) AS d
        FROM geo_assetpart p JOIN geo_asset s ON s.id = p.asset_id
        WHERE s.layer_id = r.asset_layer_id AND s.asset_class = r.asset_class
          AND ST_DWithin(p.geom::geography, pt.gg, r.buffer_m + pt.acc)
        ORDER BY 3
        LIMIT 1
    ) near
    WHERE r.kind = 'asset'
),
matches AS (
    SELECT sp.n, r.id, r.department_id, r.priority, a.area_m2 AS specificity
    FROM sample_places sp
    JOIN rules r ON r.area_id = sp.area_id AND (r.kind = 'default' OR (r.kind = 'area' AND NOT sp.via_child))
    JOIN geo_area a ON a.id = r.area_id
    UNION ALL
    SELECT s.n, r.id, r.department_id, r.priority, pi() * r.buffer_m ^ 2
    FROM samples s CROSS JOIN asset_rules r
    CROSS JOIN LATERAL (  -- LIMIT keeps this a per-sample index probe, not a hash join
        SELECT 1 FROM geo_assetpart p JOIN geo_asset x ON x.id = p.asset_id
        WHERE x.layer_id = r.asset_layer_id AND x.asset_class = r.asset_class
          AND ST_DWithin(p.geom::geography, s.gg, r.buffer_m)
        LIMIT 1
    ) hit
),
sample_winners AS (
    SELECT DISTINCT ON (n) n, id, department_id
    FROM matches
    ORDER BY n, priority DESC, specificity ASC, id ASC
),
winner AS (
    SELECT r.id, r.kind, r.name, r.priority, r.department_id,
           d.code AS department_code, d.name_vi AS department_name_vi, d.name_en AS department_name_en,
           coalesce(a.code, ar.place_code) AS place_code,
           coalesce(a.name_vi, ar.place_name) AS place_name_vi,
           coalesce(nullif(a.name_en, ''), a.name_vi, ar.place_name) AS place_name_en,
           ar.distance_m
    FROM sample_winners w
    JOIN rules r ON r.id = w.id
    JOIN incidents_department d ON d.id = r.department_id
    LEFT JOIN geo_area a ON a.id = r.area_id
    LEFT JOIN asset_rules ar ON ar.id = r.id
    WHERE w.n = 0
),
rivals AS (
    SELECT DISTINCT ON (sw.department_id) sw.department_id, d.code, d.name_vi, d.name_en
    FROM sample_winners sw CROSS JOIN winner w
    JOIN incidents_department d ON d.id = sw.department_id
    WHERE sw.n > 0 AND sw.department_id <> w.department_id
    ORDER BY sw.department_id
),
jurisdiction AS (
    SELECT d.id, d.code, d.name_vi, d.name_en
    FROM incidents_department d
    JOIN sample_places sp ON sp.area_id = d.jurisdiction_id AND sp.n = 0
    JOIN geo_area a ON a.id = d.jurisdiction_id
    WHERE d.is_operations_center AND d.active
    ORDER BY a.area_m2, d.id
    LIMIT 1
)
SELECT
    (SELECT row_to_json(j) FROM jurisdiction j) AS operations_center,
    (SELECT json_build_object('id', a.id, 'code', a.code, 'name_vi', a.name_vi, 'name_en', a.name_en)
     FROM sample_areas sa JOIN geo_area a ON a.id = sa.area_id
     WHERE sa.n = 0 AND a.kind = 'ward' ORDER BY a.area_m2, a.code LIMIT 1) AS ward,
    (SELECT row_to_json(w) FROM winner w) AS winner,
    (SELECT coalesce(json_agg(json_build_object('code', code, 'name_vi', name_vi, 'name_en', name_en)
                              ORDER BY code), '[]')
     FROM rivals) AS rivals
"""

# Operations center for a report without coordinates: the one of the widest jurisdiction
# (a deployment normally has exactly one).
DEFAULT_OPERATIONS_CENTER_SQL = """
SELECT json_build_object('id', d.id, 'code', d.code, 'name_vi', d.name_vi, 'name_en', d.name_en)
FROM incidents_department d JOIN geo_area a ON a.id = d.jurisdiction_id
WHERE d.is_operations_center AND d.active
ORDER BY a.area_m2 DESC, d.id LIMIT 1
"""


# The operations center answering for a point (SRID 4326): the smallest jurisdiction covering
# it, else the largest one, as for unlocated reports. Where "not our responsibility" goes.
OPERATIONS_CENTER_AT_SQL = """
SELECT d.id
FROM incidents_department d JOIN geo_area a ON a.id = d.jurisdiction_id
WHERE d.is_operations_center AND d.active
ORDER BY (%(lon)s IS NOT NULL AND ST_Covers(a.boundary, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))) DESC,
         CASE WHEN %(lon)s IS NOT NULL AND ST_Covers(a.boundary, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
              THEN a.area_m2 ELSE -a.area_m2 END,
         d.id
LIMIT 1
"""


def operations_center_at(lon: float | None, lat: float | None) -> int | None:
    """The id of the operations center for a point (lon, lat in WGS-84; None: unlocated)."""
    with connection.cursor() as cursor:
        cursor.execute(OPERATIONS_CENTER_AT_SQL, {"lon": lon, "lat": lat})
        row = cursor.fetchone()
    return row[0] if row else None


ROUTE = PreparedQuery("citypin_route", ROUTE_SQL, {
    "lon": "float8", "lat": "float8", "accuracy_m": "float8", "category_id": "bigint", "group_id": "bigint",
    "now": "timestamptz"})


class OutsideJurisdiction(Exception):
    """The point lies outside every jurisdiction that has an operations center."""


@dataclass
class Route:
    """The routing decision. `department` is {"id", "code", "name_vi", "name_en"}."""

    department: dict
    rule_id: int | None
    reason: str  # "rule", "contested", "no_rule", "unlocated"
    explanation: dict = field(default_factory=dict)
    ward_id: int | None = None  # the ward the point lies in, if any

    @property
    def department_id(self) -> int:
        return self.department["id"]


def route(category: Category, lon: float | None, lat: float | None, accuracy_m: float | None = None,
          now: datetime | None = None) -> Route:
    """Choose the department for a report. `lon`/`lat` None means the report has only an address.

    Raises OutsideJurisdiction when the point lies outside every operations center's area.
    """
    if lon is None or lat is None:
        with connection.cursor() as cursor:
            cursor.execute(DEFAULT_OPERATIONS_CENTER_SQL)
            row = cursor.fetchone()
        if row is None:
            raise OutsideJurisdiction("No operations center is configured.")
        return _explain(Route(row[0], None, "unlocated"))

    params = {
        "lon": lon,
        "lat": lat,
        "accuracy_m": max(accuracy_m or 0.0, 0.0),
        "category_id": category.pk,
        "group_id": category.group_id,
        "now": now or timezone.now(),
    }
    with connection.cursor() as cursor:
        ROUTE.execute(cursor, params)
        operations_center, ward, winner, rivals = cursor.fetchone()
    ward_id = ward.pop("id") if ward else None
    if operations_center is None:
        raise OutsideJurisdiction(f"{lat:.6f}, {lon:.6f}")
    if winner is None:
        return _explain(Route(operations_center, None, "no_rule", ward_id=ward_id), ward=ward)
    if winner["distance_m"] is not None and category.public_location_precision_m:
        # The explanation is public: say no more about the distance than the public point does.
        step = category.public_location_precision_m
        winner["distance_m"] = round(winner["distance_m"] / step) * step
    winner_department = {"id": winner["department_id"], "code": winner["department_code"],
                         "name_vi": winner["department_name_vi"], "name_en": winner["department_name_en"]}
    if rivals:
        result = Route(operations_center, winner["id"], "contested", ward_id=ward_id)
        result.explanation["contested_between"] = [
            {k: winner_department[k] for k in ("code", "name_vi", "name_en")}, *rivals]
        return _explain(result, winner, ward)
    return _explain(Route(winner_department, winner["id"], "rule", ward_id=ward_id), winner, ward)


def _explain(result: Route, winner: dict | None = None, ward: dict | None = None) -> Route:
    """Fill result.explanation: a structured record plus a sentence in each language. `ward` is
    result.ward_id's {"code", "name_vi", "name_en"} when the caller has it already."""
    exp = result.explanation
    exp["reason"] = result.reason
    exp["department"] = {k: result.department[k] for k in ("code", "name_vi", "name_en")}
    if winner:
        exp["rule"] = {"id": winner["id"], "name": winner["name"], "kind": winner["kind"], "priority": winner["priority"],
                       "place": {"code": winner["place_code"], "name_vi": winner["place_name_vi"],
                                 "name_en": winner["place_name_en"]}}
        if winner["distance_m"] is not None:
            exp["rule"]["distance_m"] = round(winner["distance_m"], 1)
    if result.ward_id is not None:
        exp["ward"] = ward or Area.objects.filter(pk=result.ward_id).values("code", "name_vi", "name_en").first()
    exp["text"] = {}
    exp["public_text"] = {}
    for lang in ("vi", "en"):
        with override(lang):
            exp["text"][lang] = _sentence(result, exp, "name_en" if lang == "en" else "name_vi")
            exp["public_text"][lang] = public_reason(exp, "name_en" if lang == "en" else "name_vi")
    return result


def public_reason(exp: dict, name_key: str = "name_vi") -> str:
    """The explanation for citizens, in the active language: who handles it and the place-based
    reason ("Sent to the Department of Construction because the problem is in Phường Vị Tân").
    Rule names, ids and priorities are internal and stay in `text`, which staff read. Works on
    any stored explanation (`exp` is Report.routing); "" when it says nothing public."""
    def name(d: dict | None) -> str:
        return (d or {}).get(name_key) or (d or {}).get("name_vi") or (d or {}).get("code") or ""

    reason, dept = exp.get("reason"), name(exp.get("department"))
    if reason in ("rerouted", "not_ours"):  # a person decided; triage wrote it in plain words
        texts = exp.get("text") or {}
        return texts.get("en" if name_key == "name_en" else "vi") or texts.get("vi", "")
    ward, rule = name(exp.get("ward")), exp.get("rule") or {}
    place = name(rule.get("place"))
    if reason == "unlocated":
        return _("Sent to %(dept)s, the operations center, which will place it on the map: no location was given.") % {
            "dept": dept}
    if reason == "contested":
        names = _(" or ").join(name(d) for d in exp.get("contested_between") or [])
        return _("Sent to %(dept)s, the operations center, which decides: the problem is where %(names)s meet.") % {
            "dept": dept, "names": names}
    if reason == "no_rule":
        if ward:
            return _("Sent to %(dept)s, the operations center, because no department handles this kind of problem "
                     "in %(place)s yet.") % {"dept": dept, "place": ward}
        return _("Sent to %(dept)s, the operations center, because no department handles this kind of problem "
                 "there yet.") % {"dept": dept}
    if reason != "rule" or not dept:
        return ""
    if rule.get("kind") == RoutingRule.Kind.ASSET and place:
        if ward:
            return _("Sent to %(dept)s because the problem is next to %(place)s, in %(ward)s.") % {
                "dept": dept, "place": place, "ward": ward}
        return _("Sent to %(dept)s because the problem is next to %(place)s.") % {"dept": dept, "place": place}
    where = place if rule.get("kind") == RoutingRule.Kind.AREA else (ward or place)
    if where:
        return _("Sent to %(dept)s because the problem is in %(place)s.") % {"dept": dept, "place": where}
    return _("Sent to %(dept)s.") % {"dept": dept}


def _sentence(result: Route, exp: dict, name_key: str) -> str:
    def name(d: dict) -> str:
        return d.get(name_key) or d["name_vi"]

    dept = name(exp["department"])
    if result.reason == "unlocated":
        return _("No location was given, so the operations center (%(dept)s) places it.") % {"dept": dept}
    if result.reason == "no_rule":
        return _("No routing rule covers this place and category, so it goes to %(dept)s.") % {"dept": dept}
    rule = exp["rule"]
    place = name(rule["place"]) or rule["place"]["code"]
    if rule["kind"] == RoutingRule.Kind.ASSET:
        why = _("within %(m)s m of %(place)s") % {"m": rule.get("distance_m", "?"), "place": place}
    elif rule["kind"] == RoutingRule.Kind.AREA:
        why = _("inside %(place)s") % {"place": place}
    else:
        why = _("default for %(place)s") % {"place": place}
    if result.reason == "contested":
        return _("Contested between %(names)s: the location's accuracy circle reaches both, so the operations "
                 "center (%(dept)s) decides. Best match: rule \"%(rule)s\" (%(why)s).") % {
            "names": _(" and ").join(name(d) for d in exp["contested_between"]), "dept": dept, "rule": rule["name"],
            "why": why}
    return _("Rule \"%(rule)s\" (%(why)s, priority %(priority)s) sends it to %(dept)s.") % {
        "rule": rule["name"], "why": why, "priority": rule["priority"], "dept": dept}
