"""Vector tiles at 1,000,000 reports, beside their baselines in the same run:

1. A replay of about 500 tiles of the reports layer over zooms 10–16 around Cần Thơ (lon
   105.35–106.2, lat 9.55–10.25; a fifth of them around the centre, where a map is opened
   most), each fetched in several ways, in turn, tile by tile (so a busy moment of this shared
   machine hits them all alike):
   - the view: GET /tiles/reports/z/x/y.mvt through Django's WSGI handler, as gunicorn calls
     it (every middleware, the open_data decorator, parsing, the query, the response);
   - raw: the identical statement the view runs, straight through psycopg2: the layer's SQL
     PREPAREd once per session and EXECUTEd, as the view runs an unfiltered tile
     (incidents.prepared);
   - unprepared: the same SQL sent as it is, planned every time (what it costs a client that
     does not prepare it; the view ran it so before it was prepared);
   - counted: the same layer's SQL counting the reports under a zoomed-out tile (what it does
     for filters the kept grid counts do not know), through psycopg2: plain ST_AsMVT SQL
     without migration 0012's kept counts;
   - tipg: tipg's own tile of the same reports table (its WebMercatorQuad tiles, served by
     uvicorn in its own environment, bench/_tipg.py), with the point and the fields it can
     serve from the table alone. tipg has no grid counts: zoomed out it draws points (up to
     its per-tile feature limit).
   The view, raw and unprepared take the best of three tries per tile (counted and tipg, whose
   tries can take seconds, one).
   Targets: view ≥ 0.9× raw throughput and ≥ 1× tipg; zoomed-out (grid count) tiles p95 under
   100 ms.
2. Revalidation: 100 zoomed-in tiles the client holds, asked again with If-None-Match.
3. The public map's data for a typical city view (1280 × 800 pixels, centred on Ninh Kiều) at
   zooms 12–15, with no filter, a category, a status and a date: what the map loads (the
   GeoJSON list of /api/v1/reports/?bbox= up to 2,000 points and, zoomed out or beyond 2,000,
   the grid counts of /api/v1/reports/aggregate/, which reads the kept grid counts when they
   answer) beside the vector tiles covering the same view: bytes (raw and gzipped) and server
   time; for the filters the kept counts answer, the aggregate API counting the reports
   instead (its baseline: what it did before it read the kept counts). Then the same view
   opened and panned four times, the tiles fetched once each.

    .venv/bin/python bench/tiles.py [--max 1000000] [--tiles 500] [--no-tipg] [--replay-only]

Runs in its own database (CITYPIN_BENCH_DB, default citypin_bench), filled once.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone

os.environ.setdefault("OPEN_DATA_READ_RATE", "1000000000/s")  # the benchmark is one very busy reader
# The view as production runs it: DEBUG off (with DEBUG on every query also goes through Django's
# debug cursor, which the raw baseline does not), plain HTTP, the bench's own host name.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("CITYPIN_TLS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")

import _db  # noqa: E402

_db.use_bench_database()

import mapbox_vector_tile  # noqa: E402 (the dev extra's tile decoder, to count features)
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from gis.tiles import Tile, tile_at, tiles_covering  # noqa: E402
from incidents.prepared import prepared_for  # noqa: E402
from incidents.read.cells import metres_per_pixel  # noqa: E402
from incidents.read.public import PUBLIC_POINT  # noqa: E402
from incidents.read.query import ReportQuery  # noqa: E402
from incidents.read.sql import REPORT_FROM_SQL  # noqa: E402
from incidents.tiles.layers import LAYERS, POINTS_FROM_ZOOM, TILE_REPORT_FIELDS, TILE_TYPES, tile_value  # noqa: E402

CITY = (105.35, 9.55, 106.2, 10.25)  # lon/lat box, SRID 4326
CENTRE = (105.78, 10.03)  # Ninh Kiều
ZOOMS = range(10, 17)
VIEW_PX = (1280, 800)
COUNTING = ReportQuery(created_after=datetime(2000, 1, 1, tzinfo=timezone.utc))  # true of every report


def replay_tiles(count: int, seed: int = 13) -> list[Tile]:
    """`count` tiles, zooms 10–16 in turn: four in five at a uniform point of the city box, one
    in five within about 3 km of the centre."""
    rng = random.Random(seed)
    tiles = []
    for i in range(count):
        z = ZOOMS[i % len(ZOOMS)]
        if rng.random() < 0.2:
            lon, lat = CENTRE[0] + rng.gauss(0, 0.03), CENTRE[1] + rng.gauss(0, 0.03)
        else:
            lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
        tiles.append(tile_at(lon, lat, z))
    return tiles


def raw_connection():
    return _db.raw_connection(options="-c jit=off")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


class Ways:
    """The three ways to get one tile, each returning its size in bytes."""

    def __init__(self, tipg_url: str | None):
        self.handler = WSGIHandler()
        self.raw = raw_connection()
        self.prepared_names: set[str] = set()
        self.tipg_url = tipg_url
        if tipg_url:
            import requests

            self.session = requests.Session()

    def get(self, tile: Tile, **headers: str) -> tuple[str, dict, bytes]:
        """Through Django's WSGI handler, as gunicorn calls it: every middleware, the request
        signals, the open_data decorator and the view. Status line, headers and body."""
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/tiles/reports/{tile.z}/{tile.x}/{tile.y}.mvt",
                   "QUERY_STRING": "", "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
                   "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(),
                   "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, **headers}
        answer = []
        response = self.handler(environ, lambda line, headers, exc_info=None: answer.append((line, dict(headers))))
        body = b"".join(response)
        response.close()
        return answer[0][0], answer[0][1], body

    def view(self, tile: Tile) -> int:
        status, _, body = self.get(tile)
        assert status[:3] in ("200", "204"), status
        return len(body)

    def unprepared(self, tile: Tile) -> int:
        sql, params = LAYERS["reports"].query(tile, "vi")
        with self.raw.cursor() as cursor:
            cursor.execute(sql, params)
            _, mvt = cursor.fetchone()
        return len(mvt or b"")

    def prepared(self, tile: Tile) -> int:
        sql, params = LAYERS["reports"].query(tile, "vi")
        statement = prepared_for(sql, TILE_TYPES)
        with self.raw.cursor() as cursor:
            if statement.name not in self.prepared_names:
                cursor.execute(statement.prepare_sql)
                self.prepared_names.add(statement.name)
            cursor.execute(statement.execute_sql, [params[p] for p in statement.order])
            _, mvt = cursor.fetchone()
        return len(mvt or b"")

    def counted(self, tile: Tile) -> int:
        """The layer's SQL counting the reports under a zoomed-out tile (the path its filters
        other than category take), as anyone would write it without kept counts."""
        sql, params = LAYERS["reports"].query(tile, "vi", COUNTING)
        with self.raw.cursor() as cursor:
            cursor.execute(sql, params)
            _, mvt = cursor.fetchone()
        return len(mvt or b"")

    def tipg(self, tile: Tile) -> int:
        response = self.session.get(self.tipg_url.format(z=tile.z, x=tile.x, y=tile.y))
        assert response.status_code in (200, 204), response.status_code
        return len(response.content)


TRIES = 3  # the view and raw: the best of three tries per tile; the slow baselines: one


def replay(tiles: list[Tile], ways: Ways) -> dict[str, dict]:
    names = ["view", "raw", "unprepared", "counted"] + (["tipg"] if ways.tipg_url else [])
    functions = {"view": ways.view, "raw": ways.prepared, "unprepared": ways.unprepared, "counted": ways.counted,
                 "tipg": ways.tipg}
    for tile in tiles[:60]:  # warm the caches (shared buffers, tipg's catalogue, Django's URL resolver)
        for name in ("view", "raw", "unprepared"):
            functions[name](tile)
    times = {name: [] for name in names}
    sizes = {name: [] for name in names}
    cpu = {name: [] for name in names}  # this process's CPU time (the request cycle's own cost)
    for i, tile in enumerate(tiles):
        order = names[i % len(names):] + names[:i % len(names)]  # who goes first rotates
        best, least = {}, {}
        for attempt in range(TRIES):
            for name in order:
                if name in ("tipg", "counted") and attempt:
                    continue
                start, start_cpu = time.perf_counter(), time.process_time()
                sizes_now = functions[name](tile)
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
                least[name] = min(least.get(name, float("inf")), time.process_time() - start_cpu)
                if not attempt:
                    sizes[name].append(sizes_now)
        for name in names:
            times[name].append(best[name])
            cpu[name].append(least[name])
    return {name: {"times": times[name], "sizes": sizes[name], "cpu": cpu[name]} for name in names}


def print_replay(tiles: list[Tile], result: dict[str, dict]) -> None:
    print(f"\nReplay of {len(tiles)} report tiles, zooms {ZOOMS[0]}–{ZOOMS[-1]} "
          f"(grid counts below {POINTS_FROM_ZOOM}), sequential, one client:")
    header = "  zoom  " + "".join(f"{name + ' p50/p95 ms':>22}{name + ' KB':>10}" for name in result)
    print(header)
    for z in ZOOMS:
        picks = [i for i, t in enumerate(tiles) if t.z == z]
        line = f"  {z:>4}  "
        for data in result.values():
            ts = [data["times"][i] * 1000 for i in picks]
            kb = statistics.mean(data["sizes"][i] for i in picks) / 1024
            line += f"{statistics.median(ts):>12.1f} /{percentile(ts, 95):>7.1f}{kb:>10.1f}"
        print(line)
    total = {name: sum(data["times"]) for name, data in result.items()}
    print("  throughput (tiles/s): " + ", ".join(f"{name} {len(tiles) / t:.1f}" for name, t in total.items()))
    print(f"  view / raw = {total['raw'] / total['view']:.2f} (target ≥ 0.9); "
          f"view / unprepared = {total['unprepared'] / total['view']:.2f}")
    cpu = {name: statistics.mean(result[name]["cpu"]) * 1000 for name in ("view", "raw", "unprepared")}
    print(f"  this process's CPU per tile (less sensitive to the machine's load): view {cpu['view']:.2f} ms, "
          f"raw {cpu['raw']:.2f} ms, unprepared {cpu['unprepared']:.2f} ms; "
          f"the request cycle's own {cpu['view'] - cpu['raw']:.2f} ms")
    print(f"  view / counted = {total['counted'] / total['view']:.2f}")
    if "tipg" in total:
        print(f"  view / tipg = {total['tipg'] / total['view']:.2f} (target ≥ 1)")
    low = [i for i, t in enumerate(tiles) if t.z < POINTS_FROM_ZOOM]
    for name, data in result.items():
        ts = [data["times"][i] * 1000 for i in low]
        print(f"  zoomed-out tiles ({len(low)}), {name}: p95 {percentile(ts, 95):.1f} ms"
              + (" (target < 100 ms)" if name == "view" else ""))


def revalidation(tiles: list[Tile], ways: Ways) -> None:
    """A client revalidating tiles it holds (If-None-Match): 304 after the data version alone."""
    tags = {tile: ways.get(tile)[1]["ETag"] for tile in tiles}
    full, revalidated = [], []
    for tile in tiles:
        start = time.perf_counter()
        ways.view(tile)
        full.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        status, _, _ = ways.get(tile, HTTP_IF_NONE_MATCH=tags[tile])
        revalidated.append((time.perf_counter() - start) * 1000)
        assert status.startswith("304"), status
    print(f"\nRevalidating {len(tiles)} held tiles (If-None-Match, nothing changed): 304 in "
          f"p50 {statistics.median(revalidated):.1f} / p95 {percentile(revalidated, 95):.1f} ms, against "
          f"p50 {statistics.median(full):.1f} / p95 {percentile(full, 95):.1f} ms for the tile itself")


def view_bbox(z: int, east_px: int = 0) -> tuple[float, float, float, float]:
    """The lon/lat box of a VIEW_PX map centred on CENTRE (moved `east_px` pixels east) at zoom z
    (web mercator)."""
    radius = 6378137.0
    cx = math.radians(CENTRE[0]) * radius + east_px * metres_per_pixel(z)
    cy = math.log(math.tan(math.pi / 4 + math.radians(CENTRE[1]) / 2)) * radius
    half_w, half_h = VIEW_PX[0] / 2 * metres_per_pixel(z), VIEW_PX[1] / 2 * metres_per_pixel(z)

    def lonlat(x: float, y: float) -> tuple[float, float]:
        return math.degrees(x / radius), math.degrees(2 * math.atan(math.exp(y / radius)) - math.pi / 2)

    (minx, miny), (maxx, maxy) = lonlat(cx - half_w, cy - half_h), lonlat(cx + half_w, cy + half_h)
    return minx, miny, maxx, maxy


def fetch(client: Client, url: str, repeat: int = 3) -> tuple[int, int, float, int]:
    """Bytes, gzipped bytes, the best server time of `repeat` GETs (seconds) and the features."""
    best, response = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT="application/geo+json")
        best = min(best, time.perf_counter() - start)
        assert response.status_code in (200, 204), (url, response.status_code)
    body = response.content
    if not body:
        return 0, 0, best, 0
    if response["Content-Type"].startswith("application/vnd.mapbox-vector-tile"):
        features = sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(body).values())
    else:
        features = len(json.loads(body)["features"])
    return len(body), len(gzip.compress(body, 6)), best, features


# The public map's filters measured in part 3: none and a category (the kept grid counts answer
# both), the "open" status choice and a date (tiles then count their rows themselves).
COUNTED_FILTER = "created_after=2000-01-01"  # true of every report, and not known to the kept counts
MAP_FILTERS = ("", "category=pothole", "status=new,acknowledged,in_progress,reopened", "created_after=2026-01-01")


def map_view(client: Client) -> None:
    print(f"\nThe public map's data for a {VIEW_PX[0]}×{VIEW_PX[1]} view centred on Ninh Kiều "
          "(GeoJSON points and the aggregate API's counts, as the map loads them, against the vector tiles "
          "covering the view; 'counted': the aggregate API counting the reports, as before it read the kept "
          "grid counts):")
    for filters in MAP_FILTERS:
        map_view_rows(client, filters)
    map_pans(client)


PANS = 5  # the view, then four moves of half its width east


def map_pans(client: Client) -> None:
    """A visit that opens the view and pans it: the aggregate API answers each view anew, while
    a map of tiles would fetch only the tiles it does not hold yet."""
    print(f"\n  Opening the view and panning it {PANS - 1} times by half its width (server ms, KB gzip, requests):")
    for filters in MAP_FILTERS[:2]:
        extra = "&" + filters if filters else ""
        for z in (12, 13):
            views = [view_bbox(z, east_px=i * VIEW_PX[0] // 2) for i in range(PANS)]
            agg = [fetch(client, "/api/v1/reports/aggregate/?bbox=" + ",".join(f"{v:.6f}" for v in bbox)
                         + f"&zoom={z}{extra}") for bbox in views]
            counted = [fetch(client, "/api/v1/reports/aggregate/?bbox=" + ",".join(f"{v:.6f}" for v in bbox)
                             + f"&zoom={z}{extra}&{COUNTED_FILTER}") for bbox in views]
            held: set = set()
            tiles = []
            for bbox in views:
                for t in tiles_covering(bbox, z):
                    if t not in held:
                        held.add(t)
                        tiles.append(fetch(client, f"/tiles/reports/{t.z}/{t.x}/{t.y}.mvt"
                                           + ("?" + filters if filters else "")))
            print(f"  filter {filters or 'none':<17} zoom {z}: aggregate API {sum(r[2] for r in agg) * 1000:6.0f} ms "
                  f"{sum(r[1] for r in agg) / 1024:6.1f} KB {len(agg):>3}   tiles {sum(r[2] for r in tiles) * 1000:6.0f} ms "
                  f"{sum(r[1] for r in tiles) / 1024:6.1f} KB {len(tiles):>3}   "
                  f"counted {sum(r[2] for r in counted) * 1000:6.0f} ms")


def map_view_rows(client: Client, filters: str) -> None:
    print(f"  filter: {filters or 'none'}")
    print(f"  {'zoom':>4}  {'GeoJSON: requests, features, KB, KB gzip, ms':>46}   "
          f"{'tiles: requests, features, KB, KB gzip, ms (sum; max)':>56}")
    extra = "&" + filters if filters else ""
    for z in range(12, 16):
        bbox = ",".join(f"{v:.6f}" for v in view_bbox(z))
        if z >= 14:  # the map asks for points first, then for counts when there are more than it shows
            urls = [f"/api/v1/reports/?bbox={bbox}&limit=2000{extra}"]
            if client.get(urls[0], HTTP_ACCEPT="application/geo+json").json().get("next"):
                urls.append(f"/api/v1/reports/aggregate/?bbox={bbox}&zoom={z}{extra}")
        else:
            urls = [f"/api/v1/reports/aggregate/?bbox={bbox}&zoom={z}{extra}"]
        today = [fetch(client, url) for url in urls]
        # The same counts made from the reports (a filter true of every report, unknown to the
        # kept counts): the aggregate API's cost before it read them.
        counted = [fetch(client, url + f"&{COUNTED_FILTER}") for url in urls if "/aggregate/" in url]
        tiles = [fetch(client, f"/tiles/reports/{t.z}/{t.x}/{t.y}.mvt" + ("?" + filters if filters else ""))
                 for t in tiles_covering(tuple(map(float, bbox.split(","))), z)]
        print(f"  {z:>4}  {len(today):>12} {sum(r[3] for r in today):>9} {sum(r[0] for r in today) / 1024:>8.1f} "
              f"{sum(r[1] for r in today) / 1024:>8.1f} {sum(r[2] for r in today) * 1000:>6.0f}   "
              f"{len(tiles):>10} {sum(r[3] for r in tiles):>9} {sum(r[0] for r in tiles) / 1024:>8.1f} "
              f"{sum(r[1] for r in tiles) / 1024:>8.1f} {sum(r[2] for r in tiles) * 1000:>7.0f}; "
              f"{max(r[2] for r in tiles) * 1000:.0f}"
              + (f"   counted: {sum(r[2] for r in counted) * 1000:.0f} ms" if counted and not filters.startswith(
                  ("status", "created")) else "")
              + ("   (GeoJSON: 2,000 points, then counts)" if len(today) > 1 else ""))


# What tipg serves: the reports with the fields of the zoomed-in tiles, as a view (tipg reads
# views; `&&` on its geom reaches the reports' GiST index).
TIPG_VIEW_SQL = f"""
DROP VIEW IF EXISTS tiles_bench_reports;
CREATE VIEW tiles_bench_reports AS
SELECT r.id, {", ".join(tile_value(f) for f in TILE_REPORT_FIELDS)}, r.{PUBLIC_POINT} AS geom
{REPORT_FROM_SQL}
"""


@contextlib.contextmanager
def tipg() -> Iterator[str | None]:
    """The URL template of tipg's tiles of the reports (bench/_tipg.py), or None without tipg."""
    try:
        import _tipg
    except ImportError:
        print("  (bench/_tipg.py is missing: no tipg baseline)")
        yield None
        return
    with connection.cursor() as cursor:
        cursor.execute(TIPG_VIEW_SQL.replace("%(lang)s", "'vi'"))
    with _tipg.serve(_db.database_url("postgresql"), tables=["public.tiles_bench_reports"]) as base:
        print(f"  (tipg {_tipg.version()} at {base}, at most its default 10,000 features per tile)")
        yield base + "/collections/public.tiles_bench_reports/tiles/WebMercatorQuad/{z}/{x}/{y}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=500)
    parser.add_argument("--no-tipg", action="store_true")
    parser.add_argument("--replay-only", action="store_true", help="part 1 alone (the replay), e.g. while iterating")
    args = parser.parse_args()
    _db.grow_to(args.max)
    _db.vacuum("incidents_report")
    _db.vacuum("incidents_incident")
    tiles = replay_tiles(args.tiles)
    with (contextlib.nullcontext(None) if args.no_tipg else tipg()) as tipg_url:
        ways = Ways(tipg_url)
        print_replay(tiles, replay(tiles, ways))
    if args.replay_only:
        return
    revalidation([t for t in dict.fromkeys(tiles) if t.z >= POINTS_FROM_ZOOM][:100], ways)
    map_view(Client())


if __name__ == "__main__":
    main()
