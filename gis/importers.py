"""Import areas and assets from any file GDAL reads (GeoJSON, Shapefile, GeoPackage…).

You name the source fields for code, names and parent; geometries are transformed to SRID
4326, repaired with GEOS MakeValid (the algorithm behind PostGIS ST_MakeValid) or rejected
with the feature's id, and upserted by code, so re-running an import updates in place.
The whole import runs in one transaction: a crash leaves nothing half-imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.geos import GEOSGeometry, MultiLineString, MultiPolygon
from django.db import transaction

from gis.models import Area, Asset, AssetLayer


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[str] = field(default_factory=list)

    def summary(self, what: str) -> str:
        text = f"{what}: {self.created} created, {self.updated} updated, {len(self.rejected)} rejected"
        return text + ("".join(f"\n  rejected {r}" for r in self.rejected) if self.rejected else "")


class ImportFailed(Exception):
    """The file or the named fields cannot be used at all (nothing was imported)."""


def _open_layer(path: str | Path, layer: int | str = 0):
    try:
        return DataSource(str(path))[layer]
    except (GDALException, IndexError, KeyError) as exc:
        raise ImportFailed(f"cannot read {path}: {exc}") from None


def _check_fields(layer, *names: str | None) -> None:
    missing = [n for n in names if n and n != FID and n not in layer.fields]
    if missing:
        raise ImportFailed(f"field(s) {', '.join(missing)} not in the file; it has: {', '.join(layer.fields)}")


FID = "@fid"  # as a code field: the feature's id in the file, for sources with no unique field


def _value(feature, name: str | None) -> str:
    if not name:
        return ""
    if name == FID:
        return str(feature.fid)
    value = feature.get(name)
    return "" if value is None else str(value).strip()


def _geometry(feature) -> GEOSGeometry:
    geom = feature.geom
    if geom.srs is not None and geom.srs.srid != 4326:
        geom.transform(4326)
    g = GEOSGeometry(geom.wkb, srid=4326)
    if not g.valid:
        g = g.make_valid()
    return g


def _parts(g: GEOSGeometry, types: tuple[str, ...]) -> list[GEOSGeometry]:
    """The simple parts of `g` whose type is in `types` (MakeValid may return a collection)."""
    if g.geom_type in types:
        return [g]
    if g.geom_type.startswith("Multi") or g.geom_type == "GeometryCollection":
        return [p for part in g for p in _parts(part, types)]
    return []


def _as_multipolygon(g: GEOSGeometry) -> MultiPolygon | None:
    parts = [p for p in _parts(g, ("Polygon",)) if not p.empty and p.area > 0]
    return MultiPolygon(parts, srid=4326) if parts else None


def _as_lines_or_points(g: GEOSGeometry) -> GEOSGeometry | None:
    if g.geom_type in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        return None if g.empty else g
    lines = [p for p in _parts(g, ("LineString",)) if not p.empty]
    return MultiLineString(lines, srid=4326) if lines else None


def _usable_features(source, code_field: str, shape, what: str, result: "ImportResult",
                     skip: dict[str, str] | None = None):
    """Yield (feature, code, geometry) for each feature worth importing; record why the others
    are rejected. `shape` turns the repaired geometry into the wanted type, or None."""
    seen: dict[str, int] = {}
    for feature in source:
        if any(_value(feature, f) == v for f, v in (skip or {}).items()):
            continue
        code = _value(feature, code_field)
        label = f"feature {feature.fid} ({code or 'no code'})"
        if code in seen:
            result.rejected.append(f"{label}: {code_field} repeats feature {seen[code]}")
            continue
        seen[code] = feature.fid
        if not code:
            result.rejected.append(f"{label}: empty {code_field}")
            continue
        try:
            geom = shape(_geometry(feature))
        except (GDALException, ValueError) as exc:
            result.rejected.append(f"{label}: unreadable geometry ({exc})")
            continue
        if geom is None:
            result.rejected.append(f"{label}: {what}, even after repair")
            continue
        yield feature, code, geom


@transaction.atomic
def import_areas(path: str | Path, kind: str, code_field: str, name_field: str, name_en_field: str | None = None,
                 parent_field: str | None = None, parent_code: str | None = None, layer: int | str = 0) -> ImportResult:
    """Upsert areas of `kind` from a polygon layer. The parent is an area code taken from
    `parent_field`, or `parent_code` for all; it must already exist."""
    if kind not in Area.Kind.values:
        raise ImportFailed(f"unknown kind {kind!r}; use one of {', '.join(Area.Kind.values)}")
    source = _open_layer(path, layer)
    _check_fields(source, code_field, name_field, name_en_field, parent_field)
    parents = {a.code: a for a in Area.objects.exclude(kind=kind)}
    if parent_code and parent_code not in parents:
        raise ImportFailed(f"parent area {parent_code!r} does not exist; import it first")
    existing = {a.code: a for a in Area.objects.filter(kind=kind)}
    result = ImportResult()
    for feature, code, boundary in _usable_features(source, code_field, _as_multipolygon, "no polygon area", result):
        parent = parents.get(_value(feature, parent_field) or parent_code or "")
        area = existing.get(code) or Area(kind=kind, code=code)
        result.updated += area.pk is not None
        result.created += area.pk is None
        area.name_vi = _value(feature, name_field)[:200] or code
        area.name_en = _value(feature, name_en_field)[:200]
        area.parent = parent
        area.boundary = boundary
        area.save()
        existing[code] = area
    return result


@transaction.atomic
def import_assets(path: str | Path, layer_code: str, code_field: str, class_field: str, name_field: str | None = None,
                  class_map: dict[str, str] | None = None, skip: dict[str, str] | None = None,
                  layer_name_vi: str = "", layer_name_en: str = "", layer: int | str = 0) -> ImportResult:
    """Upsert assets (lines or points) into the asset layer `layer_code` (created if new).

    `class_map` renames source classes (e.g. {"Quốc Gia": "national"}); features whose field
    equals a `skip` value (e.g. {"loai_duong": "Đường sắt"}, railways) are left out.
    """
    source = _open_layer(path, layer)
    _check_fields(source, code_field, class_field, name_field, *(skip or {}))
    asset_layer, _ = AssetLayer.objects.get_or_create(
        code=layer_code, defaults={"name_vi": layer_name_vi or layer_code, "name_en": layer_name_en or layer_code}
    )
    existing = {a.code: a for a in Asset.objects.filter(layer=asset_layer)}
    result = ImportResult()
    for feature, code, geom in _usable_features(source, code_field, _as_lines_or_points, "not a line or point",
                                                result, skip):
        source_class = _value(feature, class_field)
        asset = existing.get(code) or Asset(layer=asset_layer, code=code)
        result.updated += asset.pk is not None
        result.created += asset.pk is None
        asset.name = _value(feature, name_field)[:200]
        asset.asset_class = (class_map or {}).get(source_class, source_class)[:40]
        asset.geom = geom
        asset.properties = {f: _value(feature, f) for f in source.fields}
        asset.save()
        existing[code] = asset
    return result
