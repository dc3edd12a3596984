"""Public reads from PostgreSQL streaming replicas: which database a read of this request uses.

DATABASE_REPLICA_URLS (config/settings.py) makes the aliases replica_0, replica_1, … and lists
them in CITYPIN_REPLICAS. Without replicas nothing here runs per request: the middleware
(incidents/http/replicas.py) is not loaded, the router not installed, and read_connection() is
the default connection.

- The middleware decides once per request: a public read (GET/HEAD, no staff path, no signed-in
  user, no recent write of this client) reads from a healthy replica; anything else reads from
  the primary. It sets the alias for the request's context (`reading_from`).
- Code that reads with a raw cursor uses `read_connection()`; the ORM goes through ReplicaRouter.
  Both give the primary inside a transaction (a transaction is the primary's).
- A write in the request (the router's db_for_write) pins the rest of the request to the
  primary: what it reads after a write, it reads from where it wrote.
- Health: each replica's lag is measured at most every CITYPIN_REPLICA_CHECK_S seconds per
  process, never per query; a replica that does not answer or lags more than
  CITYPIN_REPLICA_MAX_LAG_S seconds is skipped until a later check finds it well. With none
  well, reads use the primary.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

# Apps whose tables replicas serve; sessions, users and the cache table are always read from the
# primary (a session written a moment ago must be found).
REPLICA_APPS = frozenset({"incidents", "gis"})

_alias: ContextVar[str] = ContextVar("citypin_read_alias", default=DEFAULT_DB_ALIAS)


def read_alias() -> str:
    """The alias this request reads from: its replica, or the primary inside a transaction."""
    alias = _alias.get()
    if alias != DEFAULT_DB_ALIAS and connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def read_connection():
    """The connection public reads of this request use (`with read_connection().cursor() as c`)."""
    return connections[read_alias()]


@contextmanager
def reading_from(alias: str) -> Iterator[None]:
    token = _alias.set(alias)
    try:
        yield
    finally:
        _alias.reset(token)


def request_alias() -> str:
    """The alias the middleware chose for this request (the primary once it wrote)."""
    return _alias.get()


def pin_to_primary() -> None:
    """The rest of this request reads from the primary (it wrote)."""
    if _alias.get() != DEFAULT_DB_ALIAS:
        _alias.set(DEFAULT_DB_ALIAS)


def is_replica(alias: str) -> bool:
    return alias in settings.CITYPIN_REPLICAS


class ReplicaRouter:
    """Django's router for the ORM: reads of this request's alias, every write on the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        if model._meta.app_label not in REPLICA_APPS:
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        if model._meta.app_label in REPLICA_APPS:  # not the rate-limit cache nor the session
            pin_to_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        same_data = {DEFAULT_DB_ALIAS, *settings.CITYPIN_REPLICAS}  # copies of one database
        return True if {obj1._state.db, obj2._state.db} <= same_data else None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if is_replica(db) else None  # a replica follows the primary's schema


# Health ------------------------------------------------------------------------------------
# Lag in seconds, from the replica itself. now() - pg_last_xact_replay_timestamp() alone grows
# while the primary is idle (nothing new to replay), so a replica that has replayed everything
# it received while its WAL receiver streams counts as current (0). Otherwise (replay paused or
# behind, receiver gone) the age of the last replayed commit is the lag; NULL (nothing replayed
# yet) is unknown and counts as too far behind. A server not in recovery is a primary: current.
REPLICA_LAG_SQL = """
SELECT CASE
         WHEN NOT pg_is_in_recovery() THEN 0
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
              AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
         ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))
       END
"""


@dataclass(frozen=True)
class Health:
    checked_at: float  # time.monotonic()
    well: tuple[str, ...]


_health: Health | None = None
_checking = threading.Lock()
_turn = itertools.count()


def replica_lag(alias: str) -> float | None:
    """Seconds `alias` lags behind the primary; None if it cannot be asked or does not know."""
    connection = connections[alias]
    try:
        connection.close_if_unusable_or_obsolete()  # a session that failed before is replaced
        with connection.cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            lag = cursor.fetchone()[0]
    except DatabaseError as exc:
        logger.warning("Replica %s skipped: %s", alias, exc)
        try:
            connection.close()
        except DatabaseError:
            pass
        return None
    return None if lag is None else float(lag)


def well_replicas() -> tuple[str, ...]:
    """The replicas reads may use now, measured at most every CITYPIN_REPLICA_CHECK_S seconds.
    While one thread measures, the others use the last answer (none yet: the primary)."""
    global _health
    health = _health
    if health is not None and time.monotonic() - health.checked_at < settings.CITYPIN_REPLICA_CHECK_S:
        return health.well
    if not _checking.acquire(blocking=False):
        return health.well if health else ()
    try:
        well = []
        for alias in settings.CITYPIN_REPLICAS:
            lag = replica_lag(alias)
            if lag is not None and lag <= settings.CITYPIN_REPLICA_MAX_LAG_S:
                well.append(alias)
            elif lag is not None:
                logger.warning("Replica %s skipped: %.1f s behind", alias, lag)
        _health = Health(time.monotonic(), tuple(well))
        return _health.well
    finally:
        _checking.release()


def choose_replica() -> str:
    """A well replica, in turn; the primary if none is."""
    well = well_replicas()
    return well[next(_turn) % len(well)] if well else DEFAULT_DB_ALIAS


def mark_unwell(alias: str) -> None:
    """`alias` failed mid-request: skip it until the next check."""
    global _health
    health = _health
    if health is not None and alias in health.well:
        _health = Health(health.checked_at, tuple(a for a in health.well if a != alias))


def forget_health() -> None:
    """The next read measures again (tests; a changed configuration)."""
    global _health
    _health = None
