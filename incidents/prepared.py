"""Server-side prepared statements for the hot queries: routing, duplicate candidates and the
rest of intake (PreparedQuery; its INSERTs, Insert), and the open-data reads built at run time
from a few shapes (prepared_for: unfiltered tiles, OGC pages without a bbox or time interval).

Their plans cost more than their execution: ROUTE_SQL plans in about 0.9 ms and runs in about
1 ms; an OGC page plans in ~0.8 ms and runs in ~1.5. A statement is PREPAREd once per database session and EXECUTEd after that, so the plan
is made once. Named parameters (%(name)s) become $1, $2… with the declared PostgreSQL types.
Prepared statements are session state and survive rollbacks; set CITYPIN_PREPARED_STATEMENTS=0
behind a transaction-pooling proxy (e.g. pgbouncer in transaction mode), which shares sessions.
"""

from __future__ import annotations

import hashlib
import re
import weakref

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

_PARAM = re.compile(r"%\((\w+)\)s")
_BARE_TYPE = re.compile(r"\(.*\)$")  # a type's modifier: varchar(20) -> varchar
_prepared: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()


class PreparedQuery:
    def __init__(self, name: str, sql: str, types: dict[str, str]):
        self.name = name
        self.sql = sql
        self.order: list[str] = []
        for param in _PARAM.findall(sql):
            if param not in self.order:
                self.order.append(param)
        missing = set(self.order) - set(types)
        if missing:
            raise ValueError(f"{name}: no type for {', '.join(sorted(missing))}")
        body = _PARAM.sub(lambda m: f"${self.order.index(m.group(1)) + 1}", sql)
        self.prepare_sql = f"PREPARE {name} ({', '.join(types[p] for p in self.order)}) AS {body}"
        self.execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(self.order))})"

    def execute(self, cursor, params: dict) -> None:
        """Run on a Django cursor: prepared on this session if need be, then executed."""
        if not settings.CITYPIN_PREPARED_STATEMENTS:
            cursor.execute(self.sql, params)
            return
        raw = cursor.connection  # the psycopg2 connection under Django's wrapper
        done = _prepared.setdefault(raw, set())
        if self.name not in done:
            cursor.execute(self.prepare_sql)
            done.add(self.name)
        cursor.execute(self.execute_sql, [params[p] for p in self.order])


# Statements of queries built at run time (prepared_for): at most this many per process; a shape
# beyond it runs unprepared. The callers build theirs from a small fixed set of shapes (a tile
# layer's zoom class, an OGC page's filters, cursor and usual page size), so this is a bound, not
# a working limit: a prepared OGC page holds ~170 kB of plan in each database session.
MAX_SHAPES = 64
_shapes: dict[str, PreparedQuery] = {}


def prepared_for(sql: str, types: dict[str, str]) -> PreparedQuery | None:
    """The prepared statement of `sql`, a query built at run time, named after its text; its
    parameters' types are looked up in `types` (which may name more). None beyond MAX_SHAPES.

    Only for shapes whose best plan does not depend on the parameters' values: a generic plan
    is made once for every value (PostgreSQL's plan_cache_mode=auto switches to it after five
    custom plans when it costs no more). A bbox or a date range is no such parameter."""
    statement = _shapes.get(sql)
    if statement is None and len(_shapes) < MAX_SHAPES:
        name = "citypin_q_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
        statement = _shapes[sql] = PreparedQuery(name, sql, types)
    return statement


def execute(cursor, sql: str, params: dict, types: dict[str, str] | None) -> None:
    """Run `sql` on a Django cursor: prepared (prepared_for) when `types` is given, else as is."""
    statement = prepared_for(sql, types) if types is not None else None
    if statement is None:
        cursor.execute(sql, params)
    else:
        statement.execute(cursor, params)


class Insert:
    """INSERT of a model's rows by a statement built once per row count, for the hot paths
    (intake's report, its events, its mails), prepared (PreparedQuery) for up to PREPARED_ROWS
    rows. The ORM compiles a new statement for every save() and bulk_create(): for the report's
    30 columns that took longer than the INSERT ran; and PostgreSQL parses and plans the long
    INSERT each time unless it is prepared.

    What save() would do is done here too: each field's pre_save (auto_now times) and its
    value prepared for the database by the field itself (geometries, JSON), and the new
    primary key set on the instance. No signal is sent; the models written this way have no
    receivers (a test keeps it so). The parameters are declared of each column's type without
    its modifier (varchar, not varchar(20)): the INSERT checks lengths and geometry types as
    the ORM's does, and never truncates."""

    PREPARED_ROWS = 8
    # Fields (exactly these classes: a subclass may prepare its values) whose database value is
    # the Python value itself when that is None or exactly of the types given (get_db_prep_save
    # would turn a str into the same str, an int into the same int): no need to ask them, a few
    # microseconds each, for every column of every row.
    PLAIN = {models.CharField: (str,), models.TextField: (str,), models.IntegerField: (int,),
             models.FloatField: (float, int), models.BooleanField: (bool,)}
    INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField)

    def __init__(self, model) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.plain = [frozenset((*self._plain_types(f), type(None))) for f in self.fields]
        self._statements: dict[int, PreparedQuery] = {}

    def _plain_types(self, field) -> tuple[type, ...]:
        if type(field) is models.ForeignKey:  # its value is the key: an integer key's, an int
            return (int,) if type(field.target_field) in self.INTEGER_KEYS else ()
        return self.PLAIN.get(type(field), ())

    def statement(self, rows: int) -> PreparedQuery:
        if rows not in self._statements:
            meta, width = self.model._meta, len(self.fields)
            columns = ", ".join(f'"{f.column}"' for f in self.fields)
            values = ", ".join("(" + ", ".join(f"%(v{r * width + i})s" for i in range(width)) + ")" for r in range(rows))
            sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {values} RETURNING "{meta.pk.column}"'
            types = {f"v{r * width + i}": _BARE_TYPE.sub("", f.db_type(connection))
                     for r in range(rows) for i, f in enumerate(self.fields)}
            self._statements[rows] = PreparedQuery(f"citypin_insert_{meta.db_table}_{rows}", sql, types)
        return self._statements[rows]

    def save(self, objects: list) -> list:
        """Insert `objects` (unsaved instances of the model) in one statement; returns them."""
        if not objects:
            return objects
        db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` looks it up on every use
        values = {}
        for obj in objects:
            for f, plain in zip(self.fields, self.plain, strict=True):
                value = f.pre_save(obj, True)
                if type(value) not in plain:
                    value = f.get_db_prep_save(value, db)
                values[f"v{len(values)}"] = value
        statement = self.statement(len(objects))
        with db.cursor() as cursor:
            if len(objects) <= self.PREPARED_ROWS:
                statement.execute(cursor, values)
            else:
                cursor.execute(statement.sql, values)
            keys = [row[0] for row in cursor.fetchall()]
        for obj, key in zip(objects, keys, strict=True):
            obj.pk = key
            obj._state.adding, obj._state.db = False, db.alias
        return objects
