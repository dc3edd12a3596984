"""Routing: which department answers for a report of this category at this point.

One SQL query, ROUTE_SQL, does the work for (category, point, accuracy_m):

1. Candidates are the active, currently valid rules for the category or its group whose
   place reaches the accuracy circle (radius accuracy_m, metres on the geography type):
   - "area" and "default" rules: the rule's area (for "default", the jurisdiction, together
     with its child areas) covers the point (ST_Covers on SRID 4326, so a point exactly on a
     shared edge matches both sides) or lies within accuracy_m of it;
   - "asset" rules: an asset of the rule's layer and class lies within buffer_m + accuracy_m.
2. Candidates are ranked by priority (higher first), then specificity (the smaller place
   first: the area's m², or π·buffer_m² for an asset rule), then rule id. The ranking is total,
   so a point on a shared edge always resolves the same way.
3. The winner at a place is the best-ranked candidate matching it. The report's winner is the
   winner at the point itself.
4. Contest: the winner is also computed at 24 sample points of the accuracy circle (16 on its
   rim, 8 at half the radius, placed with ST_Project on the geography). If another department
   wins at any of them, the report is contested and goes to the jurisdiction's operations
   center, with "contested between X and Y". Sampling can miss a sliver thinner than the gap
   between samples; for phone GPS circles (tens of metres) that gap is a few metres.
5. The jurisdiction is the smallest operations-center area that covers the point, itself or
   through one of its child areas (ward outlines and the province outline come from different
   surveys and leave slivers); none means the point is outside every jurisdiction and the
   report is refused.

Every distance test is ST_DWithin on geography, served by the expression GiST indexes on
boundary::geography and geom::geography (migrations), so the query stays index-driven.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import override

from .models import Category, Department, RoutingRule

ROUTE_SQL = """
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g,
           ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS gg,
           %(accuracy_m)s::float8 AS acc
),
samples AS (
    SELECT 0 AS n, pt.g, pt.gg FROM pt
    UNION ALL
    SELECT k, p::geometry, p
    FROM pt, generate_series(1, 24) AS k,
         LATERAL ST_Project(pt.gg, CASE WHEN k <= 16 THEN pt.acc ELSE pt.acc / 2 END,
                            radians(CASE WHEN k <= 16 THEN 22.5 * k ELSE 45 * k + 22.5 END)) AS p
    WHERE pt.acc > 0
),
rules AS (
    SELECT r.*
    FROM incidents_routingrule r
    WHERE r.active
      AND (r.category_id = %(category_id)s OR r.category_group_id = %(group_id)s)
      AND (r.valid_from IS NULL OR r.valid_from <= %(now)s)
      AND (r.valid_until IS NULL OR r.valid_until > %(now)s)
),
candidates AS (
    SELECT r.id, r.kind, r.name, r.priority, r.department_id, r.asset_layer_id, r.asset_class, r.buffer_m,
           r.area_id, a.area_m2 AS specificity, a.boundary,
           a.code AS place_code, a.name_vi AS place_name_vi, a.name_en AS place_name_en,
           NULL::float8 AS distance_m
    FROM rules r
    JOIN geo_area a ON a.id = r.area_id
    CROSS JOIN pt
    WHERE r.kind IN ('area', 'default')
      AND (ST_Covers(a.boundary, pt.g)
           OR (pt.acc > 0 AND ST_DWithin(a.boundary::geography, pt.gg, pt.acc))
           OR (r.kind = 'default' AND EXISTS (
                SELECT 1 FROM geo_area part
                WHERE part.parent_id = a.id
                  AND (ST_Covers(part.boundary, pt.g)
                       OR (pt.acc > 0 AND ST_DWithin(part.boundary::geography, pt.gg, pt.acc))))))
    UNION ALL
    SELECT r.id, r.kind, r.name, r.priority, r.department_id, r.asset_layer_id, r.asset_class, r.buffer_m,
           NULL, pi() * r.buffer_m ^ 2, NULL,
           near.code, near.name, near.name,
           near.d
    FROM rules r
    CROSS JOIN pt
    CROSS JOIN LATERAL (
        SELECT s.code, s.name, ST_Distance(s.geom::geography, pt.gg) AS d
        FROM geo_asset s
        WHERE s.layer_id = r.asset_layer_id
          AND s.asset_class = r.asset_class
          AND ST_DWithin(s.geom::geography, pt.gg, r.buffer_m + pt.acc)
        ORDER BY 3
        LIMIT 1
    ) near
    WHERE r.kind = 'asset'
),
ranked AS (
    SELECT c.*, row_number() OVER (ORDER BY c.priority DESC, c.specificity ASC, c.id ASC) AS rank
    FROM candidates c
),
sample_winners AS (
    SELECT DISTINCT ON (s.n) s.n, r.id, r.department_id
    FROM samples s
    JOIN ranked r ON CASE
        WHEN r.kind = 'asset' THEN EXISTS (
            SELECT 1 FROM geo_asset x
            WHERE x.layer_id = r.asset_layer_id AND x.asset_class = r.asset_class
              AND ST_DWithin(x.geom::geography, s.gg, r.buffer_m))
        WHEN r.kind = 'default' THEN ST_Covers(r.boundary, s.g) OR EXISTS (
            SELECT 1 FROM geo_area part WHERE part.parent_id = r.area_id AND ST_Covers(part.boundary, s.g))
        ELSE ST_Covers(r.boundary, s.g)
    END
    ORDER BY s.n, r.rank
),
winner AS (
    SELECT r.id, r.kind, r.name, r.priority, r.department_id, r.place_code, r.place_name_vi,
           r.place_name_en, r.distance_m
    FROM sample_winners w JOIN ranked r ON r.id = w.id
    WHERE w.n = 0
),
rivals AS (
    SELECT DISTINCT ON (sw.department_id) sw.id, sw.department_id
    FROM sample_winners sw CROSS JOIN winner w
    WHERE sw.n > 0 AND sw.department_id <> w.department_id
    ORDER BY sw.department_id, sw.id
),
jurisdiction AS (
    SELECT d.id AS department_id
    FROM incidents_department d
    JOIN geo_area a ON a.id = d.jurisdiction_id
    CROSS JOIN pt
    WHERE d.is_operations_center AND d.active
      AND (ST_Covers(a.boundary, pt.g)
           OR EXISTS (SELECT 1 FROM geo_area part WHERE part.parent_id = a.id AND ST_Covers(part.boundary, pt.g)))
    ORDER BY a.area_m2, d.id
    LIMIT 1
)
SELECT
    (SELECT department_id FROM jurisdiction) AS operations_center_id,
    (SELECT row_to_json(w) FROM winner w) AS winner,
    (SELECT coalesce(json_agg(json_build_object('rule_id', id, 'department_id', department_id)), '[]')
     FROM rivals) AS rivals
"""

# The ward a point lies in: the smallest ward covering it; ties (a point on an edge) go to
# the lowest code. GiST index on geo_area.boundary (SRID 4326).
WARD_SQL = """
SELECT id FROM geo_area
WHERE kind = 'ward' AND ST_Covers(boundary, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY area_m2, code
LIMIT 1
"""

# Operations center for a report without coordinates: the one of the widest jurisdiction
# (a deployment normally has exactly one).
DEFAULT_OPERATIONS_CENTER_SQL = """
SELECT d.id FROM incidents_department d JOIN geo_area a ON a.id = d.jurisdiction_id
WHERE d.is_operations_center AND d.active
ORDER BY a.area_m2 DESC, d.id LIMIT 1
"""


class OutsideJurisdiction(Exception):
    """The point lies outside every jurisdiction that has an operations center."""


@dataclass
class Route:
    department: Department
    rule: RoutingRule | None
    reason: str  # "rule", "contested", "no_rule", "unlocated"
    explanation: dict = field(default_factory=dict)


def route(category: Category, lon: float | None, lat: float | None, accuracy_m: float | None = None,
          now: datetime | None = None) -> Route:
    """Choose the department for a report. `lon`/`lat` None means the report has only an address."""
    if lon is None or lat is None:
        with connection.cursor() as cursor:
            cursor.execute(DEFAULT_OPERATIONS_CENTER_SQL)
            row = cursor.fetchone()
        if row is None:
            raise OutsideJurisdiction("No operations center is configured.")
        return _explain(Route(Department.objects.get(pk=row[0]), None, "unlocated"))

    params = {
        "lon": lon,
        "lat": lat,
        "accuracy_m": max(accuracy_m or 0.0, 0.0),
        "category_id": category.pk,
        "group_id": category.group_id,
        "now": now or timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(ROUTE_SQL, params)
        operations_center_id, winner, rivals = cursor.fetchone()
    if operations_center_id is None:
        raise OutsideJurisdiction(f"{lat:.6f}, {lon:.6f}")

    departments = Department.objects.in_bulk(
        {operations_center_id} | ({winner["department_id"]} if winner else set()) | {r["department_id"] for r in rivals}
    )
    operations_center = departments[operations_center_id]
    if winner is None:
        return _explain(Route(operations_center, None, "no_rule"))
    rule = RoutingRule.objects.get(pk=winner["id"])
    if rivals:
        contested = [departments[winner["department_id"]]] + [departments[r["department_id"]] for r in rivals]
        result = Route(operations_center, rule, "contested")
        result.explanation["contested_between"] = [{"code": d.code, "name_vi": d.name_vi, "name_en": d.name_en} for d in contested]
        return _explain(result, winner)
    return _explain(Route(departments[winner["department_id"]], rule, "rule"), winner)


def _explain(result: Route, winner: dict | None = None) -> Route:
    """Fill result.explanation: a structured record plus a sentence in each language."""
    exp = result.explanation
    exp["reason"] = result.reason
    exp["department"] = {"code": result.department.code, "name_vi": result.department.name_vi,
                         "name_en": result.department.name_en}
    if winner:
        exp["rule"] = {"id": winner["id"], "name": winner["name"], "kind": winner["kind"], "priority": winner["priority"],
                       "place": {"code": winner["place_code"], "name_vi": winner["place_name_vi"],
                                 "name_en": winner["place_name_en"]}}
        if winner["distance_m"] is not None:
            exp["rule"]["distance_m"] = round(winner["distance_m"], 1)
    exp["text"] = {}
    for lang in ("vi", "en"):
        with override(lang):
            exp["text"][lang] = _sentence(result, exp)
    return result


def _sentence(result: Route, exp: dict) -> str:
    dept = result.department.name
    if result.reason == "unlocated":
        return _("No location was given, so the operations center (%(dept)s) places it.") % {"dept": dept}
    if result.reason == "no_rule":
        return _("No routing rule covers this place and category, so it goes to %(dept)s.") % {"dept": dept}
    rule = exp["rule"]
    lang_name = "name_en" if (get_language() or "vi").startswith("en") else "name_vi"
    place = rule["place"].get(lang_name) or rule["place"]["name_vi"] or rule["place"]["code"]
    if rule["kind"] == RoutingRule.Kind.ASSET:
        why = _("within %(m)s m of %(place)s") % {"m": rule.get("distance_m", "?"), "place": place}
    elif rule["kind"] == RoutingRule.Kind.AREA:
        why = _("inside %(place)s") % {"place": place}
    else:
        why = _("default for %(place)s") % {"place": place}
    if result.reason == "contested":
        names = [d[lang_name] or d["name_vi"] for d in exp["contested_between"]]
        return _("Contested between %(names)s: the location's accuracy circle reaches both, so the operations "
                 "center (%(dept)s) decides. Best match: rule \"%(rule)s\" (%(why)s).") % {
            "names": _(" and ").join(names), "dept": dept, "rule": rule["name"], "why": why}
    return _("Rule \"%(rule)s\" (%(why)s, priority %(priority)s) sends it to %(dept)s.") % {
        "rule": rule["name"], "why": why, "priority": rule["priority"], "dept": dept}


def find_ward_id(lon: float, lat: float) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(WARD_SQL, {"lon": lon, "lat": lat})
        row = cursor.fetchone()
    return row[0] if row else None
