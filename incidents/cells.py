"""The grid counts the database keeps for zoomed-out tiles (citypin_tile_cell, migration 0012):
folding the changes writers append into them.

Every writing statement on reports and incidents appends its grouped count changes to
citypin_tile_cell_delta (one row per zoom, cell and category it moves), and readers add what
they can see of those to the kept counts. The worker folds the committed changes in about once
a second (migration 0031 says why not at each commit), a batch per transaction: so the deltas
stay few, and the zoomed-out cells every report touches are updated once per batch instead of
once per report.

Folding changes no count anyone reads: a reader's statement sees either the deltas or the
counts they were folded into, never both and never neither. A transaction still in progress
keeps its deltas out of sight until it commits; they are folded on a later pass."""

from __future__ import annotations

import threading

from django.db import OperationalError, connection, transaction

# Taken first in each fold's transaction. A TRUNCATE of either table (Django's flush, a benchmark
# emptying its database) clears that layer's counts and deltas in its trigger: it must not run
# while a fold moves deltas into counts it cannot see yet. NOWAIT: a fold that meets one steps
# aside until the next pass, and never waits holding one table's lock for the other's.
LOCK_SQL = "LOCK TABLE incidents_report, incidents_incident IN ACCESS SHARE MODE NOWAIT"
LOCK_NOT_AVAILABLE = "55P03"

# At most %(batch)s committed deltas, moved into the kept counts; returns how many were moved.
# Two folds at once cannot count a delta twice: the second waits on the rows the first deletes,
# then skips them.
FOLD_SQL = """
WITH moved AS (
    DELETE FROM citypin_tile_cell_delta
    WHERE ctid = ANY(ARRAY(SELECT ctid FROM citypin_tile_cell_delta LIMIT %(batch)s))
    RETURNING *
), folded AS (
    INSERT INTO citypin_tile_cell AS c (layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my)
    SELECT layer, z, x, y, cell, category_id, sum(n), sum(open), sum(sum_mx), sum(sum_my)
    FROM moved
    GROUP BY layer, z, x, y, cell, category_id
    ORDER BY layer, z, x, y, cell, category_id  -- one lock order for every folder
    ON CONFLICT (layer, z, x, y, cell, category_id) DO UPDATE
    SET n = c.n + EXCLUDED.n, open = c.open + EXCLUDED.open,
        sum_mx = c.sum_mx + EXCLUDED.sum_mx, sum_my = c.sum_my + EXCLUDED.sum_my
)
SELECT count(*) FROM moved
"""
FOLD_BATCH = 50_000  # deltas per transaction: about 3,000 reports' worth


def fold_tile_cells(batch: int = FOLD_BATCH, stop: threading.Event | None = None) -> int:
    """Fold every committed delta into the kept counts, `batch` per transaction, until none is
    left or `stop` is set; returns how many were folded. A fold that meets a TRUNCATE under way
    folds nothing more this time."""
    folded = 0
    while stop is None or not stop.is_set():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(LOCK_SQL)
                cursor.execute(FOLD_SQL, {"batch": batch})
                moved = cursor.fetchone()[0]
        except OperationalError as error:
            if getattr(error.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            return folded
        folded += moved
        if moved < batch:
            break
    return folded
