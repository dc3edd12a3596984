"""The demo city, Cần Thơ: its wards and national roads, its departments, categories and
routing rules (data/demo/can_tho.json), sample reports, staff accounts and an Open311 key.

Everything is an upsert, so load_demo can run on every `make run`. Passwords and the API key
are derived from SECRET_KEY: stable for one installation, never written in the repository.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from gis.importers import FID, import_areas, import_assets
from gis.models import Area, Asset, AssetLayer
from gis.spatial import offset_point
from incidents.events import record
from incidents.hotspots import refresh_hotspots
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import (
    ApiKey,
    Category,
    CategoryAttribute,
    CategoryGroup,
    Department,
    Report,
    ReportEvent,
    ResponseTemplate,
    RoutingRule,
    StaffMembership,
)
from incidents.sla import due_times

DATA = Path(settings.BASE_DIR) / "data"
CITY = DATA / "demo" / "can_tho.json"
SAMPLE_REPORTS = 500


@dataclass
class DemoSummary:
    lines: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, what
    api_key: str = ""


def demo_secret(purpose: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"citypin-demo:{purpose}".encode(), hashlib.sha256).hexdigest()
    return digest[:16]


def load_geography(summary: DemoSummary) -> None:
    admin = DATA / "vietnam_admin"
    province = import_areas(admin / "92_can_tho_province.geojson", "province", "code", "fullName", "fullNameEn")
    wards = import_areas(admin / "92_can_tho_wards.geojson", "ward", "code", "fullName", "fullNameEn", parent_code="92")
    roads = import_assets(
        DATA / "vietnam_roads" / "vn_national_roads.geojson", "roads", FID, "cap_duong", "ten",
        class_map={"Quốc Gia": "national", "Cấp Tỉnh": "provincial", "Cấp Huyện": "district", "Asean": "asean"},
        skip={"loai_duong": "Đường sắt"}, layer_name_vi="Đường bộ", layer_name_en="Roads",
    )
    summary.lines += [province.summary("province"), wards.summary("wards"), roads.summary("roads")]


def load_city(path: Path, summary: DemoSummary) -> None:
    """Departments, category groups, categories with attributes, and routing rules."""
    city = json.loads(path.read_text())
    jurisdiction = Area.objects.get(kind=city["jurisdiction"]["kind"], code=city["jurisdiction"]["code"])
    for d in city["departments"]:
        Department.objects.update_or_create(code=d["code"], defaults={
            "name_vi": d["name_vi"], "name_en": d["name_en"], "email": d.get("email", ""),
            "is_operations_center": d.get("is_operations_center", False),
            "jurisdiction": jurisdiction if d.get("is_operations_center") else None})
    wards = list(Area.objects.filter(kind="ward", parent=jurisdiction))
    template = city["ward_departments"]
    for ward in wards:
        names = {"code": ward.code, "name_vi": ward.name_vi, "name_en": ward.name_en}
        Department.objects.update_or_create(code=template["code"].format(**names), defaults={
            "name_vi": template["name_vi"].format(**names), "name_en": template["name_en"].format(**names)})
    for order, g in enumerate(city["groups"]):
        CategoryGroup.objects.update_or_create(code=g["code"], defaults={
            "name_vi": g["name_vi"], "name_en": g["name_en"], "order": order})
    groups = {g.code: g for g in CategoryGroup.objects.all()}
    for order, c in enumerate(city["categories"]):
        fields = {k: v for k, v in c.items() if k not in ("code", "group", "attributes")}
        category, _ = Category.objects.update_or_create(code=c["code"], defaults={
            **fields, "group": groups[c["group"]], "order": order})
        for position, a in enumerate(c["attributes"]):
            CategoryAttribute.objects.update_or_create(category=category, code=a["code"], defaults={
                **{k: v for k, v in a.items() if k != "code"}, "order": position})
        category.attributes.exclude(code__in=[a["code"] for a in c["attributes"]]).delete()
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    layers = {layer.code: layer for layer in AssetLayer.objects.all()}
    for r in city["rules"]:
        RoutingRule.objects.update_or_create(name=r["name"], defaults={
            "kind": r["kind"], "category": categories.get(r.get("category")),
            "category_group": groups.get(r.get("category_group")),
            "area": jurisdiction if r["kind"] == "default" else None,
            "asset_layer": layers.get(r.get("asset_layer")), "asset_class": r.get("asset_class", ""),
            "buffer_m": r.get("buffer_m", 0), "department": departments[r["department"]],
            "priority": r.get("priority", 0), "active": True})
    ward_rule = city["ward_rules"]
    for ward in wards:
        names = {"code": ward.code, "name_vi": ward.name_vi, "name_en": ward.name_en}
        RoutingRule.objects.update_or_create(name=ward_rule["name"].format(**names), defaults={
            "kind": RoutingRule.Kind.AREA, "category_group": groups[ward_rule["category_group"]], "area": ward,
            "department": departments[ward_rule["department"].format(**names)], "priority": 0, "active": True})
    summary.lines.append(
        f"city: {Department.objects.count()} departments, {Category.objects.count()} categories, "
        f"{RoutingRule.objects.count()} routing rules")
    load_staff(city["staff"], departments, summary)
    for t in city["response_templates"]:
        # Keyed on the text: titles were once "vi / en" in one field, and are updated in place.
        ResponseTemplate.objects.update_or_create(body_vi=t["body_vi"], department=None, defaults=t)


def load_staff(staff: list[dict], departments: dict[str, Department], summary: DemoSummary) -> None:
    User = get_user_model()
    for s in staff:
        first, _, last = s["name"].rpartition(" ")
        user, _ = User.objects.update_or_create(username=s["username"], defaults={
            "first_name": last, "last_name": first, "is_staff": True, "is_superuser": s.get("admin", False),
            "email": f"{s['username']}@example.vn"})
        password = demo_secret(f"password:{s['username']}")
        user.set_password(password)
        user.save()
        department = departments[s["department"]]
        StaffMembership.objects.update_or_create(user=user, department=department, defaults={"role": s["role"]})
        summary.accounts.append((s["username"], password, f"{s['role']}, {department.name_en}"))


# Sample report texts per category, as citizens write them.
TEXTS = {
    "pothole": ["Ổ gà lớn giữa đường, xe máy dễ té.", "Mặt đường lún sâu sau mưa.", "Nhiều ổ gà liên tiếp gần ngã tư."],
    "damaged-sidewalk": ["Gạch vỉa hè bị bong tróc.", "Vỉa hè sụt lún, người đi bộ phải xuống lòng đường."],
    "traffic-signal": ["Đèn tín hiệu tắt từ sáng.", "Đèn đỏ nhấp nháy liên tục, kẹt xe."],
    "streetlight": ["Cả dãy đèn đường không sáng, rất tối.", "Đèn chập chờn cả đêm."],
    "fallen-tree": ["Cây đổ chắn nửa đường sau cơn giông.", "Cành cây lớn sắp gãy trên lối đi."],
    "flooding": ["Triều cường, nước ngập tới yên xe.", "Mưa lớn, đường ngập sâu không thoát kịp."],
    "blocked-drain": ["Hố ga mất nắp, rất nguy hiểm.", "Cống bị rác làm tắc, nước đọng bốc mùi."],
    "water-leak": ["Ống nước vỡ, nước chảy tràn ra đường.", "Rò rỉ nước sạch ở lề đường nhiều ngày."],
    "garbage": ["Rác tồn đọng 3 ngày chưa thu gom.", "Bãi rác tự phát cạnh kênh."],
    "pollution": ["Khói đốt rác mỗi tối.", "Nước thải đổ thẳng ra kênh, mùi hôi nồng."],
    "sidewalk-encroachment": ["Quán ăn lấn chiếm hết vỉa hè.", "Xe đậu tràn lòng đường trước chợ."],
    "illegal-construction": ["Công trình xây thêm tầng không có giấy phép.", "Xây dựng lấn ra hành lang kênh."],
    "noise": ["Karaoke ồn ào sau 22 giờ.", "Công trình thi công ban đêm gây ồn."],
    "power-hazard": ["Dây điện đứt rơi xuống vỉa hè.", "Trụ điện nghiêng sau mưa bão."],
}
ATTRIBUTE_SAMPLES = {
    "pothole": {"size": ["small", "medium", "large"]}, "streetlight": {"state": ["off", "flickering"]},
    "fallen-tree": {"blocking": ["yes", "no"]}, "flooding": {"depth_cm": [15, 30, 45, 60]},
    "pollution": {"kind": [["smoke"], ["odour"], ["odour", "wastewater"]]},
    "traffic-signal": {"intersection": ["Ngã tư Nguyễn Văn Cừ – 30/4", "Ngã ba Cái Răng", "Vòng xoay Hùng Vương"]},
}
# Status mix of an active city after two months: most recent reports still open.
STATUS_WEIGHTS = [("new", 30), ("acknowledged", 15), ("in_progress", 20), ("resolved", 22), ("closed", 10), ("rejected", 3)]
PATHS = {
    "new": [], "acknowledged": ["acknowledged"], "in_progress": ["acknowledged", "in_progress"],
    "resolved": ["acknowledged", "in_progress", "resolved"], "closed": ["acknowledged", "in_progress", "resolved", "closed"],
    "rejected": ["rejected"],
}
REPLIES = {
    "acknowledged": "Đã tiếp nhận, đơn vị sẽ kiểm tra hiện trường.",
    "in_progress": "Đã cử đội đến xử lý.",
    "resolved": "Đã xử lý xong. Cảm ơn bạn đã phản ánh.",
    "closed": "Đóng phản ánh.",
    "rejected": "Không thuộc phạm vi xử lý hoặc không xác minh được.",
}


# Places where the demo's history has a cluster, so the hotspot layer has something to show:
# (category, ward code, how many reports, spread in metres).
CLUSTERS = [("flooding", "31135", 9, 120), ("garbage", "31186", 8, 100), ("streetlight", "31120", 6, 80),
            ("sidewalk-encroachment", "31147", 7, 60)]


def random_point_in(area: Area, rng: random.Random) -> Point:
    boundary = area.boundary
    prepared = boundary.prepared
    minx, miny, maxx, maxy = boundary.extent
    while True:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy), srid=4326)
        if prepared.covers(p):
            return p


def random_point_near_road(roads: list, rng: random.Random) -> Point:
    line = rng.choice(roads)
    p = line.interpolate_normalized(rng.random())
    return Point(p.x, p.y, srid=4326)


def backfill_due_times() -> int:
    """Targets for reports loaded before due times existed, from their own reporting time."""
    count = 0
    for report in Report.objects.filter(acknowledge_due_at__isnull=True).select_related("category"):
        report.acknowledge_due_at, report.resolve_due_at = due_times(report.category, report.created_at)
        report.save(update_fields=["acknowledge_due_at", "resolve_due_at"])
        count += 1
    return count


@transaction.atomic
def load_sample_reports(summary: DemoSummary, count: int = SAMPLE_REPORTS, seed: int = 92) -> None:
    if Report.objects.exists():
        summary.lines.append(f"reports: {Report.objects.count()} already there, none added; "
                             f"due times set on {backfill_due_times()} loaded before targets existed")
        return
    rng = random.Random(seed)
    wards = list(Area.objects.filter(kind="ward", parent__code="92"))
    # Denser in the small urban wards: weight ∝ 1/√area.
    weights = [1 / max(w.area_m2, 1) ** 0.5 for w in wards]
    province = Area.objects.get(kind="province", code="92").boundary.prepared
    roads = [g for a in Asset.objects.filter(layer__code="roads", asset_class="national")
             for g in (a.geom if a.geom.geom_type.startswith("Multi") else [a.geom]) if province.intersects(g)]
    categories = list(Category.objects.filter(active=True))
    by_code = {c.code: c for c in categories}
    wards_by_code = {w.code: w for w in wards}
    clustered = [(by_code[code], wards_by_code[ward].boundary.point_on_surface, spread)
                 for code, ward, n, spread in CLUSTERS for _ in range(n)]
    now = timezone.now()
    made = 0
    while made < count:
        category = rng.choice(categories)
        if clustered:
            category, centre, spread = clustered.pop()
            point = offset_point(centre, abs(rng.gauss(0, spread / 2)), rng.uniform(0, 360))
        elif category.code == "pothole" and roads and rng.random() < 0.4:
            point = random_point_near_road(roads, rng)
            if not province.covers(point):
                continue
        else:
            point = random_point_in(rng.choices(wards, weights)[0], rng)
        attributes = {code: rng.choice(choices) for code, choices in ATTRIBUTE_SAMPLES.get(category.code, {}).items()}
        reporter = Reporter(name=rng.choice(["Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn", "Võ Thị Hoa"]),
                            email=f"nguoidan{rng.randint(1, 999)}@example.vn")
        made += 1
        age_hours = rng.uniform(1, 24 * 20) if made <= sum(c[2] for c in CLUSTERS) else rng.uniform(1, 24 * 60)
        created = now - timedelta(hours=age_hours)
        report = submit_report(ReportDraft(
            category_code=category.code, lon=point.x, lat=point.y, location_accuracy_m=rng.choice([5, 8, 10, 15]),
            description=rng.choice(TEXTS[category.code]), attributes=attributes, reporter=reporter,
            source=rng.choice([Report.Source.WEB, Report.Source.WEB, Report.Source.API, Report.Source.PHONE]),
            created_at=created), notify=False)
        status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        if age_hours < 24 and status != "new":
            status = rng.choice(["new", "acknowledged"])
        Report.objects.filter(pk=report.pk).update(status=status)
        previous, when, acknowledged_at = "new", created, None
        for step in PATHS[status]:
            when = min(when + timedelta(hours=rng.uniform(1, age_hours / 5 + 1)), now)
            record(report, ReportEvent.Kind.STATUS_CHANGED, from_status=previous, to_status=step,
                   message=REPLIES[step], public=True, at=when)
            previous, acknowledged_at = step, acknowledged_at or when
        resolved_at = when if status in ("resolved", "closed") else None
        Report.objects.filter(pk=report.pk).update(updated_at=when, resolved_at=resolved_at,
                                                   acknowledged_at=acknowledged_at)
    summary.lines.append(f"reports: {made} sample reports created")


def load_demo() -> DemoSummary:
    summary = DemoSummary()
    with transaction.atomic():
        load_geography(summary)
        load_city(CITY, summary)
        key, raw = ApiKey.issue("Demo Open311 client", demo_secret("open311-key") + demo_secret("open311-key-2"))
        summary.api_key = raw
    load_sample_reports(summary)
    summary.lines.append(refresh_hotspots(full=True).summary())
    return summary
