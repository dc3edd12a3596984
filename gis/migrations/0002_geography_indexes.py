"""Expression GiST indexes on the geography casts, so that ST_DWithin(x::geography, p, metres)
in routing and nearest-asset queries is an index scan rather than a table scan."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX geo_area_boundary_geog ON geo_area USING gist ((boundary::geography));",
            "DROP INDEX geo_area_boundary_geog;",
        ),
        migrations.RunSQL(
            "CREATE INDEX geo_asset_geom_geog ON geo_asset USING gist ((geom::geography));",
            "DROP INDEX geo_asset_geom_geog;",
        ),
    ]
