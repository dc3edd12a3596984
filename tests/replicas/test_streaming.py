"""Public reads from a real PostgreSQL streaming replica of the embedded cluster.

The module makes the replica with `pg_basebackup -R` (a replication slot keeps the WAL it needs
until it streams), starts it on a free port as the user the cluster runs as, and points the
alias replica_0 at the test database on it. What the replica answers is told apart from what
the primary answers by pausing its replay (pg_wal_replay_pause): a report written after that
exists on the primary only. Everything the module starts or makes (the server, its folder, the
slot, the committed world) is removed at the end, whatever the outcome.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test import SimpleTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents.http.replicas import COOKIE, HEADER
from incidents.read.replicas import forget_health, replica_lag
from tests.world import World, build_world

ALIAS = "replica_0"
PREFIX = "citypin-replica-"
ROUTER = "incidents.read.replicas.ReplicaRouter"
REPORT = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
          "attributes": {"size": "large"}, "description": "Ổ gà mới"}


def postgres_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Replica:
    """A hot standby of the embedded cluster in a folder of its own, run as the cluster's user."""

    def __init__(self, pgbin: Path, owner: str, primary: dict) -> None:
        self.pgbin, self.owner, self.primary = pgbin, owner, primary
        self.home = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.data = self.home / "cluster"
        self.port = free_port()
        self.slot = f"citypin_test_{int(time.time())}_{os.getpid()}"
        shutil.chown(self.home, user=owner, group=pwd.getpwnam(owner).pw_gid)

    def run(self, *command: str, timeout: float = 900) -> None:
        """`command` as the cluster's user (postgres refuses to run as root)."""
        if os.geteuid() == pwd.getpwnam(self.owner).pw_uid:
            prefix = []
        elif os.geteuid() == 0:
            prefix = ["runuser", "-u", self.owner, "--"]
        else:
            prefix = ["sudo", "-n", "-u", self.owner]
        done = subprocess.run([*prefix, *command], cwd="/", capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            log = self.home / "log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AssertionError(f"{' '.join(command)} failed: {done.stderr}{done.stdout}\n{tail}")

    def make(self) -> None:
        # -X stream copies the WAL of the backup's own time; -N: a scratch copy needs no fsync.
        self.run(str(self.pgbin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary["PORT"]),
                 "-U", self.primary["USER"] or "postgres", "-D", str(self.data), "-R", "-X", "stream",
                 "-C", "-S", self.slot, "-c", "fast", "-N", "--no-manifest")

    def start(self) -> None:
        # fsync off: a scratch copy, and its start skips syncing the whole copied folder.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.home} "
                   "-c hot_standby=on -c shared_buffers=128MB -c logging_collector=off -c fsync=off")
        self.run(str(self.pgbin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "log"), "-o", options,
                 "-w", "-t", "900", "start")

    def stop(self, mode: str = "fast") -> None:
        # fast: a standby's clean shutdown makes a restartpoint, so it starts again without replaying much
        self.run(str(self.pgbin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "300", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def sql(self, statement: str, params: tuple = ()) -> tuple:
        with psycopg2.connect(host="127.0.0.1", port=self.port, user=self.primary["USER"] or "postgres",
                              dbname=self.primary["NAME"], connect_timeout=5) as db, db.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()

    def remove(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except AssertionError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


def drop_slot(name: str) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                       "WHERE slot_name = %s AND NOT active", [name])


def sweep_leftovers() -> None:
    """Slots and folders of runs killed before their clean-up (more than an hour old, unused)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'citypin\\_test\\_%%' "
                       "AND NOT active")
        for (name,) in cursor.fetchall():
            if name.split("_")[2].isdigit() and int(name.split("_")[2]) < time.time() - 3600:
                drop_slot(name)
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        if folder.is_dir() and folder.stat().st_mtime < time.time() - 3600 and not (folder / "cluster" / "postmaster.pid").exists():
            shutil.rmtree(folder, ignore_errors=True)


_replica: Replica | None = None


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker) -> Iterator[Replica]:
    """The replica, and the alias replica_0 naming the test database on it (registered before
    the test class is set up, which checks the databases it may use)."""
    global _replica
    pgbin = postgres_bin()
    if pgbin is None:
        pytest.skip("pg_basebackup is not installed (it comes with the PostgreSQL server package)")
    with django_db_blocker.unblock(), ExitStack() as stack:
        primary = connections["default"]
        with primary.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            owner = pwd.getpwuid(os.stat(cursor.fetchone()[0]).st_uid).pw_name
            cursor.execute("SELECT sum(pg_database_size(oid)) FROM pg_database")
            cluster_bytes = int(cursor.fetchone()[0])
        # One copy at a time on a machine: test runs side by side would each copy the cluster.
        lock = stack.enter_context(open(Path(tempfile.gettempdir()) / (PREFIX + "lock"), "w"))
        fcntl.flock(lock, fcntl.LOCK_EX)
        sweep_leftovers()
        free = shutil.disk_usage(tempfile.gettempdir()).free
        assert free > 2 * cluster_bytes + (1 << 30), (
            f"a replica needs a copy of the whole cluster ({cluster_bytes >> 20} MB) and room for the WAL "
            f"written meanwhile; only {free >> 20} MB are free in {tempfile.gettempdir()}")
        made = Replica(pgbin, owner, dict(primary.settings_dict))
        try:
            made.make()
            made.start()
            connections.settings[ALIAS] = {**primary.settings_dict, "PORT": made.port,
                                           "OPTIONS": {**primary.settings_dict["OPTIONS"], "connect_timeout": 2},
                                           "TEST": {**primary.settings_dict["TEST"], "MIRROR": "default"}}
            _replica = made
            yield made
        finally:
            _replica = None
            if ALIAS in connections.settings:
                connections[ALIAS].close()
                del connections[ALIAS]
                del connections.settings[ALIAS]
            made.remove()
            drop_slot(made.slot)


def write_report(client: APIClient | None = None):
    response = (client or APIClient()).post("/api/v1/reports/", REPORT, format="json")
    assert response.status_code == 201, response.content
    return response


def public_id(response) -> str:
    return response.json()["properties"]["public_id"]


def read_report(client: APIClient, report_id: str) -> int:
    return client.get(f"/api/v1/reports/{report_id}/").status_code


# pytest-django creates the test database for a SimpleTestCase only when it is marked so.
pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("replica")
@override_settings(CITYPIN_REPLICAS=[ALIAS], DATABASE_ROUTERS=[ROUTER], CITYPIN_REPLICA_MAX_LAG_S=3600,
                   CITYPIN_REPLICA_CHECK_S=3600, CITYPIN_READ_PRIMARY_S=5)
class ReplicaTestCase(SimpleTestCase):
    """Reads of public requests may use replica_0, as DATABASE_REPLICA_URLS would configure it;
    its health is measured again when a test says so (forget_health). Not a TestCase: its
    transaction would keep every read on the primary, and the data must be committed to reach
    the replica. Nothing is flushed between the tests of a class, so the replica, which may lag
    behind the busy cluster, never has to replay a flush of these tables while it is paused."""

    databases = {"default", ALIAS}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_world(World())
        get_user_model().objects.create_user("staff-replica", password="x", is_staff=True)

    @classmethod
    def tearDownClass(cls):
        call_command("flush", interactive=False, verbosity=0)  # the world was committed
        super().tearDownClass()

    def setUp(self):
        self.replica = _replica
        forget_health()

    def tearDown(self):
        if self.replica.running():
            self.replica.sql("SELECT pg_wal_replay_resume()")
        forget_health()


class StreamingReplicaTests(ReplicaTestCase):
    def pause(self) -> None:
        self.replica.sql("SELECT pg_wal_replay_pause()")

    def test_a_public_read_runs_its_queries_on_the_replica(self):
        with CaptureQueriesContext(connections[ALIAS]) as on_replica:
            response = APIClient().get("/api/v1/reports/")
        self.assertEqual(response.status_code, 200)
        self.assertGreater(len(on_replica), 0)
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            self.assertEqual(cursor.fetchone(), (True,))

    def test_a_public_read_is_answered_by_the_replica_whose_replay_is_paused(self):
        self.pause()
        report_id = public_id(write_report())
        self.assertEqual(read_report(APIClient(), report_id), 404)  # not replayed there yet

    def test_a_client_that_wrote_reads_its_own_write(self):
        self.pause()
        client = APIClient()
        written = write_report(client)
        self.assertEqual(client.cookies[COOKIE].value, written[HEADER])
        self.assertEqual(read_report(client, public_id(written)), 200)

    def test_a_client_without_cookies_that_echoes_the_header_reads_its_own_write(self):
        self.pause()
        written = write_report()
        self.assertEqual(read_report(APIClient(headers={HEADER: written[HEADER]}), public_id(written)), 200)

    def test_a_header_further_ahead_than_the_setting_is_not_honoured(self):
        self.pause()
        written = write_report()
        pinned_for_a_day = APIClient(headers={HEADER: str(time.time() + 86400)})
        self.assertEqual(read_report(pinned_for_a_day, public_id(written)), 404)

    @override_settings(CITYPIN_READ_PRIMARY_S=0.5)
    def test_after_the_read_your_writes_window_the_client_reads_the_replica_again(self):
        self.pause()
        client = APIClient()
        written = write_report(client)
        time.sleep(1.1)  # the cookie's Max-Age is a whole second
        self.assertEqual(read_report(client, public_id(written)), 404)

    def test_a_signed_in_staff_member_reads_from_the_primary(self):
        self.pause()
        report_id = public_id(write_report())
        staff = APIClient()
        staff.force_login(get_user_model().objects.get(username="staff-replica"))
        self.assertEqual(read_report(staff, report_id), 200)

    @override_settings(CITYPIN_REPLICA_MAX_LAG_S=1)
    def test_a_replica_lagging_beyond_the_limit_is_skipped(self):
        self.pause()
        report_id = public_id(write_report())  # received, not replayed: the replica falls behind
        time.sleep(1.5)
        self.assertGreater(replica_lag(ALIAS), 1)
        self.assertEqual(read_report(APIClient(), report_id), 200)


class StoppedReplicaTests(ReplicaTestCase):
    """After the others (pytest runs the classes in file order): a standby started again must
    replay up to where it stopped before it answers, minutes on a busy cluster, so the replica
    stays stopped from here to the end."""

    def test_a_replica_stopped_after_it_was_found_well_is_skipped_without_errors(self):
        if not self.replica.running():
            self.replica.start()
            connections[ALIAS].close()  # its session ended with the server
        self.assertEqual(read_report(APIClient(), "CT-2000-000000"), 404)  # measured well, used
        self.replica.stop()
        report_id = public_id(write_report())
        self.assertEqual(read_report(APIClient(), report_id), 200)  # its failure retried on the primary
        self.assertEqual(read_report(APIClient(), report_id), 200)  # and skipped after

    def test_a_stopped_replica_is_skipped_without_errors(self):
        if self.replica.running():
            self.replica.stop()
        report_id = public_id(write_report())
        self.assertEqual(read_report(APIClient(), report_id), 200)
