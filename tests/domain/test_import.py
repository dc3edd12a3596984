"""import_areas / import_assets: counts, repair or rejection of bad geometry, updates in place."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gis.importers import import_areas, import_assets
from gis.models import Area, Asset

SQUARE = [[[105.7, 10.0], [105.8, 10.0], [105.8, 10.1], [105.7, 10.1], [105.7, 10.0]]]
# A bow-tie: self-intersecting, invalid; MakeValid turns it into two triangles.
BOWTIE = [[[105.7, 10.0], [105.8, 10.1], [105.8, 10.0], [105.7, 10.1], [105.7, 10.0]]]
# A polygon with no area: repair gives a line, which is not an area, so it is rejected.
FLAT = [[[105.7, 10.0], [105.8, 10.0], [105.7, 10.0], [105.7, 10.0]]]


def feature(fid, code, name, coords, kind="Polygon", **props):
    return {"type": "Feature", "id": fid, "properties": {"code": code, "name": name, **props},
            "geometry": {"type": kind, "coordinates": coords}}


def write(tmp_path, features, name="areas.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.django_db
def test_areas_import_repairs_invalid_geometry_and_rejects_unusable_ones(tmp_path):
    path = write(tmp_path, [feature(1, "W1", "Phường Một", SQUARE), feature(2, "W2", "Phường Hai", BOWTIE),
                            feature(3, "W3", "Phường Ba", FLAT), feature(4, "", "Không mã", SQUARE)])
    result = import_areas(path, "ward", "code", "name")
    assert (result.created, result.updated) == (2, 0)
    assert len(result.rejected) == 2
    assert "feature 2" in result.rejected[0] or "W3" in result.rejected[0]
    assert any("W3" in r and "no polygon" in r for r in result.rejected)
    assert any("empty code" in r for r in result.rejected)
    bowtie = Area.objects.get(code="W2")
    assert bowtie.boundary.valid and len(bowtie.boundary) == 2
    assert Area.objects.get(code="W1").area_m2 == pytest.approx(10.96e6 * 11.06, rel=0.02)


@pytest.mark.django_db
def test_reimporting_updates_in_place(tmp_path):
    import_areas(write(tmp_path, [feature(1, "W1", "Cũ", SQUARE)]), "ward", "code", "name")
    result = import_areas(write(tmp_path, [feature(1, "W1", "Mới", SQUARE)]), "ward", "code", "name")
    assert (result.created, result.updated) == (0, 1)
    assert Area.objects.get(code="W1").name_vi == "Mới"


@pytest.mark.django_db
def test_repeated_code_in_one_file_is_rejected_not_overwritten(tmp_path):
    result = import_areas(write(tmp_path, [feature(1, "W1", "Một", SQUARE), feature(2, "W1", "Hai", SQUARE)]),
                          "ward", "code", "name")
    assert result.created == 1 and "repeats feature" in result.rejected[0]
    assert Area.objects.get(code="W1").name_vi == "Một"


@pytest.mark.django_db
def test_command_prints_counts_and_names_missing_fields(tmp_path):
    path = write(tmp_path, [feature(1, "W1", "Một", SQUARE)])
    out = StringIO()
    call_command("import_areas", str(path), kind="ward", code_field="code", name_field="name", stdout=out)
    assert out.getvalue().strip() == "areas: 1 created, 0 updated, 0 rejected"
    with pytest.raises(CommandError, match="nope"):
        call_command("import_areas", str(path), kind="ward", code_field="nope", name_field="name")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_areas", str(tmp_path / "missing.geojson"), kind="ward", code_field="code",
                     name_field="name")


@pytest.mark.django_db
def test_assets_import_maps_classes_and_skips_features(tmp_path):
    line = [[105.7, 10.05], [105.8, 10.05]]
    path = write(tmp_path, [
        feature(1, "R1", "Quốc lộ 1", line, "LineString", cap="Quốc Gia", loai="road"),
        feature(2, "R2", "Đường sắt", line, "LineString", cap="Quốc Gia", loai="rail"),
        feature(3, "R3", "Một vùng", SQUARE, "Polygon", cap="Tỉnh", loai="road"),
    ], "roads.geojson")
    result = import_assets(path, "roads", "code", "cap", "name", class_map={"Quốc Gia": "national"},
                           skip={"loai": "rail"})
    assert result.created == 1
    assert "not a line or point" in result.rejected[0]
    asset = Asset.objects.get()
    assert (asset.code, asset.asset_class, asset.layer.code) == ("R1", "national", "roads")


@pytest.mark.django_db
def test_import_is_all_or_nothing_when_it_fails_midway(tmp_path, monkeypatch):
    from gis import importers

    path = write(tmp_path, [feature(1, "W1", "Một", SQUARE), feature(2, "W2", "Hai", SQUARE)])
    calls = []
    original = Area.save

    def failing_save(self, *args, **kwargs):
        calls.append(self.code)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(self, *args, **kwargs)

    monkeypatch.setattr(Area, "save", failing_save)
    with pytest.raises(RuntimeError):
        importers.import_areas(path, "ward", "code", "name")
    assert Area.objects.count() == 0
