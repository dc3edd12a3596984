"""Data versions: a number per table that rises with every committed write to it, for ETags
and versioned URLs of public outputs (tiles, the ward layer).

The database keeps them (incidents migrations 0010, 0017, 0018): each writing statement appends
a row to citypin_data_change, and at commit the transaction's rows are folded into
citypin_data_version. A table's version is the sum of its committed slots plus the changes this
transaction made and has not yet folded (found by its transaction id; NULL, and none, in a
transaction that wrote nothing, so a read takes no transaction id). Other transactions' pending
changes are invisible, so every reader sees a version change atomically with the data.
"""

from __future__ import annotations

from incidents.read.replicas import read_connection

# The data version of the tables %(tables)s (names of database tables).
DATA_VERSION_SQL = (
    "SELECT coalesce((SELECT sum(version) FROM citypin_data_version WHERE table_name = ANY(%(tables)s)), 0)"
    " + (SELECT count(*) FROM citypin_data_change"
    "    WHERE txid = txid_current_if_assigned() AND table_name = ANY(%(tables)s))")


def data_version(tables: list[str] | tuple[str, ...]) -> int:
    with read_connection().cursor() as cursor:
        cursor.execute(DATA_VERSION_SQL, {"tables": list(tables)})
        return int(cursor.fetchone()[0])
