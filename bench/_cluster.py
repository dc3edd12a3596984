"""A throwaway PostgreSQL + PostGIS cluster of the benchmark's own, in a temporary folder on a
free port, so a benchmark may restart it (fast, immediate) under load without disturbing the
project's cluster that tests and other sessions use. As root, initdb and postgres run as the
postgres system user, as scripts/db.sh does. Imports nothing from Django."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PGBIN = Path("/usr/lib/postgresql") / max(os.listdir("/usr/lib/postgresql"), key=int) / "bin"


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
        self.settings = {"shared_buffers": "256MB", "max_connections": "100", "work_mem": "32MB", **(settings or {})}

    def __enter__(self) -> PrivateCluster:
        self.home = Path(tempfile.mkdtemp(prefix="citypin-bench-pg-"))
        shutil.chown(self.home, "postgres", "postgres") if os.geteuid() == 0 else None
        self.data, self.log = self.home / "cluster", self.home / "postgres.log"
        _as_postgres(str(PGBIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--locale=C.UTF-8")
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                "unix_socket_directories": f"'{self.home}'", **self.settings}
        text = "".join(f"{name} = {value}\n" for name, value in conf.items())
        _as_postgres("sh", "-c", f"cat >> {self.data}/postgresql.conf <<'CONF'\n{text}CONF\n")
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
        psql = [str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qtA",
                "-v", "ON_ERROR_STOP=1"]
        _as_postgres(*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
        _as_postgres(*psql, "-d", name, "-c", "CREATE EXTENSION postgis")

    def __exit__(self, *exc) -> None:
        _as_postgres(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.home, ignore_errors=True)
