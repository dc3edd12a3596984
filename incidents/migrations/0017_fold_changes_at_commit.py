"""Data versions and kept grid counts change once per transaction, at commit, instead of once
per statement.

Migrations 0010 and 0012 updated a few shared rows (a table's version slot; the zoomed-out cells
every report falls in) in every writing statement. In one transaction with many savepoints (an
import: submit_report per row inside one atomic block) each update of the same row adds to a
chain of row versions that the next one walks, so the cost grew with the square of the rows:
1,500 status changes in savepoints took 41.5 s with those triggers and 2.2 s without.

Now each writing statement only appends: one row to citypin_data_change (which table changed)
and its grouped count changes to citypin_tile_cell_delta. A deferred constraint trigger folds
them at commit, once, in the top-level transaction: the versions rise by the number of changes
and the deltas are added to citypin_tile_cell, in key order. Readers add what they can see of
both appendices, which is only their own transaction's pending changes (others' are invisible
until folded at their commit), so a transaction still reads its own writes, and every other
reader sees versions and counts change atomically with the data.
"""

import importlib

from django.db import migrations

tile_cells = importlib.import_module("incidents.migrations.0012_tile_cells")
data_versions = importlib.import_module("incidents.migrations.0010_data_versions")

COLUMNS = "layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my"

# 0012's grouped upsert, appending to the delta table instead.
DELTA_INSERT = (tile_cells.UPSERT.split("ON CONFLICT")[0]
                .replace("INSERT INTO citypin_tile_cell AS c", "INSERT INTO citypin_tile_cell_delta")
                .replace("ORDER BY z, tx >> 3, ty >> 3, 5, category_id\n", ""))


def cell_function(layer: str, spec: dict) -> str:
    counted, state = spec["counted"], spec["state"]
    changed = f"({state.replace('t.', 'o.')}) IS DISTINCT FROM ({state.replace('t.', 'n.')})"
    rows = tile_cells.rows
    inserted = rows("new_rows t", 1, counted)
    deleted = rows("old_rows t", -1, counted)
    updated = (rows("new_rows t JOIN old_rows o ON o.id = t.id", 1, counted, changed.replace("n.", "t."))
               + " UNION ALL "
               + rows("old_rows t JOIN new_rows n ON n.id = t.id", -1, counted, changed.replace("o.", "t.")))
    return f"""
CREATE OR REPLACE FUNCTION citypin_tile_cells_{layer}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {DELTA_INSERT.format(rows=inserted, layer=layer)};
    ELSIF TG_OP = 'UPDATE' THEN
        {DELTA_INSERT.format(rows=updated, layer=layer)};
    ELSIF TG_OP = 'DELETE' THEN
        {DELTA_INSERT.format(rows=deleted, layer=layer)};
    ELSE
        DELETE FROM citypin_tile_cell WHERE layer = '{layer}';
        DELETE FROM citypin_tile_cell_delta WHERE layer = '{layer}';
    END IF;
    RETURN NULL;
END
$$;
"""


CREATE = f"""
CREATE TABLE citypin_data_change (id bigserial PRIMARY KEY, table_name text NOT NULL);
CREATE TABLE citypin_tile_cell_delta (
    layer text NOT NULL, z smallint NOT NULL, x integer NOT NULL, y integer NOT NULL, cell smallint NOT NULL,
    category_id bigint NOT NULL, n integer NOT NULL, open integer NOT NULL,
    sum_mx double precision NOT NULL, sum_my double precision NOT NULL
);
CREATE INDEX citypin_tile_cell_delta_tile ON citypin_tile_cell_delta (layer, z, x, y);
INSERT INTO citypin_data_version (table_name, slot, version)
SELECT t, s, 0 FROM unnest(ARRAY[{", ".join(f"'{t}'" for t in data_versions.TABLES)}]) t, generate_series(0, 7) s
ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION citypin_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citypin_data_change (table_name) VALUES (TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE FUNCTION citypin_fold_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM citypin_data_change WHERE id = NEW.id) THEN
        RETURN NULL;  -- an earlier firing in this transaction folded it already
    END IF;
    WITH moved AS (DELETE FROM citypin_data_change RETURNING table_name),
         counts AS (SELECT table_name, count(*) AS n FROM moved GROUP BY table_name)
    UPDATE citypin_data_version v SET version = v.version + counts.n
    FROM counts WHERE v.table_name = counts.table_name AND v.slot = pg_backend_pid() % 8;
    WITH moved AS (DELETE FROM citypin_tile_cell_delta RETURNING *)
    INSERT INTO citypin_tile_cell AS c ({COLUMNS})
    SELECT layer, z, x, y, cell, category_id, sum(n), sum(open), sum(sum_mx), sum(sum_my)
    FROM moved
    GROUP BY layer, z, x, y, cell, category_id
    ORDER BY layer, z, x, y, cell, category_id
    ON CONFLICT (layer, z, x, y, cell, category_id) DO UPDATE
    SET n = c.n + EXCLUDED.n, open = c.open + EXCLUDED.open,
        sum_mx = c.sum_mx + EXCLUDED.sum_mx, sum_my = c.sum_my + EXCLUDED.sum_my;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER citypin_data_change_fold AFTER INSERT ON citypin_data_change
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION citypin_fold_changes();
""" + "".join(cell_function(layer, spec) for layer, spec in tile_cells.LAYERS.items())

# Back to 0010's and 0012's functions (folding whatever is pending first).
DROP = """
DROP TRIGGER citypin_data_change_fold ON citypin_data_change;
DROP FUNCTION citypin_fold_changes();
DROP TABLE citypin_data_change;
DROP TABLE citypin_tile_cell_delta;
""" + data_versions.CREATE.split("CREATE TRIGGER")[0].split(");", 1)[1].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION") + "".join(
    tile_cells.create(layer, spec).split("CREATE TRIGGER")[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    for layer, spec in tile_cells.LAYERS.items())


class Migration(migrations.Migration):
    dependencies = [("incidents", "0016_idempotency")]

    operations = [migrations.RunSQL(CREATE, DROP)]
