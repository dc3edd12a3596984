"""read/copy.py: COPY ... TO STDOUT as a generator of whole-row batches, that a client going
away stops cleanly."""

from django.db import connection

from incidents.read.copy import copy_out

ROWS_SQL = "SELECT n, repeat('x', 100) FROM generate_series(1, %(n)s) n"


def test_every_row_arrives_in_whole_lines(db):
    data = b"".join(copy_out(ROWS_SQL, {"n": 50_000}))
    lines = data.splitlines()
    assert len(lines) == 50_000
    assert lines[0] == b"1\t" + b"x" * 100 and lines[-1].startswith(b"50000\t")


def test_batches_end_at_a_row_boundary(db):
    assert all(batch.endswith(b"\n") for batch in copy_out(ROWS_SQL, {"n": 50_000}))


def test_a_database_error_reaches_the_reader(db):
    try:
        list(copy_out("SELECT 1 / (n - 3) FROM generate_series(1, %(n)s) n", {"n": 5}))
    except Exception as exc:  # noqa: BLE001
        assert "division by zero" in str(exc)
    else:
        raise AssertionError("the error was lost")


def test_a_client_going_away_stops_the_copy_and_the_next_query_runs(transactional_db):
    stream = copy_out(ROWS_SQL, {"n": 2_000_000})  # ~200 MB: far more than the queue holds
    next(stream)
    stream.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
