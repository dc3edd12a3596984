"""The number in a report's public id (CT-2026-000123) comes from its own sequence: unique
without locking, and not tied to the primary key. Plus a GiST index on location::geography for
distance queries in metres."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE incidents_report_public_seq START 1;",
            "DROP SEQUENCE incidents_report_public_seq;",
        ),
        migrations.RunSQL(
            "CREATE INDEX incidents_report_location_geog ON incidents_report USING gist ((location::geography));",
            "DROP INDEX incidents_report_location_geog;",
        ),
    ]
