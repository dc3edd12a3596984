"""Two indexes so that the public bbox list and the console list read a page's worth of reports,
not every report a box ever had (bench/scale.py: at 10,000,000 reports a 2 × 2 km box's newest
page read 540,439 buffers, a department agent's console list 931 against 24 at 1,000,000):

- report_public_point_created: GiST on (public_location, created_at) (btree_gist indexes the
  time), for the public list's expanding time windows (read/reports.py): a box and "created
  since" are both index conditions, so only the window's reports are fetched from the table;
- report_open_location: GiST on (location, department_id) over open reports only, which the
  console's list and map use when the statuses asked for are all open (read/staff.py): a
  department's open work in a map view without the closed history. (Operations only: the
  comments changed after it was first committed, nothing it does.)

Built CONCURRENTLY: intake keeps writing meanwhile (minutes on a table of ten million)."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0026_incident_open_recent_geog")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS report_public_point_created ON incidents_report "
            "USING gist (public_location, created_at);",
            "DROP INDEX CONCURRENTLY IF EXISTS report_public_point_created;",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS report_open_location ON incidents_report "
            "USING gist (location, department_id) "
            "WHERE status IN ('new', 'acknowledged', 'in_progress', 'reopened');",
            "DROP INDEX CONCURRENTLY IF EXISTS report_open_location;",
        ),
    ]
