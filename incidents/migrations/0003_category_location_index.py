"""A GiST index on (category_id, location::geography) (btree_gist lets GiST index the integer):
"reports of this category within N metres" is then one index probe. Hotspot refreshes ask
that for every new report and every touched hotspot; without it, PostgreSQL ANDs the spatial
index with the whole category's entries, which is hundreds of times slower at a million reports."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_sql_support")]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS btree_gist;", migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE INDEX incidents_report_category_geog ON incidents_report "
            "USING gist (category_id, (location::geography));",
            "DROP INDEX incidents_report_category_geog;",
        ),
    ]
