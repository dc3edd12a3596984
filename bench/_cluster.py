"""PostgreSQL + PostGIS clusters of the benchmarks' own, apart from the project's cluster that
tests, the demo and other sessions use:
- PrivateCluster: a throwaway one, in a temporary folder on a free port, so a benchmark may
  restart it (fast, immediate) under load;
- BenchCluster: the persistent one that holds the benchmarks' filled databases (bench/_db.py),
  so that the project's cluster stays the size of its test and demo databases (the streaming
  replica test copies that cluster whole).
As root, initdb and postgres run as the postgres system user, as scripts/db.sh does. Imports
nothing from Django."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PGBIN = Path("/usr/lib/postgresql") / max(os.listdir("/usr/lib/postgresql"), key=int) / "bin"
ROOT = Path(__file__).resolve().parent.parent
# As the project's cluster (scripts/db.sh), plus what the fills want: durable defaults kept.
SETTINGS = {"shared_buffers": "256MB", "work_mem": "32MB", "maintenance_work_mem": "256MB"}


def _as_postgres(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=check, capture_output=True, text=True, cwd="/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_pids(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes and of their children that ended (/proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # ended since it was listed
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


class PrivateCluster:
    """`with PrivateCluster() as cluster:` … cluster.url(db), cluster.restart("fast")."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.settings = {**SETTINGS, "max_connections": "100", **(settings or {})}

    def __enter__(self) -> PrivateCluster:
        self.home = Path(tempfile.mkdtemp(prefix="citypin-bench-pg-"))
        shutil.chown(self.home, "postgres", "postgres") if os.geteuid() == 0 else None
        self.data, self.log = self.home / "cluster", self.home / "postgres.log"
        _initdb(self.data, self.home, self.port, self.settings)
        self.pg_ctl("start")
        return self

    def pg_ctl(self, action: str, *options: str) -> None:
        _as_postgres(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120",
                     *options, action)

    def restart(self, mode: str) -> None:
        """mode: "fast" (sessions ended, a clean shutdown) or "immediate" (a crash: WAL replay)."""
        self.pg_ctl("restart", "-m", mode)

    def pids(self) -> list[int]:
        """The postmaster and every process it started (sessions, background workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *child_pids(postmaster)]

    def url(self, database: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        _create_database(self.port, name)

    def __exit__(self, *exc) -> None:
        _as_postgres(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.home, ignore_errors=True)


class BenchCluster:
    """The benchmarks' persistent cluster: made in ROOT/.data/bench-postgres on first use (on a
    free port, kept in its `port` file), started when it is not running; `ensure()` returns its
    port. A checkout the postgres user cannot walk into (a private home) keeps it in
    /var/lib/postgresql instead, linked, as scripts/db.sh does for the project's cluster."""

    def __init__(self, home: Path = ROOT / ".data" / "bench-postgres") -> None:
        self.link = home

    def ensure(self) -> int:
        if not self.link.exists():
            self.link.parent.mkdir(parents=True, exist_ok=True)
            if _as_postgres("test", "-x", str(self.link.parent), check=False).returncode == 0:
                self.link.mkdir()
            else:
                real = Path("/var/lib/postgresql") / f"citypin-bench-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}"
                real.mkdir(parents=True, exist_ok=True)
                self.link.symlink_to(real)
            shutil.chown(self.link.resolve(), "postgres", "postgres") if os.geteuid() == 0 else None
        home = self.link.resolve()
        data, port_file = home / "cluster", home / "port"
        if not (data / "PG_VERSION").exists():
            port = free_port()
            _initdb(data, home, port, {**SETTINGS, "max_connections": "100"})
            _as_postgres("sh", "-c", f"echo {port} > {port_file}")
        if _as_postgres(str(PGBIN / "pg_ctl"), "-D", str(data), "status", check=False).returncode != 0:
            _as_postgres(str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(home / "postgres.log"), "-w", "-t", "120",
                         "start")
        return int(port_file.read_text())


def _initdb(data: Path, home: Path, port: int, settings: dict[str, str]) -> None:
    _as_postgres(str(PGBIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8")
    conf = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{home}'",
            **settings}
    text = "".join(f"{name} = {value}\n" for name, value in conf.items())
    _as_postgres("sh", "-c", f"cat >> {data}/postgresql.conf <<'CONF'\n{text}CONF\n")


def _psql(port: int, database: str, sql: str) -> subprocess.CompletedProcess:
    return _as_postgres(str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qtA",
                        "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql)


def _create_database(port: int, name: str) -> None:
    _psql(port, "postgres", f'CREATE DATABASE "{name}"')
    _psql(port, name, "CREATE EXTENSION postgis")
