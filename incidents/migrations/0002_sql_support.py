"""Database-side support the ORM does not declare:

- the sequence behind a report's public id (CT-2026-000123): unique without locking, and not
  tied to the primary key;
- GiST indexes on the geography casts of report and incident locations, for distance tests in
  metres (ST_DWithin on geography);
- pg_trgm and unaccent, for the text similarity of duplicate scoring (Vietnamese with and
  without diacritics compare equal).
"""

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
        migrations.RunSQL(
            "CREATE INDEX incidents_report_public_location_geog ON incidents_report "
            "USING gist ((public_location::geography));",
            "DROP INDEX incidents_report_public_location_geog;",
        ),
        migrations.RunSQL(
            "CREATE INDEX incidents_incident_location_geog ON incidents_incident USING gist ((location::geography));",
            "DROP INDEX incidents_incident_location_geog;",
        ),
        migrations.RunSQL(
            "CREATE INDEX incidents_hotspot_footprint_geog ON incidents_hotspot USING gist ((footprint::geography));",
            "DROP INDEX incidents_hotspot_footprint_geog;",
        ),
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS unaccent;",
            migrations.RunSQL.noop,
        ),
    ]
