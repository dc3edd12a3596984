"""Citypin settings: one module, read from the environment.

Development defaults are safe on a laptop. With DEBUG off, values that would be unsafe in
production (a short SECRET_KEY, no ALLOWED_HOSTS) stop the start-up with a clear message.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)


def installation_secret(path: Path) -> str:
    """This installation's own random key: written once (mode 600) on the first run that has no
    SECRET_KEY in the environment, read by every later run. No two installations share it, so
    neither do the demo passwords and API key derived from it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)  # 64 characters
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


SECRET_KEY_FILE = Path(os.environ.get("CITYPIN_SECRET_KEY_FILE", BASE_DIR / ".data" / "secret_key"))
SECRET_KEY = os.environ.get("SECRET_KEY") or installation_secret(SECRET_KEY_FILE)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters (and not one repeated character) "
                                   "when DEBUG is off; unset it to use this installation's own random key.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set (comma-separated) when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "gis.apps.GeoConfig",
    "incidents.apps.IncidentsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "incidents.http.compression.CompressionMiddleware",  # gzip on the fly; BREACH: see its docstring
    "incidents.http.csp.CSPMiddleware",  # django-csp's, no policy built for an exempt response (tiles)
    "incidents.http.fastpath.OpenDataFastPathMiddleware",  # open-data reads skip what they never need
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "incidents.http.outage.DatabaseOutageMiddleware",
    "incidents.http.limits.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "incidents.http.replicas.ReplicaReadMiddleware",  # public reads from replicas, when configured
    "incidents.http.messages.LazyMessageMiddleware",  # Django's, its storage made only when used
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "incidents.http.browser.BrowserIdMiddleware",
]

if not DEBUG:  # production: static files from STATIC_ROOT (collectstatic); runserver serves them in development
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def embedded_database_url() -> str:
    """The project-local PostGIS started by scripts/db.sh; its port is recorded beside it."""
    port_file = BASE_DIR / ".data" / "postgres" / "port"
    port = port_file.read_text().strip() if port_file.exists() else "54329"
    name = os.environ.get("CITYPIN_DB_NAME", "citypin")
    return f"postgis://postgres@127.0.0.1:{port}/{name}"


DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded_database_url(),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,  # a connection the server dropped (a restart) is replaced, not used
    )
}
# How long a request that finds the database gone waits for it (incidents/http/outage.py).
CITYPIN_DB_WAIT_S = float(os.environ.get("CITYPIN_DB_WAIT_S", "5"))
# JIT compilation costs ~200 ms on PostGIS statements whose declared function costs look
# expensive (hotspot refresh went 8× slower with it); our queries are short, so it is off.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Read replicas (PostgreSQL streaming replication): DATABASE_REPLICA_URLS, a comma list of
# database URLs, become the aliases replica_0, replica_1, … with the primary's options. Public
# reads go to a well replica, writes and staff to the primary (incidents/read/replicas.py). None
# configured (`make run`, `make test`): everything on the primary, no router, no middleware.
CITYPIN_REPLICAS = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    _replica = dj_database_url.parse(_url, engine="django.contrib.gis.db.backends.postgis",
                                     conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True)
    # A replica that does not answer is skipped after this many seconds, not waited for.
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"],
                           "connect_timeout": int(os.environ.get("CITYPIN_REPLICA_CONNECT_TIMEOUT", "2"))}
    _replica["TEST"] = {"MIRROR": "default"}  # tests never create a database on a replica
    DATABASES[f"replica_{_number}"] = _replica
    CITYPIN_REPLICAS.append(f"replica_{_number}")
DATABASE_ROUTERS = ["incidents.read.replicas.ReplicaRouter"] if CITYPIN_REPLICAS else []
# A replica further behind the primary than this many seconds is skipped; its lag is measured at
# most every CITYPIN_REPLICA_CHECK_S seconds per process. A client that wrote reads from the
# primary for CITYPIN_READ_PRIMARY_S seconds after (read-your-writes).
CITYPIN_REPLICA_MAX_LAG_S = float(os.environ.get("CITYPIN_REPLICA_MAX_LAG_S", "5"))
CITYPIN_REPLICA_CHECK_S = float(os.environ.get("CITYPIN_REPLICA_CHECK_S", "1"))
CITYPIN_READ_PRIMARY_S = float(os.environ.get("CITYPIN_READ_PRIMARY_S", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language and Vietnamese number separators (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from the npm registry at set-up (package.json), never from a CDN; only
# the files the pages use are served from node_modules (config/staticfiles.py lists them).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfiles.VendorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production (`make serve`, after collectstatic): names carry a content hash and are cached
    # for a year; WhiteNoise serves each file gzip- or brotli-compressed from STATIC_ROOT.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Source maps are for developers' tools: served as they are, not compressed at every collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz",
                                       "br", "woff", "woff2", "map"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "citypin@localhost")
# The SMTP server (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend); one session
# carries a whole share of the outbox's batch.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "30"))

# Largest request body Django reads into memory; the report API refuses larger ones with 413/400.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["incidents.api.parsers.JSONParser"],  # refuses JSON nested too deep
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "incidents.api.renderers.GeoJSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "incidents.api.errors.field_error_handler",
    # Proxies in front of Citypin whose X-Forwarded-For may be trusted for rate limits; 0 trusts
    # none (the client could write anything there).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "DEFAULT_THROTTLE_RATES": {
        "report_submit": os.environ.get("REPORT_SUBMIT_RATE", "30/hour"),
        "report_support": os.environ.get("REPORT_SUPPORT_RATE", "60/hour"),
        "report_reopen": os.environ.get("REPORT_REOPEN_RATE", "10/hour"),
        "alert_subscribe": os.environ.get("ALERT_SUBSCRIBE_RATE", "20/hour"),
        # anonymous open-data reads (OGC API, tiles, exports, Open311 GET), per IP
        "open_data_read": os.environ.get("OPEN_DATA_READ_RATE", "1200/min"),
        # reports one Open311 client application (one api_key) may post
        "open311_submit": os.environ.get("OPEN311_SUBMIT_RATE", "600/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Citypin API",
    "DESCRIPTION": "Report urban problems on a map; see where they are and who handles them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the npm package, not a CDN (see STATICFILES_DIRS).
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui-dist/favicon-32x32.png",
}

# GDAL 3.6 (Debian 12) cannot block network access while reading spatial references. Imports read
# files an administrator chose, so the warning is noted here rather than printed on every command.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Security ---------------------------------------------------------------------------------
# Content-Security-Policy on every page, in development too (the browser tests fail on any
# violation): scripts only from this site or inline with the response's nonce, which the
# templates put on the few inline scripts (folium's map code among them). Map tiles come from
# the tile server's origin (added below, with the tile setting).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],  # Leaflet and the templates set inline styles
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # scripts read the token from the page's form, never the cookie
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Behind TLS (a reverse proxy that terminates it and says so in X-Forwarded-Proto), which is how
# `make serve` expects to run: HSTS, cookies only over HTTPS, plain HTTP redirected (but the
# health check, which load balancers call over plain HTTP). CITYPIN_TLS=0 serves plain HTTP, for
# a trial on one machine; `check --deploy` then warns, as it should.
CITYPIN_TLS = env_bool("CITYPIN_TLS", not DEBUG)
if CITYPIN_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # "preload" only allows the domain's owner to submit it to browsers' HSTS lists; nothing is sent.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

LOGIN_URL = "console-login"
LOGIN_REDIRECT_URL = "console"

# Sign-in lockouts count in the cache. Under `make serve` several gunicorn processes answer, so
# with DEBUG off the counters live in a database table that they all share (created by
# `manage.py createcachetable`, which make serve runs). Rate limits always count in PostgreSQL
# (incidents/http/ratelimit.py: one statement per request, shared in development too).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"} if DEBUG
          else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "citypin_cache"}}

# Citypin ---------------------------------------------------------------------------------
# The address people reach Citypin at, for links in e-mails.
CITYPIN_SITE_URL = os.environ.get("CITYPIN_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Seconds the worker sleeps when it has nothing to do.
CITYPIN_WORKER_INTERVAL = float(os.environ.get("CITYPIN_WORKER_INTERVAL", "5"))
# The outbox (incidents.delivery): attempts before a message is dead; the first retry's delay in
# seconds (doubled each attempt, with jitter, up to the cap); seconds a worker holds the messages it
# claimed (a crashed worker's come back after it); messages claimed at once; sends at once per
# endpoint (an SMTP server, a webhook URL) in one worker; seconds a webhook may take to answer.
CITYPIN_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("CITYPIN_OUTBOX_MAX_ATTEMPTS", "8"))
CITYPIN_OUTBOX_BACKOFF = float(os.environ.get("CITYPIN_OUTBOX_BACKOFF", "60"))
CITYPIN_OUTBOX_BACKOFF_MAX = float(os.environ.get("CITYPIN_OUTBOX_BACKOFF_MAX", str(6 * 3600)))
CITYPIN_OUTBOX_LEASE = float(os.environ.get("CITYPIN_OUTBOX_LEASE", "300"))
CITYPIN_OUTBOX_BATCH = int(os.environ.get("CITYPIN_OUTBOX_BATCH", "200"))
CITYPIN_OUTBOX_CONCURRENCY = int(os.environ.get("CITYPIN_OUTBOX_CONCURRENCY", "4"))
# Seconds the woken worker waits for more of a burst before it claims (incidents.delivery.outbox).
CITYPIN_OUTBOX_GATHER = float(os.environ.get("CITYPIN_OUTBOX_GATHER", "0.05"))
CITYPIN_WEBHOOK_TIMEOUT = float(os.environ.get("CITYPIN_WEBHOOK_TIMEOUT", "10"))
# Notices (incidents.notices): a department hears of a report's supporters every this many (a
# NotificationRule may say otherwise); hours between two dead-message digests to the IOC.
CITYPIN_SUPPORTER_MILESTONE = int(os.environ.get("CITYPIN_SUPPORTER_MILESTONE", "10"))
CITYPIN_DEAD_DIGEST_HOURS = float(os.environ.get("CITYPIN_DEAD_DIGEST_HOURS", "24"))
# Seconds a staff address gathers the mails of new reports routed to it after one was sent: in a
# storm the first goes at once and the rest of each window go as one mail (0: one mail a report).
CITYPIN_STAFF_NOTICE_GATHER_S = float(os.environ.get("CITYPIN_STAFF_NOTICE_GATHER_S", "120"))
# Area alerts (incidents/alerts.py): subscriptions (confirmed or awaiting confirmation) one
# address may hold; days a confirmation link stays valid; a circle's radius bounds in metres; a
# drawn area's largest size in km² and most vertices; the hour (TIME_ZONE) from which the worker
# sends the daily digests. Subscribe attempts per IP: REST_FRAMEWORK's "alert_subscribe" rate.
CITYPIN_ALERT_MAX_PER_ADDRESS = int(os.environ.get("CITYPIN_ALERT_MAX_PER_ADDRESS", "10"))
CITYPIN_ALERT_CONFIRM_DAYS = int(os.environ.get("CITYPIN_ALERT_CONFIRM_DAYS", "7"))
CITYPIN_ALERT_RADIUS_MIN = int(os.environ.get("CITYPIN_ALERT_RADIUS_MIN", "50"))
CITYPIN_ALERT_RADIUS_MAX = int(os.environ.get("CITYPIN_ALERT_RADIUS_MAX", "5000"))
CITYPIN_ALERT_MAX_AREA_KM2 = float(os.environ.get("CITYPIN_ALERT_MAX_AREA_KM2", "100"))
CITYPIN_ALERT_MAX_VERTICES = int(os.environ.get("CITYPIN_ALERT_MAX_VERTICES", "200"))
CITYPIN_ALERT_DIGEST_HOUR = int(os.environ.get("CITYPIN_ALERT_DIGEST_HOUR", "7"))
# An immediate subscription mails its first new report at once; the reports it matches in the
# next this many seconds go as one mail when that window ends (0: one mail a report).
CITYPIN_ALERT_GATHER_S = float(os.environ.get("CITYPIN_ALERT_GATHER_S", "600"))
# Webhooks to http:// URLs and to loopback, private and link-local addresses: for development
# only; with DEBUG off they are refused (SSRF), also at connect time.
CITYPIN_WEBHOOK_ALLOW_PRIVATE = env_bool("CITYPIN_WEBHOOK_ALLOW_PRIVATE", DEBUG)
# Open311 forwarding to departments' back offices (same https/SSRF rules as webhooks): seconds a
# back office may take to answer; seconds between two polls of its statuses; days a forwarded
# report is polled for after it was sent.
CITYPIN_OPEN311_TIMEOUT = float(os.environ.get("CITYPIN_OPEN311_TIMEOUT", "10"))
CITYPIN_OPEN311_POLL_INTERVAL = float(os.environ.get("CITYPIN_OPEN311_POLL_INTERVAL", "300"))
CITYPIN_OPEN311_POLL_DAYS = int(os.environ.get("CITYPIN_OPEN311_POLL_DAYS", "90"))
# Seconds between the worker's hotspot refreshes (incremental; a full one runs daily).
CITYPIN_HOTSPOT_INTERVAL = float(os.environ.get("CITYPIN_HOTSPOT_INTERVAL", "60"))
# Database sessions a full hotspot refresh shares its categories among (DBSCAN is one process's
# work per category): the number of cores the database may spend on it. 1 keeps it to one.
CITYPIN_HOTSPOT_SESSIONS = int(os.environ.get("CITYPIN_HOTSPOT_SESSIONS", "2"))
# Prepared statements for the hot queries; turn off behind a transaction-pooling proxy.
CITYPIN_PREPARED_STATEMENTS = os.environ.get("CITYPIN_PREPARED_STATEMENTS", "1") not in {"0", "false", "no", "off"}
# Open data: the license the public data is published under ("name|URL"), and the folder of the
# daily snapshot files (empty: MEDIA_ROOT/open-data).
CITYPIN_DATA_LICENSE = tuple(os.environ.get(
    "CITYPIN_DATA_LICENSE", "CC BY 4.0|https://creativecommons.org/licenses/by/4.0/").split("|", 1))
CITYPIN_OPEN_DATA_DIR = os.environ.get("CITYPIN_OPEN_DATA_DIR", "")
# Public id prefix, e.g. CT-2026-000123.
# Open311: the jurisdiction_id clients may send besides the code of an operations center's area
# (a domain name, by custom), and who developers write to.
CITYPIN_OPEN311_JURISDICTION = os.environ.get("CITYPIN_OPEN311_JURISDICTION", "")
CITYPIN_OPEN311_CONTACT = os.environ.get("CITYPIN_OPEN311_CONTACT", "")
CITYPIN_PUBLIC_ID_PREFIX = os.environ.get("CITYPIN_PUBLIC_ID_PREFIX", "CT")
# Metric SRID for measuring and clustering in this deployment (Cần Thơ: VN-2000 / UTM 48N).
CITYPIN_METRIC_SRID = int(os.environ.get("CITYPIN_METRIC_SRID", "3405"))
# Map tiles (a setting: offline deployments point it at their own tile server).
CITYPIN_TILE_URL = os.environ.get("CITYPIN_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
CITYPIN_TILE_ATTRIBUTION = os.environ.get(
    "CITYPIN_TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
    "/".join(CITYPIN_TILE_URL.split("/")[:3]).replace("{s}.", "*."))  # the tile server's origin

# Where maps open: "lon,lat" (WGS-84) and a zoom level. Default: central Cần Thơ.
CITYPIN_MAP_CENTER = tuple(float(v) for v in os.environ.get("CITYPIN_MAP_CENTER", "105.7469,10.0300").split(","))
CITYPIN_MAP_ZOOM = int(os.environ.get("CITYPIN_MAP_ZOOM", "12"))

# The office calendar that targets (SLA) count in, in TIME_ZONE: office hours as
# "HH:MM-HH:MM" periods, working weekdays (0 = Monday), and the country whose public holidays
# (the `holidays` package; VN includes Tết) are days off. Further closures and make-up working
# days are CalendarDay rows, edited in the admin.
CITYPIN_OFFICE_HOURS = os.environ.get("CITYPIN_OFFICE_HOURS", "07:30-11:30,13:30-17:00")
CITYPIN_WORKING_DAYS = os.environ.get("CITYPIN_WORKING_DAYS", "0,1,2,3,4")
CITYPIN_HOLIDAY_COUNTRY = os.environ.get("CITYPIN_HOLIDAY_COUNTRY", "VN")
# Failed staff logins: after this many for one username (or from one address) within the
# lockout period, logins are refused until the period has passed.
CITYPIN_LOGIN_ATTEMPTS = int(os.environ.get("CITYPIN_LOGIN_ATTEMPTS", "5"))
CITYPIN_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("CITYPIN_LOGIN_LOCKOUT_MINUTES", "15"))
# Largest request body, refused (413) from its Content-Length before it is read and again while
# it streams: 3 photos of 10 MB plus 2 MB for the form's other fields.
CITYPIN_MAX_UPLOAD_BYTES = int(os.environ.get("CITYPIN_MAX_UPLOAD_BYTES", str(32 * 1024 * 1024)))
# Photos one process decodes at once (the others wait): bounds memory whatever the thread count.
CITYPIN_PHOTO_DECODERS = int(os.environ.get("CITYPIN_PHOTO_DECODERS", "2"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
