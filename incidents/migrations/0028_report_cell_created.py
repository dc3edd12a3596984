"""An index of reports by place and time at once, for the public bbox list's time windows
(read/reports.py), so that a window reads about its own reports however long the history grows.

report_public_point_created (0027), GiST on (public_location, created_at), splits its tree
mostly by the first column, the place: each window still walked the index entries of every
report its box ever had (bench/scale.py: 2,215 buffers at 1,000,000 reports, 3,379 at
10,000,000). report_cell_created is a btree on (cell of the public point, created_at): the
cells are squares of 0.005° (about 550 m) of lon/lat (SRID 4326), numbered by
citypin_cell(point); a window asks for the box's cells, each one range of the btree holding
exactly the cell's reports of the window, whatever came before. The point itself is included,
so that counting a window (read/reports.WINDOW_COUNT_SQL) tests the box on the index entries
alone (an index-only scan) instead of fetching the rows of the cells' parts outside the box.

An N-D R-tree over (lon, lat, scaled time) (PostGIS gist_geometry_ops_nd) was measured first
and not kept: built by insertion, without the sorted build of the 2-D GiST, its pages overlap
so much that a window of a 3 km box read ~650 index pages at 1,000,000 reports (the SP-GiST
N-D one: 35,000), where this btree reads ~60.

citypin_cell is IMMUTABLE (floor of the coordinates times 200), so the index can hold it; the
list computes the same numbers in Python (read/reports.box_cells). Built CONCURRENTLY: intake
keeps writing meanwhile (minutes on a table of ten million)."""

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION citypin_cell(point geometry) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT ((floor(ST_X(point) * 200) + 36000) * 36001 + floor(ST_Y(point) * 200) + 18000)::bigint $$;
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0027_report_page_indexes")]

    operations = [
        migrations.RunSQL(FUNCTION_SQL, "DROP FUNCTION IF EXISTS citypin_cell(geometry);"),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS report_cell_created ON incidents_report "
            "USING btree (citypin_cell(public_location), created_at) INCLUDE (public_location);",
            "DROP INDEX CONCURRENTLY IF EXISTS report_cell_created;",
        ),
    ]
