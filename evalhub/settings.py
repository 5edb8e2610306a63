"""EvalHub settings, read from the environment (django-environ).

Every setting has a safe default for the demo: PostgreSQL and Redis on localhost (the demo's
`evalhub.devstack` starts private ones when none answers).
Production (DEBUG off) refuses to start without SECRET_KEY.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("EVALHUB_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "[::1]", "testserver"]),
)

DEBUG = env("DEBUG")
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment, "
            "or set DEBUG=1 for a local demo."
        )
    SECRET_KEY = "insecure-demo-key-only-for-DEBUG"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "evalhub.accounts",
    "evalhub.teams",
    "evalhub.audit",
    "evalhub.prompts",
    "evalhub.outputs",
    "evalhub.instruments",
    "evalhub.studies",
    "evalhub.rating",
    "evalhub.jobs",
    "evalhub.fits",
    "evalhub.demo",
    "evalhub.dashboards",
    "evalhub.workspace",
    "evalhub.crowd",
    "axes",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "evalhub.api",
    "generation",
    "generation.judging",
    "training",
    "evalhub.pipeline",
    "evalhub.live",
    "evalhub.releases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # By this name, which Django's deploy checks of the session cookie look for.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Users and messages: Django's own, passing the crowd rating pages (no accounts there)
    # straight on.
    "evalhub.rating.middleware.AuthenticationMiddleware",
    "evalhub.rating.middleware.MessageMiddleware",
    # The signed-in user's current team and role, read fresh on every request.
    "evalhub.teams.current.CurrentTeamMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "evalhub.content_security.CSPMiddleware",  # django-csp's, the policy built once
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evalhub.urls"
WSGI_APPLICATION = "evalhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "evalhub.teams.context.team_switcher",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/evalhub")
}
# Keep connections between requests: opening one costs more than a whole rating cycle.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="evalhub"),
        # A Redis that hangs must not hold a rater's request for long: every cache user
        # goes on without it (evalhub.cache_redis.REDIS_ERRORS). One immediate retry on a
        # new connection: after a Redis restart, every pooled connection fails once.
        "OPTIONS": {
            "socket_connect_timeout": 1.0,
            "socket_timeout": 2.0,
            "retry": Retry(NoBackoff(), 1),
            "retry_on_error": [RedisConnectionError],
        },
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes checks the lock-out first, then the ordinary password check runs.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Files uploaded in the workspace wait here between their preview and their import job.
UPLOAD_DIR = VAR_DIR / "uploads"
STATICFILES_DIRS = [BASE_DIR / "evalhub" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- HTTPS and the deploy checks (`manage.py check --deploy`) ----------------------------
# Production (DEBUG off) is HTTPS-only by default; each setting can be turned off for a
# plain-HTTP host on loopback (a benchmark), never needed behind a TLS proxy.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:  # a reverse proxy that terminates TLS and appends to X-Forwarded-For
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
# An hour by default: a mistake undoes itself soon; raise it to 31536000 once HTTPS is sure.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# --- Content-Security-Policy (django-csp), one policy for every page ------------------------
# Nothing from elsewhere and nothing inline: scripts and styles are our static files (plotly
# as its strict bundle, Swagger UI from the sidecar). Styles set from JS (element.style) are
# allowed by CSP; style="" attributes and <style> elements are not. img data: is for the
# Swagger UI's icons and plotly's SVG export; img blob: is for its PNG export, which draws
# the SVG as a blob: image onto a canvas (images only: no script or frame may be a blob:).
# The one hash is of the empty string: plotly
# resets a colour bar's fills with style="", which applies nothing; any other style attribute
# is refused.
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_HASHES, EMPTY_STYLE_HASH],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

# --- Login throttling (django-axes, attempts kept in the database) -------------------------
# An (account, address) pair is locked after LOGIN_FAILURE_LIMIT failures, for
# LOGIN_COOLOFF_MINUTES after the last one; an admin unlocks it sooner (admin > Axes >
# Access attempts, or `manage.py axes_reset_username NAME`).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "evalhub.accounts.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "evalhub.accounts.views.login_locked_out"
# Proxies in front of the app that each append one X-Forwarded-For entry
# (evalhub.accounts.addresses: the address logins and API tokens are counted by).
PROXY_COUNT = env.int("PROXY_COUNT", default=1 if BEHIND_PROXY else 0)

# Keyed hash for crowd participant ids: raw Prolific ids are never stored.
RATER_ID_HASH_KEY = env.str("RATER_ID_HASH_KEY", default=SECRET_KEY)
# Where a finished crowd rater is sent, with ?cc=<completion or screen-out code>.
PROLIFIC_COMPLETION_URL = env.str(
    "PROLIFIC_COMPLETION_URL", default="https://app.prolific.com/submissions/complete"
)
# Judgments one rater may submit per minute; a person needs seconds per item.
RATING_RATE_LIMIT_PER_MINUTE = env.int("RATING_RATE_LIMIT_PER_MINUTE", default=60)

# --- Celery (namespace CELERY_) -------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=6 * 3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=6 * 3600 + 300)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A redelivered message must wait for longer than the longest job would hold it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7 * 3600)
}

# Jobs whose heartbeat is older than this are re-dispatched by the sweeper.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=300)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=5)

# Releases (evalhub.releases): where published datasets are kept, and the hub they are pushed
# to when HF_TOKEN is set (huggingface_hub's upload_folder; HF_ENDPOINT for a private hub).
RELEASES_DIR = Path(env.str("EVALHUB_RELEASES_DIR", default=str(VAR_DIR / "releases")))
HF_TOKEN = env.str("HF_TOKEN", default="")
HF_ENDPOINT = env.str("HF_ENDPOINT", default="https://huggingface.co")

# Generation: outputs are saved every GENERATION_CHUNK_SIZE samples (a killed worker loses at
# most one chunk). vLLM's memory share (on CPU, of RAM); 0 means 0.9 on a GPU, 0.3 on a CPU.
GENERATION_CHUNK_SIZE = env.int("GENERATION_CHUNK_SIZE", default=32)
GENERATION_MEMORY_UTILIZATION = env.float("GENERATION_MEMORY_UTILIZATION", default=0.0)
# vLLM's engine core in its own process overlaps scheduling with the GPU, but that process
# outlives a SIGKILLed worker and keeps holding the GPU; off by default.
GENERATION_VLLM_MULTIPROCESSING = env.bool("GENERATION_VLLM_MULTIPROCESSING", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "evalhub.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per judge or generation HTTP call drowns the worker logs (axes: per login).
    "loggers": {name: {"level": "WARNING"} for name in ("httpx", "httpcore", "openai", "axes")},
}

# --- HTTP API (evalhub.api) -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "evalhub.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Researchers only; then the query string is checked against the operation's schema.
    "DEFAULT_PERMISSION_CLASSES": [
        "evalhub.api.permissions.IsTeamMember",
        "evalhub.api.permissions.DocumentedQueryOnly",
    ],
    "DEFAULT_PARSER_CLASSES": ["evalhub.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["evalhub.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_RATE", default="1200/min"),
        "bulk": env.str("API_BULK_THROTTLE_RATE", default="60/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "evalhub.api.pagination.ApiPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "evalhub.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "evalhub.api.schema.StrictAutoSchema",
}
# API tokens (django-rest-knox): only a SHA-512 of each token is stored. Tokens made without
# an expiry (`create_api_token` without --expires-days, the tokens page's "never") never expire.
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}
# Failed API tokens per address: after this many in the window, the address gets 429.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)
API_TOKEN_FAILURE_WINDOW_SECONDS = env.int("API_TOKEN_FAILURE_WINDOW_SECONDS", default=600)
# Ordinary API bodies are capped like form posts (DATA_UPLOAD_MAX_MEMORY_SIZE); the bulk
# endpoints (outputs, judgment import) read their body themselves up to these limits.
API_BULK_MAX_BYTES = env.int("API_BULK_MAX_BYTES", default=50 * 1024 * 1024)
API_BULK_MAX_ROWS = env.int("API_BULK_MAX_ROWS", default=50_000)
SPECTACULAR_SETTINGS = {
    # Several fields are named "kind"; the instrument's gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "InstrumentKindEnum": "evalhub.instruments.models.Instrument.Kind",
        # Study, StudyWithRules and LiveStudy share these: named once so that the generated
        # client keeps its enum names.
        "StudyKindEnum": "evalhub.studies.models.Study.Kind",
        "StudyStatusEnum": "evalhub.studies.models.Study.Status",
        # LiveStudy and the live-study create serializers share it.
        "LiveParticipantsEnum": "evalhub.live.models.LiveStudy.Participants",
    },
    "TITLE": "EvalHub API",
    "DESCRIPTION": "Register models, submit outputs, run studies and judges, fetch results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PATH_CONVERTER_OVERRIDES": {
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 100}
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "evalhub.api.schema.postprocess_contract",
    ],
}

# Live studies (evalhub.live): streams per model per web process, and the read timeout of a
# live answer's stream.
LIVE_MODEL_CONCURRENCY = env.int("LIVE_MODEL_CONCURRENCY", default=32)
LIVE_STREAM_TIMEOUT_SECONDS = env.float("LIVE_STREAM_TIMEOUT_SECONDS", default=120.0)
# PostgreSQL connections per web process for the live answer path (evalhub.live.answer_db),
# opened once and kept: opening a turn takes one for about a millisecond.
LIVE_DB_CONNECTIONS = env.int("LIVE_DB_CONNECTIONS", default=8)
# Threads per web process for the live path's blocking work (the message rate count in
# Redis, a moderation judge, writing a turn's outcome): enough that raters who send at once
# never wait for one.
LIVE_THREADS = env.int("LIVE_THREADS", default=24)
