"""Backups as the README tells an administrator to make them: scripts/backup.sh (pg_dump) and
scripts/restore.sh (pg_restore), run for real on a database holding reports."""

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from incidents.intake import ReportDraft, submit_report
from incidents.models import Report
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


def run_script(name: str, *args: str, database: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    env["DATABASE_URL"] = f"postgis://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}/{database}"
    return subprocess.run(["bash", f"scripts/{name}", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def counts(database: str) -> tuple[int, int, str]:
    settings = connection.settings_dict
    result = subprocess.run(
        [f"/usr/lib/postgresql/{sorted(os.listdir('/usr/lib/postgresql'), key=int)[-1]}/bin/psql", "-qtA",
         "-h", settings["HOST"], "-p", str(settings["PORT"]), "-U", settings["USER"], "-d", database, "-c",
         "SELECT count(*), count(DISTINCT incident_id), string_agg(public_id || ST_AsText(location), ',' "
         "ORDER BY public_id) FROM incidents_report"],
        capture_output=True, text=True, check=True, env={**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""})
    first, second, third = result.stdout.strip().split("|")
    return int(first), int(second), third


@pytest.mark.skipif(not Path("/usr/lib/postgresql").exists(), reason="needs the PostgreSQL client programs")
def test_a_backup_restores_into_an_empty_database_and_again_over_it(transactional_db, tmp_path):
    build_world(World)
    for lon in (105.71, 105.72, 105.76):
        submit_report(ReportDraft(category_code="pothole", lon=lon, lat=10.02, attributes={"size": "small"}))
    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    dump = tmp_path / "citypin.dump"

    made = run_script("backup.sh", str(dump), database=source)
    assert made.returncode == 0, made.stderr
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
        cursor.execute(f'CREATE DATABASE "{target}"')
    try:
        for _ in range(2):  # into the empty database, then over what the first restore wrote
            restored = run_script("restore.sh", str(dump), database=target)
            assert restored.returncode == 0, restored.stderr
            assert counts(target) == counts(source)
        assert counts(target)[0] == Report.objects.count() == 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
