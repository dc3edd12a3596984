"""The world of the forwarding tests: the shared demo-like world (tests/world.py), with the
construction department's back office configured. The back office is either Citypin itself
(live_server, the end-to-end tests) or a scripted GeoReport v2 server (backoffice.py)."""

import pytest

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Category, CategoryAttribute, Open311Endpoint, Open311Service
from tests.world import World, build_world

KEY_ENV = "CITYPIN_OPEN311_KEY_CONSTRUCTION"
MARKER = "marker5c1e"  # in the reporter's name, e-mail and phone: private


@pytest.fixture
def world(transactional_db, settings, monkeypatch):
    """Committed data (the back office and the outbox's threads read it from connections of
    their own). A pavement category in ward A goes to the ward committee, which has no back
    office: Citypin as the construction department's back office files our potholes there,
    so the forwarded copy is not forwarded again."""
    settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE = True  # 127.0.0.1 back offices
    settings.CITYPIN_OPEN311_TIMEOUT = 2
    monkeypatch.setenv(KEY_ENV, "back-office-key")
    w = World()
    build_world(w)
    w.pavement = Category.objects.create(code="pavement", group=w.order_group, name_vi="Vỉa hè", name_en="Pavement")
    CategoryAttribute.objects.create(category=w.pavement, code="size", datatype="singlevaluelist",
                                     name_vi="Kích thước", values=[{"key": "small"}, {"key": "large"}])
    return w


def configure(w, base_url: str, **options) -> Open311Endpoint:
    endpoint = Open311Endpoint.objects.create(department=w.construction, base_url=base_url, api_key_env=KEY_ENV,
                                              **options)
    Open311Service.objects.create(endpoint=endpoint, category=w.pothole, service_code="pavement")
    return endpoint


def submit_pothole():
    """A pothole in ward A, away from the national road: the construction department's."""
    return submit_report(ReportDraft(
        category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large", "depth_cm": 12},
        address="12 Đường Thử", description="Ổ gà sâu trước nhà số 12",
        reporter=Reporter(name=f"Nguyễn {MARKER}", email=f"{MARKER}@example.vn", phone="0901 555 123")))
