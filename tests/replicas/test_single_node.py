"""Without replicas Citypin is one database and pays nothing for the read scale-out; with
DATABASE_REPLICA_URLS each URL becomes an alias; the read-your-writes marker a client sends
cannot pin it to the primary for longer than the setting, and nonsense in it is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS
from django.test import RequestFactory

from incidents.http.replicas import COOKIE, HEADER, ReplicaReadMiddleware, primary_until
from incidents.read.replicas import read_alias, reading_from

ROOT = Path(__file__).resolve().parents[2]


def test_without_replicas_no_router_is_installed():
    assert settings.CITYPIN_REPLICAS == []
    assert settings.DATABASE_ROUTERS == []


def test_without_replicas_the_middleware_takes_itself_out_of_the_chain():
    with pytest.raises(MiddlewareNotUsed):
        ReplicaReadMiddleware(lambda request: None)


def test_without_replicas_reads_use_the_default_database():
    assert read_alias() == DEFAULT_DB_ALIAS


def test_a_read_outside_a_transaction_uses_the_alias_the_request_chose():
    with reading_from("replica_0"):
        assert read_alias() == "replica_0"
    assert read_alias() == DEFAULT_DB_ALIAS


def test_each_replica_url_becomes_an_alias_with_the_primary_options():
    env = {**os.environ, "DATABASE_URL": "postgis://citypin@primary:5432/citypin",
           "DATABASE_REPLICA_URLS": "postgis://citypin@replica-a:5432/citypin, postgis://citypin@replica-b/citypin"}
    script = ("import json; from django.conf import settings as s; d = s.DATABASES; "
              "print(json.dumps([s.CITYPIN_REPLICAS, s.DATABASE_ROUTERS, "
              "[(d[a]['HOST'], d[a]['OPTIONS'], d[a]['TEST']['MIRROR']) for a in s.CITYPIN_REPLICAS]]))")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    aliases, routers, replicas = json.loads(done.stdout.strip().splitlines()[-1])
    assert aliases == ["replica_0", "replica_1"]
    assert routers == ["incidents.read.replicas.ReplicaRouter"]
    assert [host for host, _, _ in replicas] == ["replica-a", "replica-b"]
    assert all(options == {"options": "-c jit=off", "connect_timeout": 2} and mirror == "default"
               for _, options, mirror in replicas)


def request_with(cookie: str | None = None, header: str | None = None):
    request = RequestFactory().get("/api/v1/reports/", headers={HEADER: header} if header else {})
    if cookie is not None:
        request.COOKIES[COOKIE] = cookie
    return request


def test_a_fresh_marker_pins_the_client_to_the_primary():
    soon = str(time.time() + 3)
    assert primary_until(request_with(cookie=soon)) == float(soon)
    assert primary_until(request_with(header=soon)) == float(soon)


def test_a_marker_further_ahead_than_the_setting_is_ignored():
    assert primary_until(request_with(header=str(time.time() + 3600))) == 0


@pytest.mark.parametrize("nonsense", ["", "soon", "nan", "inf", "-inf", "1e309", "١٢٣"])
def test_nonsense_in_the_marker_does_not_pin_the_client(nonsense):
    assert primary_until(request_with(cookie=nonsense, header=nonsense)) < time.time()
