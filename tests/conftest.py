import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium (playwright cannot download browsers here), quiet on the network."""
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache; each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True, scope="session")
def media_in_a_temporary_folder(tmp_path_factory):
    """Uploaded photos of the tests never land in the project's media folder."""
    from django.conf import settings

    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
