"""Duplicate candidates look only at open incidents reported within the category's window: a
GiST index on (location::geography, last_reported_at) over open incidents (btree_gist indexes the
time), so the spatial probe at intake skips the incidents closed long ago, which pile up as the
years go by (bench/scale.py: at 10,000,000 reports the probe read every incident ever reported
within the radius). Built CONCURRENTLY: intake keeps writing meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0025_report_ward_created")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS incident_open_recent_geog ON incidents_incident "
            "USING gist ((location::geography), last_reported_at) "
            "WHERE status IN ('new', 'acknowledged', 'in_progress', 'reopened');",
            "DROP INDEX CONCURRENTLY IF EXISTS incident_open_recent_geog;",
        ),
    ]
