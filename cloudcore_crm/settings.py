"""CloudCore CRM settings: one module, driven by the environment.

Zero-config defaults: SQLite in ./db.sqlite3, Celery tasks run eagerly, email to the console.
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis; `DJANGO_ENV=production`
turns on the hardened settings and refuses to start without `SECRET_KEY`.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from cloudcore_crm.lib.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env_str("DJANGO_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

# DEBUG is off unless asked for (`make run` asks for it).
DEBUG = env_bool("DJANGO_DEBUG", False) and not PRODUCTION

DEV_SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = DEV_SECRET_KEY
if PRODUCTION and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY == DEV_SECRET_KEY or "insecure" in SECRET_KEY
):
    raise ImproperlyConfigured(
        "SECRET_KEY is short, default or guessable: use at least 50 random characters in production."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    "cloudcore_crm",
    "customers",
    "migration",
    "support_bridge",
    "pipeline",
    "reports",
    "renewals",
    "onboarding",
    "billing_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "cloudcore_crm.lib.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "cloudcore_crm.lib.security.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# Login lockout (django-axes): after repeated failures for one username from one address,
# that pair is locked out for a while. The backend must come first to see every attempt.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures are counted per username and address together (LOGIN_FAILURE_LIMIT), and per
# address across usernames (LOGIN_ADDRESS_FAILURE_LIMIT, against password spraying); each
# further lockout of the same pair doubles the wait (cloudcore_crm/lib/security.py).
LOGIN_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
LOGIN_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = "cloudcore_crm.lib.security.failure_limit"
AXES_COOLOFF_TIME = "cloudcore_crm.lib.security.cooloff"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure and lockout, for the stewards' login audit
# The client's address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT says how many proxies (each
# appending the address it saw to X-Forwarded-For) stand in front, and (when set) the request
# came from one of TRUSTED_PROXY_IPS. Not trusted by default; a client's own header never is.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXY_IPS = env_list("TRUSTED_PROXY_IPS")
AXES_CLIENT_IP_CALLABLE = "cloudcore_crm.lib.security.client_address"
# Sessions end after this long idle, and this long after logging in whatever happens.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_ABSOLUTE_TIMEOUT_HOURS = env_int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 8)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600

ROOT_URLCONF = "cloudcore_crm.urls"
WSGI_APPLICATION = "cloudcore_crm.wsgi.application"

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
                "cloudcore_crm.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a concurrent writer instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_URL_PATH = "/accounts/login/"  # where a timed-out session is sent
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-au"
TIME_ZONE = "Australia/Perth"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Cache, Celery -------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without Redis there is no worker: run tasks in-process so the zero-setup install works.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process killed mid-job (OOM, a deploy) puts its job back on the queue instead of
# losing it; every task is idempotent (claims by conditional update, one job lock).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A job taken by a worker that died is handed to another after this long; it must exceed
# the longest job (a full legacy import, ~10 minutes at full size) or it would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 30 * 60)}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS

# --- Email ---------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CloudCore CRM <crm@cloudcore.example>")

# --- Security ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files
# (htmx is vendored; no inline script), no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
# Pages for a logged-in user are not kept by browsers or proxies (production only, so the
# development server's back button stays quick).
NO_STORE_FOR_USERS = env_bool("NO_STORE_FOR_USERS", PRODUCTION)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Application ---------------------------------------------------------------------
# History "why" is free text: an import names its run, file and row, which can pass the
# default 100-character column (PostgreSQL refuses; SQLite would silently keep it).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# Demo users (one per role) are only ever created outside production.
DEMO_PASSWORD = "cloudcore-demo"
CUSTOMER_LIST_PAGE_SIZE = env_int("CUSTOMER_LIST_PAGE_SIZE", 50)
# Uploaded legacy files wait here between a dry run and its confirmation.
IMPORT_UPLOAD_DIR = env_str("IMPORT_UPLOAD_DIR", str(BASE_DIR / "var" / "imports"))
# A run still "running" this long after it started (SQLite: no worker lock) was killed.
IMPORT_RUN_STALE_MINUTES = env_int("IMPORT_RUN_STALE_MINUTES", 120)
# Uploaded import files are deleted this many days after their run (the report stays).
IMPORT_FILE_RETENTION_DAYS = env_int("IMPORT_FILE_RETENTION_DAYS", 30)
# CSV exports after the first file, together at least this big, are parsed by a second
# process while the run decides the files before them (migration/prefetch.py); 0 turns it off.
MIGRATION_PARSE_APART_BYTES = env_int("MIGRATION_PARSE_APART_BYTES", 8 * 1024 * 1024)

# --- Support bridge (helpdesk integration, churn risk) ---------------------------------
# Webhook signing secrets, comma-separated: during a rotation both old and new are accepted.
SUPPORT_WEBHOOK_SECRETS = env_list("SUPPORT_WEBHOOK_SECRETS")
# Tokens the helpdesk sends (Authorization: Token <t>) to call /api/support/lookup.
SUPPORT_LOOKUP_API_TOKENS = env_list("SUPPORT_LOOKUP_API_TOKENS")
# Exports write local times without an offset; read them in the helpdesk's zone.
SUPPORT_HELPDESK_TIME_ZONE = env_str("SUPPORT_HELPDESK_TIME_ZONE", "Australia/Perth")
# The webhook reads at most 1 MB itself (413 beyond), so Django's 2.5 MB
# DATA_UPLOAD_MAX_MEMORY_SIZE default stays as it is.
# Links in alert emails and the printed demo logins; `make run PORT=8010` sets PORT.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}")
CHURN_RISK_WEIGHTS = {
    "ticket_volume": env_int("CHURN_RISK_WEIGHT_TICKET_VOLUME", 30),
    "satisfaction_level": env_int("CHURN_RISK_WEIGHT_SATISFACTION_LEVEL", 20),
    "satisfaction_trend": env_int("CHURN_RISK_WEIGHT_SATISFACTION_TREND", 20),
    "open_high_priority": env_int("CHURN_RISK_WEIGHT_OPEN_HIGH_PRIORITY", 15),
    "renewal_soon": env_int("CHURN_RISK_WEIGHT_RENEWAL_SOON", 10),
    "billing_discrepancy": env_int("CHURN_RISK_WEIGHT_BILLING_DISCREPANCY", 10),
    "no_recent_contact": env_int("CHURN_RISK_WEIGHT_NO_RECENT_CONTACT", 10),
}
CHURN_RISK_BANDS = {"high": 60, "medium": 30}  # score at or above which a band starts
# Pipeline: each open stage's chance of closing as won (percent), for the weighted forecast,
# and the days in a stage after which a deal is highlighted as stuck.
PIPELINE_STAGE_PROBABILITY = {"suspect": 5, "prospect": 10, "qualified": 25, "meeting": 40, "proposal": 60}
PIPELINE_STUCK_DAYS = {"suspect": 60, "prospect": 45, "qualified": 30, "meeting": 30, "proposal": 21}
PIPELINE_BOARD_CARDS_PER_STAGE = env_int("PIPELINE_BOARD_CARDS_PER_STAGE", 12)
CELERY_BEAT_SCHEDULE = {
    "support-bridge-nightly-risk": {
        "task": "support_bridge.tasks.recompute_risk_nightly",
        "schedule": crontab(hour=2, minute=15),  # CELERY_TIMEZONE, after the day's tickets
        "options": {"expires": 60 * 60 * 6},
    },
    "migration-nightly-sweep": {
        "task": "migration.tasks.sweep_imports",
        "schedule": crontab(hour=3, minute=0),  # abandoned runs, temporary folders, expired uploads
        "options": {"expires": 60 * 60 * 6},
    },
    "customers-nightly-duplicate-scan": {
        "task": "customers.tasks.scan_duplicates",
        "schedule": crontab(hour=1, minute=30),  # before the day starts; the queue is ready for stewards
        "options": {"expires": 60 * 60 * 6},
    },
    "reports-freeze-last-month": {
        "task": "reports.tasks.freeze_last_month",
        "schedule": crontab(day_of_month=1, hour=0, minute=30),  # CELERY_TIMEZONE (Perth): the month just ended
        "options": {"expires": 60 * 60 * 12},
    },
    "reports-weekly-digests": {
        "task": "reports.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week=1, hour=7, minute=0),  # Monday 07:00 Australia/Perth
        "options": {"expires": 60 * 60 * 6},
    },
    "renewals-nightly-scan": {
        "task": "renewals.tasks.nightly_scan",
        "schedule": crontab(hour=2, minute=45),  # after the risk scores, so emails carry tonight's band
        "options": {"expires": 60 * 60 * 6},
    },
    "billing-sync-nightly-reconciliation": {
        "task": "billing_sync.tasks.reconcile_nightly",
        "schedule": crontab(hour=1, minute=50),  # before the risk run at 02:15 counts open discrepancies
        "options": {"expires": 60 * 60 * 6},
    },
}

# --- Onboarding (orders from a won deal to an active subscription) ---------------------
# Products an order may hold and still be provisioned automatically (with no custom requirements).
ONBOARDING_AUTO_PRODUCTS = env_list("ONBOARDING_AUTO_PRODUCTS", "datavault,cloudsync,analytics-pro")
# How eligible orders are provisioned (onboarding/adapters.py); the default completes each
# task on a worker after a delay, ExternalProvisioning waits for IT's signed events.
ONBOARDING_PROVISIONING_ADAPTER = env_str(
    "ONBOARDING_PROVISIONING_ADAPTER", "onboarding.adapters.DelayedAutoProvisioning"
)
ONBOARDING_AUTO_PROVISION_DELAY = env_int("ONBOARDING_AUTO_PROVISION_DELAY", 20)  # seconds
ONBOARDING_PROVISIONING_QUEUE = env_str("ONBOARDING_PROVISIONING_QUEUE")  # empty: Celery's default queue
# The exception queue's owner (a username); without one, the first provisioning user.
ONBOARDING_PROVISIONING_LEAD = env_str("ONBOARDING_PROVISIONING_LEAD", "provisioning")
ONBOARDING_STUCK_HOURS = env_int("ONBOARDING_STUCK_HOURS", 48)  # no progress this long opens an exception
ONBOARDING_TARGET_DAYS = env_int("ONBOARDING_TARGET_DAYS", 1)  # activation target (seed 002: 1 day, baseline 3)
ONBOARDING_BASELINE_DAYS = 3
# Secrets IT's provisioning tooling signs POST /api/onboarding/events with (comma-separated).
ONBOARDING_EVENT_SECRETS = env_list("ONBOARDING_EVENT_SECRETS")
ONBOARDING_STATUS_REFRESH_SECONDS = 30  # the customer's status page reloads itself (< 60 s)
ONBOARDING_SYSTEM_USERNAME = "onboarding-system"  # the automation's own (login-less) user
CELERY_BEAT_SCHEDULE["onboarding-stuck-orders"] = {
    "task": "onboarding.tasks.scan_stuck_orders",
    "schedule": crontab(minute="*/30"),
    "options": {"expires": 60 * 25},
}

# --- Xero reconciliation (billing_sync) -------------------------------------------------
BILLING_UPLOAD_DIR = env_str("BILLING_UPLOAD_DIR", str(BASE_DIR / "var" / "xero"))
# A contract value differs from what Xero bills when the gap is over both of these.
BILLING_TOLERANCE_PERCENT = env_str("BILLING_TOLERANCE_PERCENT", "1")
BILLING_TOLERANCE_AMOUNT = env_str("BILLING_TOLERANCE_AMOUNT", "100")
# Days past a billing period before a live subscription counts as not billed.
BILLING_NOT_BILLED_GRACE_DAYS = env_int("BILLING_NOT_BILLED_GRACE_DAYS", 15)
BILLING_DISCREPANCY_OWNER = env_str("BILLING_DISCREPANCY_OWNER")  # a username; default: first Finance user
# Days after an activated order's start date before "no invoice carries its ID" is a case.
BILLING_HANDOFF_GRACE_DAYS = env_int("BILLING_HANDOFF_GRACE_DAYS", 14)
# The Xero API pull (billing_sync.sources.XeroApiSource); the CSV exports need none of these.
XERO_CLIENT_ID = env_str("XERO_CLIENT_ID")
XERO_CLIENT_SECRET = env_str("XERO_CLIENT_SECRET")
XERO_TENANT_ID = env_str("XERO_TENANT_ID")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint (board-pack PDF) logs every layout step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Reports (board pack, dashboards, digests) ----------------------------------------
# The chance a deal at each open stage closes: the pipeline's own probabilities, so the board
# pack's weighted forecast and the pipeline board's agree.
REPORTS_STAGE_PROBABILITY = {stage: percent / 100 for stage, percent in PIPELINE_STAGE_PROBABILITY.items()}
# A month frozen within this many days of its end is "live"; later, "rebuilt from history".
REPORTS_LIVE_FREEZE_DAYS = env_int("REPORTS_LIVE_FREEZE_DAYS", 3)
REPORTS_DIGEST_BATCH = env_int("REPORTS_DIGEST_BATCH", 100)  # messages per send over one connection
# Dashboards' whole-table figures (pipeline, renewal windows, ARR by product) are cached this long.
REPORTS_DASHBOARD_CACHE_SECONDS = env_int("REPORTS_DASHBOARD_CACHE_SECONDS", 300)
# Data fidelity of the legacy import (issue #18). A client-master contract value differing
# from what Xero bills a year by more than BOTH the percentage and the amount is a drift
# flagged for Finance.
MIGRATION_DRIFT_TOLERANCE_PERCENT = env_str("MIGRATION_DRIFT_TOLERANCE_PERCENT", "1")
MIGRATION_DRIFT_TOLERANCE_AMOUNT = env_str("MIGRATION_DRIFT_TOLERANCE_AMOUNT", "100")
# Helpdesk survey labels on the 0-10 scale: Freshdesk's three- and five-point surveys and
# Zendesk's good/bad. A steward maps any other label at /migration/held/.
SURVEY_LABEL_SCORES = {
    "awesome": 10,
    "neutral": 5,
    "not good": 0,
    "extremely satisfied": 10,
    "very satisfied": 10,
    "satisfied": 8,
    "not satisfied": 3,
    "dissatisfied": 3,
    "unsatisfied": 3,
    "extremely dissatisfied": 0,
    "very dissatisfied": 0,
    "good": 10,
    "bad": 0,
    "good, i'm satisfied": 10,
    "bad, i'm unsatisfied": 0,
}
# Bare numbers in a survey column are read on this scale (10: 0-10; 5: 1-5, scaled to 0-10).
SURVEY_NUMERIC_SCALE = env_int("SURVEY_NUMERIC_SCALE", 10)
