"""Database-side spatial support for areas and assets, whoever writes them (the admin, an
import, raw SQL):

- area_m2: ST_Area on the geography (m² on the WGS-84 ellipsoid), by a trigger;
- geo_areapart / geo_assetpart: each boundary or asset geometry subdivided into pieces of at
  most 64 vertices (ST_Subdivide), by a trigger, for fast point-in-area and distance tests
  through the GiST index;
- expression GiST indexes on the geography casts, so ST_DWithin(x::geography, p, metres)
  is an index scan.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION geo_area_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.area_m2 := ST_Area(NEW.boundary::geography);
    RETURN NEW;
END $$;

CREATE TRIGGER geo_area_derive BEFORE INSERT OR UPDATE OF boundary ON geo_area
FOR EACH ROW EXECUTE FUNCTION geo_area_derive();

CREATE FUNCTION geo_area_subdivide() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM geo_areapart WHERE area_id = NEW.id;
    INSERT INTO geo_areapart (area_id, geom)
    SELECT NEW.id, part FROM ST_Subdivide(NEW.boundary, 64) AS part
    WHERE GeometryType(part) = 'POLYGON';
    RETURN NULL;
END $$;

CREATE TRIGGER geo_area_subdivide AFTER INSERT OR UPDATE OF boundary ON geo_area
FOR EACH ROW EXECUTE FUNCTION geo_area_subdivide();

CREATE FUNCTION geo_asset_subdivide() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM geo_assetpart WHERE asset_id = NEW.id;
    INSERT INTO geo_assetpart (asset_id, geom)
    SELECT NEW.id, part FROM ST_Subdivide(NEW.geom, 64) AS part;
    RETURN NULL;
END $$;

CREATE TRIGGER geo_asset_subdivide AFTER INSERT OR UPDATE OF geom ON geo_asset
FOR EACH ROW EXECUTE FUNCTION geo_asset_subdivide();

CREATE INDEX geo_areapart_geom_geog ON geo_areapart USING gist ((geom::geography));
CREATE INDEX geo_assetpart_geom_geog ON geo_assetpart USING gist ((geom::geography));
"""

BACKWARD = """
DROP INDEX geo_assetpart_geom_geog;
DROP INDEX geo_areapart_geom_geog;
DROP TRIGGER geo_asset_subdivide ON geo_asset;
DROP FUNCTION geo_asset_subdivide();
DROP TRIGGER geo_area_subdivide ON geo_area;
DROP FUNCTION geo_area_subdivide();
DROP TRIGGER geo_area_derive ON geo_area;
DROP FUNCTION geo_area_derive();
"""


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]


    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
