"""Hotspots, cheaper to write and to draw.

- Every full refresh rewrites the hotspots in bulk, so each index on them costs on every run:
  the centroid is only shown, never searched (no index), and the incremental refresh finds the
  hotspot near a new report through the footprint's geometry index (a box in degrees, then the
  exact distance on the sphere), so the geography index on the footprint goes.
- citypin_pad(shape, metres, lat): the shape (in lon/lat) grown by `metres`, drawn in the local
  metric scale at latitude `lat` (WGS 84 lengths of a degree of latitude and of longitude
  there). For a footprint a few hundred metres across this is the buffer in a metric SRID to a
  few centimetres, without projecting the shape there and back (which cost twice the buffer).
- citypin_local_metres(shape, lat): the shape scaled to metres at latitude `lat`; planar
  distances in it between shapes near that latitude are metres on the ellipsoid (to 0.01 % over
  a few hundred metres), at the cost of a multiplication instead of a geodesic.
"""

import django.contrib.gis.db.models.fields
from django.db import migrations

# One SQL expression (no FROM): the planner inlines it into the calling query, so it costs what
# its three calls cost. lat_m and lon_m are the metres in a degree of latitude and of longitude.
LAT_M = "(111132.92 - 559.82 * cos(radians(2 * lat)) + 1.175 * cos(radians(4 * lat)))"
LON_M = "(111412.84 * cos(radians(lat)) - 93.5 * cos(radians(3 * lat)))"
PAD_SQL = f"""
CREATE OR REPLACE FUNCTION citypin_pad(shape geometry, metres float8, lat float8) RETURNS geometry
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ST_Scale(ST_Buffer(ST_Scale(shape, {LON_M} / {LAT_M}, 1), metres / {LAT_M}, 4), {LAT_M} / {LON_M}, 1) $$;
CREATE OR REPLACE FUNCTION citypin_local_metres(shape geometry, lat float8) RETURNS geometry
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ST_Scale(shape, {LON_M}, {LAT_M}) $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0008_hotspot_covering_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="hotspot",
            name="centroid",
            field=django.contrib.gis.db.models.fields.PointField(spatial_index=False, srid=4326),
        ),
        migrations.RunSQL(
            "DROP INDEX incidents_hotspot_footprint_geog;",
            "CREATE INDEX incidents_hotspot_footprint_geog ON incidents_hotspot USING gist ((footprint::geography));",
        ),
        migrations.RunSQL(PAD_SQL, "DROP FUNCTION citypin_pad(geometry, float8, float8); "
                                   "DROP FUNCTION citypin_local_metres(geometry, float8);"),
    ]
