"""Two indexes for a report joining an incident, so that its cost stays the same however many
reports the incident holds (a street reported 2,000 times in a storm):
- report_incident_recent, a btree on (incident, id): matching scores the new report's text
  against the incident's last 20 reports (CANDIDATES_SQL), read as 20 index entries instead of
  every report of the incident, sorted. It replaces the foreign key's own index on (incident),
  whose lookups it serves as well.
- report_unlocated_incident, partial on (incident) where the report has no point: whether the
  incident holds such a report, known at once (matching.JOIN_SQL moves the incident by one step
  only when it holds none). Located reports, nearly all of intake, write nothing to it.
Built CONCURRENTLY before the old index goes: intake keeps writing meanwhile."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0029_citypin_cell_qualified")]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(fields=["incident", "id"], name="report_incident_recent"),
        ),
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(condition=models.Q(location__isnull=True), fields=["incident"],
                               name="report_unlocated_incident"),
        ),
        migrations.AlterField(
            model_name="report",
            name="incident",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="reports", to="incidents.incident", verbose_name="incident"),
        ),
    ]
