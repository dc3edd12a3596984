# A ward's newest reports, for its Atom feed (incidents/feeds). Built CONCURRENTLY: on a city's
# table of a million reports the index takes seconds, during which intake keeps writing.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('incidents', '0024_rate_counts'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='report',
            index=models.Index(fields=['ward', '-created_at', '-id'], name='report_ward_created'),
        ),
    ]
