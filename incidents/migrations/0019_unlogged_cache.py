"""The database cache (CACHES with DEBUG off: rate limits, sign-in lockouts, shared by every
gunicorn process) as an UNLOGGED table: every open-data read counts against its IP's limit, and
in a logged table each count was a commit waiting for the WAL to reach the disk (16 ms for a
conformance document under `make serve`). Counters need no crash safety: after a crash they
start again from zero. Same columns as Django's createcachetable, which then finds it there."""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE IF NOT EXISTS citypin_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS citypin_cache_expires ON citypin_cache (expires);
ALTER TABLE citypin_cache SET UNLOGGED;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0018_fold_own_changes")]

    operations = [migrations.RunSQL(CREATE, "DROP TABLE IF EXISTS citypin_cache")]
