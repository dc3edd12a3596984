"""Statements prepared for queries built at run time (incidents.prepared.prepared_for)."""

from django.db import DataError, connection, transaction
from django.test import TestCase

from incidents import prepared
from incidents.events import EVENT_INSERT
from incidents.intake import REPORT_INSERT
from incidents.models import OutboxMessage
from incidents.notices import OUTBOX_INSERT
from incidents.prepared import execute, prepared_for

SQL = "SELECT %(n)s + 1, %(word)s"
TYPES = {"n": "int", "word": "text", "unused": "bigint"}


class PreparedForTests(TestCase):
    def test_the_same_text_is_the_same_statement_with_its_parameters_in_order(self):
        statement = prepared_for(SQL, TYPES)
        self.assertIs(prepared_for(SQL, TYPES), statement)
        self.assertEqual(statement.prepare_sql, f"PREPARE {statement.name} (int, text) AS SELECT $1 + 1, $2")

    def test_it_runs_on_a_django_cursor(self):
        with connection.cursor() as cursor:
            execute(cursor, SQL, {"n": 41, "word": "xin chào"}, TYPES)
            self.assertEqual(cursor.fetchone(), (42, "xin chào"))

    def test_a_parameter_without_a_type_is_refused_at_once(self):
        with self.assertRaisesMessage(ValueError, "no type for word"):
            prepared_for("SELECT %(n)s, %(word)s AS missing", {"n": "int"})

    def test_beyond_the_bound_a_query_runs_unprepared(self):
        shapes = prepared._shapes
        self.addCleanup(setattr, prepared, "_shapes", shapes)
        prepared._shapes = dict.fromkeys(range(prepared.MAX_SHAPES))
        self.assertIsNone(prepared_for("SELECT %(n)s + 2", TYPES))
        with connection.cursor() as cursor:
            execute(cursor, "SELECT %(n)s + 2", {"n": 1}, TYPES)
            self.assertEqual(cursor.fetchone(), (3,))


class PreparedInsertTests(TestCase):
    """incidents.prepared.Insert: prepared per row count, with the columns' own checks."""

    def mail(self, subject: str = "Chào") -> OutboxMessage:
        return OutboxMessage(recipient="ops@example.org", subject=subject, body="…")

    def test_rows_are_written_by_the_prepared_insert_of_their_count(self):
        saved = OUTBOX_INSERT.save([self.mail("một"), self.mail("hai")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
                           [OUTBOX_INSERT.statement(2).name])
            self.assertEqual(cursor.fetchone()[0], 1)
        self.assertEqual([m.subject for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in saved])
                          .order_by("pk")], ["một", "hai"])

    def test_a_value_too_long_for_its_column_is_refused_not_cut(self):
        with self.assertRaises(DataError), transaction.atomic():
            OUTBOX_INSERT.save([self.mail("x" * 201)])  # subject: varchar(200)

    def test_a_value_passed_as_is_is_what_its_field_would_have_made_of_it(self):
        samples = {str: "Ổ gà", int: 7, float: 2.5, bool: True, type(None): None}
        for insert in (REPORT_INSERT, EVENT_INSERT, OUTBOX_INSERT):
            for field, plain in zip(insert.fields, insert.plain, strict=True):
                for kind in plain:
                    with self.subTest(model=insert.model.__name__, field=field.name, kind=kind.__name__):
                        made = field.get_db_prep_save(samples[kind], connection)
                        self.assertEqual((made, type(made) in (kind, float)), (samples[kind], True))
