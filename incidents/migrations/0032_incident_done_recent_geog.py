"""Recurrence (matching.RECURRENCE_SQL) looks only at resolved and closed incidents: a GiST index
on (location::geography, resolved_at) over those (btree_gist indexes the time) replaces the
geography index over every incident, which no other query of Citypin used (bench/incidents.py's
bare baseline did: it now probes the open incidents' index, as the candidates do).

The old index held every row version of every incident. In a storm each joining report moves
its open incident (a new row version, and an entry in each of the incident's spatial indexes), so
the recurrence probe at a busy spot stepped over the dead entries of the open incidents there:
0.30 ms of database time per report in bench/storm.py, against 0.05 ms alone. Open incidents
are never in the new index, and their updates no longer write to it. Built CONCURRENTLY before
the old index goes: intake keeps writing meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0031_fold_tile_cells_in_the_worker")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS incident_done_recent_geog ON incidents_incident "
            "USING gist ((location::geography), resolved_at) WHERE status IN ('resolved', 'closed');",
            "DROP INDEX CONCURRENTLY IF EXISTS incident_done_recent_geog;",
        ),
        migrations.RunSQL(
            "DROP INDEX CONCURRENTLY IF EXISTS incidents_incident_location_geog;",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS incidents_incident_location_geog ON incidents_incident "
            "USING gist ((location::geography));",
        ),
    ]
