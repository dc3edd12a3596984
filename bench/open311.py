"""Open311 GET requests at 1,000,000 reports, beside the same SQL run raw.

Three reads a city's aggregators make: requests.json with the default window (the last 90 days,
the first 1,000), requests.json with service_code and start/end dates, and requests.xml. Each
goes through the whole Django stack (URL, middleware, parameter checks, the open-data limit,
the view) with Django's test client; the baseline runs the identical SQL string and parameters
through a plain psycopg2 connection and joins the rows with the simplest code (a JSON array,
or the XML declaration and root element). Target: Open311 ≥ 0.8× the raw throughput.

    CITYPIN_BENCH_DB=citypin_bench .venv/bin/python bench/open311.py [--max 1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os

import _db

os.environ["OPEN_DATA_READ_RATE"] = "1000000/min"
_db.use_bench_database()

from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.models import Category  # noqa: E402
from incidents.open311.params import parse_requests_query  # noqa: E402
from incidents.open311.requests import REQUESTS_SQL, request_document_sql  # noqa: E402
from incidents.read.sql import REPORT_FROM_SQL  # noqa: E402


def raw_statement(fmt: str, query: str) -> tuple[str, dict]:
    """The SQL and parameters the view runs for `query` (built before the clock starts)."""
    parsed = parse_requests_query(QueryDict(query))
    params = {"lang": "vi", "site": "http://testserver", "limit": parsed.page.size, "offset": parsed.page.offset}
    sql = REQUESTS_SQL.format(document=request_document_sql(fmt, parsed.extended), source=REPORT_FROM_SQL,
                              where=parsed.query.where(params))
    return sql, params


def run_raw(connection, fmt: str, sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [row[0] for row in cursor.fetchall()]
    body = ("[" + ",".join(rows) + "]" if fmt == "json"
            else '<?xml version="1.0" encoding="utf-8"?>\n<service_requests>' + "".join(rows) + "</service_requests>")
    return len(body.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    _db.grow_to(args.max)
    raw = _db.raw_connection()
    with raw.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")  # as Django's connection (USE_TZ)
    client = Client()
    code = Category.objects.order_by("id").values_list("code", flat=True)[3]
    start = (timezone.now() - timezone.timedelta(days=30)).date().isoformat()
    end = (timezone.now() - timezone.timedelta(days=5)).date().isoformat()
    cases = [("json", "requests.json (default: 90 days, 1,000)", ""),
             ("json", f"requests.json?service_code={code}&dates", f"service_code={code}&start_date={start}&end_date={end}"),
             ("xml", "requests.xml (default)", "")]
    print(f"Open311 GET requests at {args.max:,} reports, {args.repeat} requests each (best of 5, alternated)")
    for fmt, label, query in cases:
        sql, params = raw_statement(fmt, query)
        url = f"/open311/v2/requests.{fmt}" + (f"?{query}" if query else "")
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        count = response.content.count(b'"service_request_id"' if fmt == "json" else b"<request>")
        assert len(response.content) == run_raw(raw, fmt, sql, params), "the view and the baseline differ"
        # Alternated, best of five each, so that load from elsewhere on the machine hits both alike.
        mine = base = float("inf")
        for _ in range(5):
            mine = min(mine, _db.timed(lambda: [client.get(url) for _ in range(args.repeat)]))
            base = min(base, _db.timed(lambda: [run_raw(raw, fmt, sql, params) for _ in range(args.repeat)]))
        print(f"   {label:42} {count:5} requests  Open311 {args.repeat / mine:6.1f} req/s   "
              f"raw SQL {args.repeat / base:6.1f} req/s   ratio {base / mine:.2f}  (target ≥ 0.8)")


if __name__ == "__main__":
    main()
