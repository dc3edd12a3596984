"""What the Open311 tests share: the world with an Open311 client's key, and XML reading."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from incidents.models import ApiKey, CategoryAttribute
from tests.world import build_world

BASE = "/open311/v2"


def build_open311_world(test_class) -> None:
    """The hand-placed world (tests/world.py), a multivaluelist question on potholes, and the
    keys of one active and one revoked client application."""
    build_world(test_class)
    test_class.construction.email = "xay-dung@example.vn"
    test_class.construction.save()
    CategoryAttribute.objects.create(category=test_class.pothole, code="hazards", datatype="multivaluelist",
                                     name_vi="Nguy hiểm", name_en="Hazards", order=5,
                                     values=[{"key": "water", "name_vi": "Đọng nước", "name_en": "Standing water"},
                                             {"key": "night", "name_vi": "Tối", "name_en": "Unlit at night"}])
    test_class.key, test_class.raw_key = ApiKey.issue("Ứng dụng Thử", contact="dev@example.org")
    revoked, test_class.revoked_key = ApiKey.issue("Old app")
    revoked.revoke()


def xml_of(response) -> ET.Element:
    """The document's root element, parsed by a real XML parser after checking the declaration."""
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:80]
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(body)


def children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]
