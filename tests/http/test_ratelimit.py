"""Rate limits count in PostgreSQL, one statement per counted request, shared by every server
process: a sliding window estimated from two fixed ones, so no burst of twice the rate across a
window's edge; refused requests count too; old windows are purged on the way."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.test import TestCase

from incidents.http import ratelimit
from incidents.http.ratelimit import count
from incidents.models import RateCount

HOUR = 3600
START = 1_800_000_000.0  # the start of a window of an hour (and of a minute)


class NoPurge:
    """The purge runs at random (one count in PURGE_ONE_IN); tests that count statements turn it off."""

    def setUp(self):
        saved, ratelimit.PURGE_ONE_IN = ratelimit.PURGE_ONE_IN, 10**12
        self.addCleanup(setattr, ratelimit, "PURGE_ONE_IN", saved)


class SlidingWindowTests(NoPurge, TestCase):
    def test_a_limit_allows_its_rate_then_refuses_with_the_wait_until_the_window_ends(self):
        answers = [count("k", 3, HOUR, now=START + 600) for _ in range(4)]
        self.assertEqual([allowed for allowed, _ in answers], [True, True, True, False])
        self.assertEqual(answers[-1][1], HOUR - 600)

    def test_each_counted_request_is_one_statement(self):
        with self.assertNumQueries(1):
            count("k", 3, HOUR, now=START)

    def test_the_previous_windows_count_weighs_by_how_much_of_it_still_overlaps(self):
        for _ in range(10):
            count("k", 10, HOUR, now=START + HOUR - 1)  # ten just before the edge
        # A quarter into the next window, three quarters of the ten still count: 7.5 + 1, 2 ...
        answers = [count("k", 10, HOUR, now=START + HOUR + HOUR / 4)[0] for _ in range(3)]
        self.assertEqual(answers, [True, True, False])

    def test_no_burst_of_twice_the_rate_across_the_edge(self):
        allowed = sum(count("k", 10, HOUR, now=START + HOUR - 1)[0] for _ in range(10))
        allowed += sum(count("k", 10, HOUR, now=START + HOUR + 1)[0] for _ in range(10))
        self.assertEqual(allowed, 10)

    def test_refused_requests_count_so_a_client_that_keeps_hammering_stays_refused(self):
        for _ in range(30):
            count("k", 10, HOUR, now=START + HOUR - 1)
        self.assertFalse(count("k", 10, HOUR, now=START + HOUR + HOUR / 2)[0])  # 31 x 1/2 > 10
        self.assertTrue(count("k", 10, HOUR, now=START + 2 * HOUR + 1)[0])

    def test_keys_are_counted_apart(self):
        count("a", 1, HOUR, now=START)
        self.assertFalse(count("a", 1, HOUR, now=START)[0])
        self.assertTrue(count("b", 1, HOUR, now=START)[0])

    def test_windows_no_longer_needed_are_purged_on_the_way(self):
        count("old", 5, 60, now=START)
        ratelimit.PURGE_ONE_IN = 1
        count("new", 5, 60, now=START + 121)  # the old window ended more than a window ago
        self.assertEqual(list(RateCount.objects.values_list("key", flat=True)), ["new"])
        self.assertEqual(RateCount.objects.get().expires_at, datetime.fromtimestamp(START + 120 + 120, tz=UTC))


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_by_every_connection():
    """Two server processes are two database sessions: the second sees the first's count."""
    count("shared", 2, HOUR, now=START)
    count("shared", 2, HOUR, now=START)
    answers = []
    other = threading.Thread(target=lambda: answers.append(count("shared", 2, HOUR, now=START)[0]))
    other.start()
    other.join()
    assert answers == [False]


class HighLimitTests(NoPurge, TestCase):
    """A high limit is counted by the process in batches of 1% of it, for at most a second."""

    def test_a_limit_of_a_thousand_costs_one_statement_per_ten_requests(self):
        count("reader", 1000, HOUR, now=START)  # the first one learns the shared count
        with self.assertNumQueries(1):
            for i in range(11):
                count("reader", 1000, HOUR, now=START + i / 100)
        self.assertEqual(RateCount.objects.get(key="reader").count, 12)  # the 11th added the 10 before it

    def test_after_a_second_the_next_request_adds_what_was_counted(self):
        count("reader", 1000, HOUR, now=START)
        count("reader", 1000, HOUR, now=START + 0.1)
        with self.assertNumQueries(1):
            count("reader", 1000, HOUR, now=START + 1.5)
        self.assertEqual(RateCount.objects.get(key="reader").count, 3)

    def test_counts_kept_at_a_windows_end_go_to_that_window(self):
        count("reader", 1000, 60, now=START)
        for _ in range(5):
            count("reader", 1000, 60, now=START + 59.5)
        count("reader", 1000, 60, now=START + 60.2)
        self.assertEqual(dict(RateCount.objects.values_list("window", "count")),
                         {int(START // 60): 6, int(START // 60) + 1: 1})

    def test_the_limit_still_holds_within_one_percent(self):
        allowed = sum(count("reader", 1000, HOUR, now=START + i / 1000)[0] for i in range(1100))
        self.assertEqual(allowed, 1000)

    def test_a_low_limit_is_counted_exactly_every_request(self):
        with self.assertNumQueries(5):
            for _ in range(5):
                count("writer", 30, HOUR, now=START)
