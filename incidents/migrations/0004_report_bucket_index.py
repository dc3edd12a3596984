"""A B-tree on (category, 0.01° bucket of the location, created_at), carrying the location:
"this category's reports in this bucket during this window" for the previous-window counts of
hotspots, answered from the index alone (index-only scan, once vacuum has marked the pages).
The bucket is a lookup key (about 1.1 km at Cần Thơ's latitude), not a distance: the exact
test is ST_Covers on the included location."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_category_location_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX incidents_report_bucket ON incidents_report (category_id, "
            "(floor(ST_X(location) * 100)::int), (floor(ST_Y(location) * 100)::int), created_at) "
            "INCLUDE (location) WHERE location IS NOT NULL;",
            "DROP INDEX incidents_report_bucket;",
        ),
    ]
