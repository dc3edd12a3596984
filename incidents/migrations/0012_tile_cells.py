"""Grid counts for zoomed-out vector tiles, kept current by the database.

A zoomed-out tile (zoom 0–13) of the reports or incidents layer is cut into 8 × 8 cells; a
cell of a tile at zoom z is a tile at zoom z + 3. citypin_tile_cell holds, for each zoom, each
non-empty cell and each category, how many public points are there (n), how many of them are
open, and the sums of their EPSG:3857 coordinates (metres; the mean is where the cell is
drawn). A tile then reads at most 64 × categories rows by its primary key, whatever the number
of reports under it: at 1,000,000 reports, a zoom-10 tile over the city centre counts about
200,000 of them, 1–4 s with the points read from the table, a few milliseconds from here.

Statement-level triggers with transition tables keep it exact, in the transaction of every
write: inserted rows add their counts, deleted rows subtract them, and an update adds the new
and subtracts the old state of the rows whose point, category, status (or, for incidents,
whether they have a report) changed, all in one grouped upsert per statement; an update that
touches nothing counted costs the join of the old and new rows. Rows are upserted in key
order, so concurrent writers take the rows' locks in the same order. The point is the public
one (public_location, SRID 4326); EPSG:3857 coordinates use the sphere's formulas (radius
6378137 m), as ST_Transform does. Open statuses are Report.OPEN_STATUSES as of this migration.
"""

from django.db import migrations

HALF_WORLD_M = 20037508.342789244  # half the width of the world in EPSG:3857
MAX_CELL_ZOOM = 13  # zoomed-out tiles are 0..13; points from zoom 14 on
OPEN = "ARRAY['new', 'acknowledged', 'in_progress', 'reopened']"

# d: rows (sign, public_location, category_id, is_open) to add (+1) or subtract (-1).
UPSERT = f"""
WITH m AS (
    SELECT d.sign, d.category_id, d.is_open,
           ST_X(d.p) * {HALF_WORLD_M} / 180 AS mx,
           ln(tan(radians(45 + greatest(-85.0511, least(85.0511, ST_Y(d.p))) / 2))) * 6378137 AS my
    FROM ({{rows}}) d
),
e AS (
    SELECT m.*, z,
           least(greatest(floor((m.mx + {HALF_WORLD_M}) / ({2 * HALF_WORLD_M} / 2 ^ (z + 3)))::bigint, 0),
                 (2 ^ (z + 3))::bigint - 1) AS tx,
           least(greatest(floor(({HALF_WORLD_M} - m.my) / ({2 * HALF_WORLD_M} / 2 ^ (z + 3)))::bigint, 0),
                 (2 ^ (z + 3))::bigint - 1) AS ty
    FROM m CROSS JOIN generate_series(0, {MAX_CELL_ZOOM}) z
)
INSERT INTO citypin_tile_cell AS c (layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my)
SELECT '{{layer}}', z, tx >> 3, ty >> 3, ((ty & 7) * 8 + (tx & 7))::smallint, category_id,
       sum(sign), sum(sign * is_open::int), sum(sign * mx), sum(sign * my)
FROM e
GROUP BY z, tx, ty, category_id
HAVING sum(sign) <> 0 OR sum(sign * is_open::int) <> 0 OR sum(sign * mx) <> 0 OR sum(sign * my) <> 0
ORDER BY z, tx >> 3, ty >> 3, 5, category_id
ON CONFLICT (layer, z, x, y, cell, category_id) DO UPDATE
SET n = c.n + EXCLUDED.n, open = c.open + EXCLUDED.open,
    sum_mx = c.sum_mx + EXCLUDED.sum_mx, sum_my = c.sum_my + EXCLUDED.sum_my
"""

# Per table: what is counted of a row t (its state) and which rows count at all.
LAYERS = {
    "reports": {"table": "incidents_report", "state": "t.public_location, t.category_id, t.status",
                "counted": "t.public_location IS NOT NULL"},
    "incidents": {"table": "incidents_incident", "state": "t.public_location, t.category_id, t.status, t.report_count > 0",
                  "counted": "t.public_location IS NOT NULL AND t.report_count > 0"},
}


def rows(source: str, sign: int, counted: str, where: str = "TRUE") -> str:
    return (f"SELECT {sign} AS sign, t.public_location AS p, t.category_id, t.status = ANY({OPEN}) AS is_open "
            f"FROM {source} WHERE {counted} AND {where}")


def create(layer: str, spec: dict) -> str:
    counted, state, table = spec["counted"], spec["state"], spec["table"]
    changed = f"({state.replace('t.', 'o.')}) IS DISTINCT FROM ({state.replace('t.', 'n.')})"
    inserted = rows("new_rows t", 1, counted)
    deleted = rows("old_rows t", -1, counted)
    updated = (rows(f"new_rows t JOIN old_rows o ON o.id = t.id", 1, counted, changed.replace("n.", "t."))
               + " UNION ALL "
               + rows(f"old_rows t JOIN new_rows n ON n.id = t.id", -1, counted, changed.replace("o.", "t.")))
    return f"""
CREATE FUNCTION citypin_tile_cells_{layer}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(rows=inserted, layer=layer)};
    ELSIF TG_OP = 'UPDATE' THEN
        {UPSERT.format(rows=updated, layer=layer)};
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(rows=deleted, layer=layer)};
    ELSE
        DELETE FROM citypin_tile_cell WHERE layer = '{layer}';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {table}_tile_cells_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION citypin_tile_cells_{layer}();
CREATE TRIGGER {table}_tile_cells_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION citypin_tile_cells_{layer}();
CREATE TRIGGER {table}_tile_cells_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION citypin_tile_cells_{layer}();
CREATE TRIGGER {table}_tile_cells_truncate AFTER TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION citypin_tile_cells_{layer}();
{UPSERT.format(rows=rows(f"{table} t", 1, counted), layer=layer)};
"""


CREATE = """
CREATE TABLE citypin_tile_cell (
    layer text NOT NULL,
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    cell smallint NOT NULL,
    category_id bigint NOT NULL,
    n integer NOT NULL,
    open integer NOT NULL,
    sum_mx double precision NOT NULL,
    sum_my double precision NOT NULL,
    PRIMARY KEY (layer, z, x, y, cell, category_id)
);
""" + "".join(create(layer, spec) for layer, spec in LAYERS.items())

DROP = "".join(
    "".join(f"DROP TRIGGER {spec['table']}_tile_cells_{op} ON {spec['table']};\n"
            for op in ("insert", "update", "delete", "truncate"))
    + f"DROP FUNCTION citypin_tile_cells_{layer}();\n"
    for layer, spec in LAYERS.items()) + "DROP TABLE citypin_tile_cell;\n"


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_open311_clients")]

    operations = [migrations.RunSQL(CREATE, DROP)]
