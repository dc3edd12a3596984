"""The kept grid counts of the tiles (citypin_tile_cell) are folded by the worker, in batches,
instead of by every writing transaction at its commit.

At commit, each transaction added its own deltas to citypin_tile_cell (migrations 0017, 0018).
Every report falls in one cell per zoom from 0 to 13, and zoomed out those cells are shared by
the whole city: every intake updated the same rows. So concurrent intakes queued on those rows'
locks at commit, and each update left a row version the next one had to step over. Measured in
bench/storm.py, back to back on one machine: the fold took 0.44 ms of database time per report
at commit and takes 0.09-0.10 ms in the worker's batches; the raw single-row INSERT of a report
(8 connections) went from 704-918 to 1,401-1,483 rows/s.

Now writing statements still append their grouped changes to citypin_tile_cell_delta, and
nothing more. The worker folds every committed delta into citypin_tile_cell about once a second,
as one grouped upsert per batch (incidents.cells.fold_tile_cells). Readers add every delta they
can see (those committed and not folded yet, and their own transaction's) to the kept counts, in
the same statement: the counts stay exact, change atomically with the data, and folding changes
no count anyone reads. Data versions are still folded at commit (a few rows, spread over slots).

The transaction id on the deltas (0018) served readers looking for their own deltas only. Its
index goes and the index on (layer, z, x, y) serves the readers again. The column stays, unused,
so that processes still running the code from before this migration keep working until they
restart (their tiles then miss the deltas of others not yet folded); a later migration drops it.
"""

import importlib

from django.db import migrations

own = importlib.import_module("incidents.migrations.0018_fold_own_changes")

CREATE = """
CREATE OR REPLACE FUNCTION citypin_fold_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM citypin_data_change WHERE id = NEW.id) THEN
        RETURN NULL;  -- an earlier firing in this transaction folded it already
    END IF;
    WITH moved AS (DELETE FROM citypin_data_change WHERE txid = txid_current() RETURNING table_name),
         counts AS (SELECT table_name, count(*) AS n FROM moved GROUP BY table_name)
    UPDATE citypin_data_version v SET version = v.version + counts.n
    FROM counts WHERE v.table_name = counts.table_name AND v.slot = pg_backend_pid() % 8;
    RETURN NULL;
END
$$;
CREATE INDEX citypin_tile_cell_delta_tile ON citypin_tile_cell_delta (layer, z, x, y);
DROP INDEX citypin_tile_cell_delta_txid;
"""

# Back to folding at commit: what is pending is folded first (0018's fold finds a transaction's
# own deltas by their transaction id), with writers held off until this commits.
DROP = """
LOCK TABLE citypin_tile_cell_delta IN ACCESS EXCLUSIVE MODE;
WITH moved AS (DELETE FROM citypin_tile_cell_delta RETURNING *)
INSERT INTO citypin_tile_cell AS c (layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my)
SELECT layer, z, x, y, cell, category_id, sum(n), sum(open), sum(sum_mx), sum(sum_my)
FROM moved
GROUP BY layer, z, x, y, cell, category_id
ON CONFLICT (layer, z, x, y, cell, category_id) DO UPDATE
SET n = c.n + EXCLUDED.n, open = c.open + EXCLUDED.open,
    sum_mx = c.sum_mx + EXCLUDED.sum_mx, sum_my = c.sum_my + EXCLUDED.sum_my;
CREATE INDEX citypin_tile_cell_delta_txid ON citypin_tile_cell_delta (txid, layer, z, x, y);
DROP INDEX citypin_tile_cell_delta_tile;
""" + own.CREATE[own.CREATE.index("CREATE OR REPLACE FUNCTION citypin_fold_changes()"):]


class Migration(migrations.Migration):
    dependencies = [("incidents", "0030_report_incident_indexes")]

    operations = [migrations.RunSQL(CREATE, DROP)]
