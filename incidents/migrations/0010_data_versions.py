"""Data versions: a counter per table, bumped by the database itself in the same transaction as
every statement that writes the table, so that a cached public output (a vector tile, an
export) can be revalidated with one tiny query instead of being rebuilt.

- citypin_data_version(table_name, slot, version): a table's version is the sum of its slots.
  Each write bumps the slot of its backend (pg_backend_pid() % 8), so concurrent writers rarely
  wait on the same row; the sum still grows with every committed write.
- The bump is transactional: a reader sees a version and the data it counts in one snapshot,
  and a write committed later always raises the version. A sequence could not promise that
  (its values are handed out before commit and in another order than commits).
- Statement-level triggers catch every writer (the domain's services, the admin, imports, bulk
  SQL and TRUNCATE), once per statement whatever the number of rows.
"""

from django.db import migrations

TABLES = ("incidents_report", "incidents_incident", "incidents_category", "incidents_department",
          "incidents_hotspot", "geo_area")

CREATE = """
CREATE TABLE citypin_data_version (
    table_name text NOT NULL,
    slot smallint NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (table_name, slot)
);
CREATE FUNCTION citypin_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citypin_data_version AS v (table_name, slot, version)
    VALUES (TG_TABLE_NAME, pg_backend_pid() % 8, 1)
    ON CONFLICT (table_name, slot) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;
""" + "".join(f"""
CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION citypin_bump_data_version();
""" for table in TABLES)

DROP = "".join(f"DROP TRIGGER {table}_data_version ON {table};\n" for table in TABLES) + """
DROP FUNCTION citypin_bump_data_version();
DROP TABLE citypin_data_version;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_hotspot_indexes"),
        ("geo", "0002_spatial_support"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
