"""A small hand-placed world near Cần Thơ that a reader can check on paper (SRID 4326, lon/lat).

    lat 10.10 +-----------------+--------------+
              |                 |              |
              |     ward A      |    ward B    |   jurisdiction: the whole box,
    lat 10.05 |=================|==============|   road R (national) along lat 10.05
              |  (lon .70–.75)  | (lon .75–.79)|   ward B is narrower, so smaller
    lat 10.00 +-----------------+--------------+
           105.70            105.75         105.79   105.80 (strip .79–.80: no ward)

The road has a vertex at lon 105.72, where tests measure from it: geography treats an edge as a
great-circle arc, which bows a few decimetres north of the parallel between far vertices.
Points at a distance in metres are made with ST_Project on the geography, so "29 m from the
road" is 29 m on the ellipsoid, not a guess in degrees.
"""

from __future__ import annotations

from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

from gis.models import Area, Asset, AssetLayer
from gis.spatial import offset_point
from incidents.models import Category, CategoryAttribute, CategoryGroup, Department, RoutingRule


def box(minx: float, miny: float, maxx: float, maxy: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


def project(lon: float, lat: float, metres: float, azimuth_deg: float) -> tuple[float, float]:
    """The point `metres` away from (lon, lat) towards azimuth (0 = north, 90 = east)."""
    point = offset_point(Point(lon, lat, srid=4326), metres, azimuth_deg)
    return point.x, point.y


def build_world(test_class) -> None:
    """Create the world as attributes of `test_class` (call from setUpTestData)."""
    c = test_class
    c.province = Area.objects.create(kind="province", code="P", name_vi="Tỉnh Thử", name_en="Test Province",
                                     boundary=box(105.70, 10.00, 105.80, 10.10))
    c.ward_a = Area.objects.create(kind="ward", code="A", name_vi="Phường A", name_en="Ward A", parent=c.province,
                                   boundary=box(105.70, 10.00, 105.75, 10.10))
    c.ward_b = Area.objects.create(kind="ward", code="B", name_vi="Phường B", name_en="Ward B", parent=c.province,
                                   boundary=box(105.75, 10.00, 105.79, 10.10))
    c.roads = AssetLayer.objects.create(code="roads", name_vi="Đường", name_en="Roads")
    c.road = Asset.objects.create(layer=c.roads, code="R", name="Quốc lộ Thử", asset_class="national",
                                  geom=LineString((105.70, 10.05), (105.72, 10.05), (105.80, 10.05), srid=4326))

    c.ioc = Department.objects.create(code="ioc", name_vi="Trung tâm IOC", name_en="Operations Center",
                                      is_operations_center=True, jurisdiction=c.province)
    c.construction = Department.objects.create(code="construction", name_vi="Sở Xây dựng", name_en="Construction")
    c.road_authority = Department.objects.create(code="road-authority", name_vi="Khu QLĐB", name_en="Road Authority")
    c.committee_a = Department.objects.create(code="ubnd-a", name_vi="UBND Phường A", name_en="Ward A Committee")
    c.committee_b = Department.objects.create(code="ubnd-b", name_vi="UBND Phường B", name_en="Ward B Committee")
    c.market_board = Department.objects.create(code="market", name_vi="Ban quản lý chợ", name_en="Market Board")

    c.roads_group = CategoryGroup.objects.create(code="roads", name_vi="Đường", name_en="Roads")
    c.order_group = CategoryGroup.objects.create(code="order", name_vi="Trật tự", name_en="Order")
    c.pothole = Category.objects.create(code="pothole", group=c.roads_group, name_vi="Ổ gà", name_en="Pothole")
    CategoryAttribute.objects.create(category=c.pothole, code="size", datatype="singlevaluelist", required=True,
                                     name_vi="Kích thước", name_en="Size",
                                     values=[{"key": "small"}, {"key": "large"}])
    CategoryAttribute.objects.create(category=c.pothole, code="depth_cm", datatype="number", name_vi="Độ sâu",
                                     min_value=0, max_value=200)
    c.encroachment = Category.objects.create(code="encroachment", group=c.order_group, name_vi="Lấn chiếm",
                                             name_en="Encroachment")
    c.construction_illegal = Category.objects.create(code="illegal-construction", group=c.order_group,
                                                     name_vi="Xây dựng trái phép", allow_anonymous=False)
    c.retired = Category.objects.create(code="retired", group=c.roads_group, name_vi="Cũ", active=False)
    c.orphan = Category.objects.create(code="orphan", group=CategoryGroup.objects.create(code="none", name_vi="Khác"),
                                       name_vi="Không có quy tắc")

    c.rule_road = RoutingRule.objects.create(name="pothole near national road", kind="asset", category=c.pothole,
                                             asset_layer=c.roads, asset_class="national", buffer_m=30,
                                             department=c.road_authority, priority=10)
    c.rule_roads_default = RoutingRule.objects.create(name="roads default", kind="default", category_group=c.roads_group,
                                                      area=c.province, department=c.construction)
    c.rule_ward_a = RoutingRule.objects.create(name="order in A", kind="area", category_group=c.order_group,
                                               area=c.ward_a, department=c.committee_a)
    c.rule_ward_b = RoutingRule.objects.create(name="order in B", kind="area", category_group=c.order_group,
                                               area=c.ward_b, department=c.committee_b)


class World:
    """A namespace to build the world into outside a TestCase class (pytest functions)."""
