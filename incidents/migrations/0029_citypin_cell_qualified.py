"""citypin_cell (0028) names PostGIS's ST_X and ST_Y with their schema, as citypin_unaccent
(0006) names unaccent: pg_restore runs with an empty search_path, so rebuilding
report_cell_created from a backup could not find them ("function st_x(public.geometry) does not
exist"). The body computes the same numbers, so the index stays as it is."""

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION citypin_cell(point geometry) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT ((floor(public.ST_X(point) * 200) + 36000) * 36001 + floor(public.ST_Y(point) * 200) + 18000)::bigint $$;
"""
UNQUALIFIED_SQL = """
CREATE OR REPLACE FUNCTION citypin_cell(point geometry) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT ((floor(ST_X(point) * 200) + 36000) * 36001 + floor(ST_Y(point) * 200) + 18000)::bigint $$;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0028_report_cell_created")]

    operations = [migrations.RunSQL(FUNCTION_SQL, UNQUALIFIED_SQL)]
