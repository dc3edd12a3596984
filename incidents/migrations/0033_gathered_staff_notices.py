"""Gathering the staff mails of new reports in a storm (incidents.notices): a window per staff
address, and the reports whose mail waits for its end."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0032_incident_done_recent_geog"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffNoticeWindow",
            fields=[
                ("recipient", models.CharField(max_length=254, primary_key=True, serialize=False)),
                ("until", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="GatheredNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recipient", models.CharField(max_length=254)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="incidents.report"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["recipient", "id"], name="gathered_notice_recipient")],
            },
        ),
    ]
