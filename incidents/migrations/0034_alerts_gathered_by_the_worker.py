"""Immediate area alerts sent by the worker (incidents.alerts.send_immediate_alerts): the reports
made public that wait for it, and each subscription's window and the reports waiting in it."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("geo", "0003_place_search"),
        ("incidents", "0033_gathered_staff_notices"),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertDue",
            fields=[
                ("report", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="+", serialize=False, to="incidents.report")),
            ],
        ),
        migrations.AddField(
            model_name="areaalert",
            name="waiting",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), blank=True, db_default=[], editable=False, size=None),
        ),
        migrations.AddField(
            model_name="areaalert",
            name="waiting_count",
            field=models.PositiveIntegerField(db_default=0, editable=False),
        ),
        migrations.AddField(
            model_name="areaalert",
            name="window_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="areaalert",
            index=models.Index(condition=models.Q(("waiting_count__gt", 0)), fields=["window_until"], name="alert_waiting_window"),
        ),
    ]
