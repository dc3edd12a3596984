import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses database calls
# from a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_configure(config):
    """Passwords in the tests hash with MD5: PBKDF2's deliberate slowness cost ~3 s per console
    test class (8 staff accounts each). Production settings keep Django's default hashers.
    pytest-django has set Django up by now, and nothing has hashed yet."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()
    # One staff mail per new report, as with CITYPIN_STAFF_NOTICE_GATHER_S=0: the tests of what a
    # department's mail says and who gets it make several reports a test. Gathering the mails of
    # a storm (on by default) has its tests, tests/delivery/test_gathered.py, which turn it on.
    settings.CITYPIN_STAFF_NOTICE_GATHER_S = 0
    # Likewise one alert mail per new report for each subscription (CITYPIN_ALERT_GATHER_S=0);
    # tests/alerts/test_gathering.py turns gathering on.
    settings.CITYPIN_ALERT_GATHER_S = 0


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium where there is one (Playwright cannot download browsers everywhere),
    else Playwright's own; quiet on the network either way."""
    debian = Path("/usr/bin/chromium")
    return {
        **({"executable_path": str(debian)} if debian.exists() else {}),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, and only it, gives up durability for speed: its commits do not wait
    for the disk (synchronous_commit off). The cluster itself stays durable for `make run`."""
    from django.db import connection
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    if not connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        return  # no test needs the database in this run: the connection still names the served one
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                       "SET synchronous_commit = off")
        cursor.execute("SET synchronous_commit = off")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Sign-in lockout counters live in the cache; each test starts with none used. (Rate-limit
    counts live in the database: a test's transaction, or the flush after it, takes them away.)"""
    from django.core.cache import cache

    from incidents.http.ratelimit import forget_local

    cache.clear()
    forget_local()
    yield


@pytest.fixture(autouse=True, scope="session")
def media_in_a_temporary_folder(tmp_path_factory):
    """Uploaded photos of the tests never land in the project's media folder."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves the page under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, full_page: bool = True, of=None):
        (of or page).screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    return take


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Browsers in the tests ask for Vietnamese first, as the city's do."""
    return {**browser_context_args, "locale": "vi-VN"}


@pytest.fixture(autouse=True)
def patient_browser(request):
    """A cold chromium on a busy 2-core machine can take seconds for its first page: give
    waits room (they return as soon as the condition holds, so passing tests stay fast).
    Every browser test also fails on any Content-Security-Policy violation of the pages."""
    if "page" not in request.fixturenames:
        yield
        return
    from playwright.sync_api import expect

    page = request.getfixturevalue("page")
    page.set_default_timeout(30_000)
    expect.set_options(timeout=20_000)
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    request.node.csp_violations = violations
    yield
    if not request.node.get_closest_marker("breaks_csp_on_purpose"):
        assert violations == [], "the page broke its Content-Security-Policy"
