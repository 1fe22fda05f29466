"""Vivolog settings: one file, every value from the environment (see README 'Configuration')."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pghistory
from csp.constants import NONCE

from config.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    sqlalchemy_broker_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VIVOLOG_VERSION = "0.1.0"

SECRET_KEY = env_str("VIVOLOG_SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise ConfigError("VIVOLOG_SECRET_KEY must be at least 32 characters long")
DEBUG = env_bool("VIVOLOG_DEBUG", default=False)
ALLOWED_HOSTS = env_list("VIVOLOG_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("VIVOLOG_CSRF_TRUSTED_ORIGINS", "http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "planner",
    "labnotes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "planner.audit.middleware.RequestIdMiddleware",
    "planner.api.limits.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "planner.security.middleware.SessionSecurityMiddleware",
    "planner.security.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "planner.audit.middleware.AuditContextMiddleware",
    # Turns a write refused by a run's data lock (a database trigger) into a 423 answer.
    "labnotes.middleware.LockedRunMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "planner.context_processors.vivolog",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("VIVOLOG_DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# django-pgtrigger's trigger functions read the `pgtrigger.ignore` setting in an EXCEPTION block
# on every row; left unset, each row raises and catches an error (a subtransaction): audited
# bulk writes ran 3.5 times slower (bench/bench_ingest.py). Set to "ignore nothing" for every
# connection; `pgtrigger.ignore()` still overrides it per transaction.
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"]["OPTIONS"],  # type: ignore[dict-item]
    "options": "-c pgtrigger.ignore={}",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out user before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "planner.security.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("VIVOLOG_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("VIVOLOG_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"
# "manifest" (production, compose): collectstatic writes hashed, compressed files that
# WhiteNoise serves with far-future caching. "finders" (make run, tests): files are served
# straight from static/ with no collectstatic step.
STATIC_MODE = env_str("VIVOLOG_STATIC_MODE", "manifest")
if STATIC_MODE not in {"manifest", "finders"}:
    raise ConfigError(f"VIVOLOG_STATIC_MODE={STATIC_MODE!r} must be 'manifest' or 'finders'")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MODE == "manifest"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = STATIC_MODE == "finders"
WHITENOISE_MANIFEST_STRICT = False

# --- Audit trail (django-pghistory) -------------------------------------------------------
# Event rows are append-only and time-stamped by the database clock at the statement, so that
# two changes in one transaction keep their order.
PGHISTORY_APPEND_ONLY = True
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"
# The context (who, request id, client, reason) is copied onto each event row when it is written,
# so an event keeps the metadata in force at its own statement even if the request goes on.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "planner.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "planner.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "planner.api.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vivolog API",
    "DESCRIPTION": "Preclinical in vivo study planner and lab notebook.",
    "VERSION": VIVOLOG_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `check --deploy` is the production-configuration gate; OpenAPI schema warnings belong to
    # the API's own tests (`manage.py spectacular --validate --fail-on-warn`).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "planner.api.schema.add_problem_responses",
    ],
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "DoseModificationKindEnum": "labnotes.models.dosing.ModificationKind",
        "ReportKindEnum": "labnotes.models.reports.ReportKind",
        "TumourRoleEnum": "labnotes.models.animals.TumourRole",
        "SeverityEnum": "planner.models.ethics.Severity",
    },
}
VIVOLOG_MAX_REQUEST_BYTES = env_int("VIVOLOG_MAX_REQUEST_BYTES", 20 * 1024 * 1024, minimum=1024)
VIVOLOG_MAX_BULK_ROWS = env_int("VIVOLOG_MAX_BULK_ROWS", 10_000, minimum=1)
# Device tokens (instruments, scripts): default lifetime, requests per minute per token, and
# the largest ingest body (JSON or CSV) in bytes.
VIVOLOG_DEVICE_TOKEN_DAYS = env_int("VIVOLOG_DEVICE_TOKEN_DAYS", 365, minimum=1)
VIVOLOG_DEVICE_RATE_PER_MINUTE = env_int("VIVOLOG_DEVICE_RATE_PER_MINUTE", 120, minimum=1)
VIVOLOG_INGEST_MAX_BYTES = env_int("VIVOLOG_INGEST_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = VIVOLOG_MAX_REQUEST_BYTES

# --- Celery --------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's SQLAlchemy transport on our own PostgreSQL,
# so a laptop needs no broker server. That transport never redelivers a message whose worker
# died: crash recovery there is the job sweeper's work, not the broker's.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", sqlalchemy_broker_url(DATABASES["default"]))
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://", "sqla+")):
    raise ConfigError(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL!r} is not a redis://, amqp:// or sqla+ URL"
    )
CELERY_TASK_SOFT_TIME_LIMIT = env_int("VIVOLOG_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("VIVOLOG_TASK_TIME_LIMIT", 660, minimum=2)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ConfigError("VIVOLOG_TASK_TIME_LIMIT must be longer than VIVOLOG_TASK_SOFT_TIME_LIMIT")
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int(
    "VIVOLOG_BROKER_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300, minimum=1
)
if CELERY_BROKER_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ConfigError(
        "VIVOLOG_BROKER_VISIBILITY_TIMEOUT must be longer than VIVOLOG_TASK_TIME_LIMIT"
    )
# The SQLAlchemy transport hands transport options to create_engine, which refuses unknown keys,
# so the visibility timeout (longer than the hard time limit) is set for Redis only.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_DEFAULT_QUEUE = env_str("VIVOLOG_CELERY_QUEUE", "vivolog")
# Report jobs: the running job writes a heartbeat this often; the beat sweeper treats a job whose
# heartbeat is older than the stale threshold as lost (re-queued once, then failed).
VIVOLOG_REPORT_HEARTBEAT_SECONDS = env_int("VIVOLOG_REPORT_HEARTBEAT_SECONDS", 10, minimum=1)
VIVOLOG_REPORT_STALE_SECONDS = env_int("VIVOLOG_REPORT_STALE_SECONDS", 120, minimum=2)
if VIVOLOG_REPORT_STALE_SECONDS <= VIVOLOG_REPORT_HEARTBEAT_SECONDS:
    raise ConfigError(
        "VIVOLOG_REPORT_STALE_SECONDS must be longer than VIVOLOG_REPORT_HEARTBEAT_SECONDS"
    )
CELERY_TASK_ALWAYS_EAGER = False
VIVOLOG_BROKER_PURGE_AFTER_SECONDS = env_int("VIVOLOG_BROKER_PURGE_AFTER_SECONDS", 3600, minimum=60)

# --- Email / outbound messages ---------------------------------------------------------------
EMAIL_BACKEND = env_str("VIVOLOG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = str(BASE_DIR / "var" / "mail")
DEFAULT_FROM_EMAIL = env_str("VIVOLOG_FROM_EMAIL", "vivolog@localhost")
EMAIL_HOST = env_str("VIVOLOG_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("VIVOLOG_EMAIL_PORT", 25, minimum=1)

# --- Security (README "Security") ------------------------------------------------------------
SECURE_COOKIES = env_bool("VIVOLOG_SECURE_COOKIES", default=False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SECURE_COOKIES
# The CSRF cookie stays readable by our script (static/js/vivolog.js sends it with htmx
# requests); making it HttpOnly protects nothing (Django's CSRF docs), the session cookie is.
# Idle and absolute session limits (SessionSecurityMiddleware); the cookie itself lives no
# longer than the absolute limit.
VIVOLOG_SESSION_IDLE_SECONDS = env_int("VIVOLOG_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
VIVOLOG_SESSION_MAX_SECONDS = env_int("VIVOLOG_SESSION_MAX_SECONDS", 12 * 3600, minimum=60)
if VIVOLOG_SESSION_MAX_SECONDS < VIVOLOG_SESSION_IDLE_SECONDS:
    raise ConfigError("VIVOLOG_SESSION_MAX_SECONDS must be at least VIVOLOG_SESSION_IDLE_SECONDS")
SESSION_COOKIE_AGE = VIVOLOG_SESSION_MAX_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("VIVOLOG_SSL_REDIRECT", default=False)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (compose, production).
if env_bool("VIVOLOG_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("VIVOLOG_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("VIVOLOG_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("VIVOLOG_HSTS_PRELOAD", default=False)

# Content Security Policy: same-origin everything, scripts only from our static files (or
# with the per-response nonce), no inline script or style, no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Second factor (TOTP, django-otp): members with these lab roles (and superusers) must verify
# a TOTP code after the password. Narrowing it is for development only (check --deploy warns).
VIVOLOG_OTP_REQUIRED_ROLES = tuple(
    env_list("VIVOLOG_OTP_REQUIRED_ROLES", "study_director,qa,lab_admin")
)
OTP_TOTP_ISSUER = env_str("VIVOLOG_OTP_ISSUER", "Vivolog")
OTP_TOTP_THROTTLE_FACTOR = 1

# Login lockout (django-axes): after VIVOLOG_LOGIN_FAILURE_LIMIT failures, a username is locked
# (from anywhere) and so is the (IP address, username) pair, for VIVOLOG_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("VIVOLOG_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("VIVOLOG_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "username"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The peer address only: a client-supplied X-Forwarded-For must not pick its own lockout key.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("VIVOLOG_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint narrates every rendering step at INFO; keep its warnings only.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "vivolog.security": {"level": "INFO"},
    },
}
