"""Partnerzone settings: one module, driven by environment variables.

Every setting has a default that suits the embedded demo (SQLite, eager Celery tasks,
dev outbox for SMS and e-mail). Production sets DEBUG=False, SECRET_KEY, DATABASE_URL,
REDIS_URL, EMAIL_URL and TWILIO_* in the environment; see README.md and .env.example.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.core.cache import cache_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET = "partnerzone-insecure-development-key-change-me-0123456789"  # noqa: S105 (refused below unless DEBUG)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET and not env.bool("PORTAL_ALLOW_DEV_SECRET", default=False):
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
# After a rotation the old key goes here: sessions, signed links and sealed outbox secrets still open.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with the portal's site: a second factor and the portal's login (accounts/admin_site.py).
    "portal.accounts.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "portal.accounts",
    "portal.audit",
    "portal.notifications",
    "portal.core",
    "portal.api",
    "portal.evidence",
    "portal.approvals",
    "portal.threads",
    "portal.inbox",
    "portal.shell",
    "clients",
    "signing",
    "intermediaries",
    "bnpl",
    "commissions",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.api.middleware.ApiConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.accounts.middleware.AuthenticationMiddleware",
    "portal.core.middleware.LanguageMiddleware",
    "portal.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Innermost, so it stores the answer of an idempotent API POST as the view left it (portal/api/idempotency.py).
    "portal.api.idempotency.IdempotencyMiddleware",
]

# Only benchmarks set another URL conf (benchmarks.floor_urls adds the floor view).
ROOT_URLCONF = env.str("PORTAL_URLCONF", default="portal.urls")
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.shell.context_processors.portal",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI, an SQLite file for the embedded demo.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'partnerzone.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that asks the socket instead of the server (portal/postgresql).
    DATABASES["default"]["ENGINE"] = "portal.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a Celery worker started by a test sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
# Two PostgreSQL roles in production (README, "Database roles"): DATABASE_URL is the runtime role,
# which owns nothing and may not change the audit trail; DATABASE_OWNER_URL (same database, the
# role that owns the tables) is used only by `manage.py migrate --database owner` and
# `manage.py db_grant_runtime_role`. Without it one URL does everything, as in the demo.
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
if DATABASE_OWNER_URL:
    DATABASES["owner"] = env.db("DATABASE_OWNER_URL")
    DATABASES["owner"]["CONN_MAX_AGE"] = 0
    # Tests use one test database; this alias then reaches it too instead of creating another.
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries the Celery broker and the cache; without it tasks run eagerly.
REDIS_URL = env.str("REDIS_URL", default="")
# The cache (portal/core/cache.py): Redis, with the database standing in while Redis is down or
# hung. Without Redis (the embedded default) the database cache alone, so that every process —
# the server, an import run in another shell — sees the same sessions, counters and figures.
# After a change, the cached value it ends is not cached again for this long (portal.core.cache.forget).
PORTAL_CACHE_TOMBSTONE_SECONDS = env.int("PORTAL_CACHE_TOMBSTONE_SECONDS", default=5)
# While Redis fails, a process uses the database instead and asks Redis again after this long.
PORTAL_REDIS_RETRY_SECONDS = env.float("PORTAL_REDIS_RETRY_SECONDS", default=5.0)
if REDIS_URL:
    CACHES = cache_settings(REDIS_URL)
elif env.bool("PORTAL_LOCAL_CACHE", default=False):
    # Only the test run on SQLite: per-process memory, so that query counts are those of the pages.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A request must never hang on a broker that is down or stuck: publish fails fast and the
# outbox row already in the database is picked up by the periodic sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 2,
    "socket_connect_timeout": 1,
    "max_retries": 0,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = False
# /healthz answers within this many seconds whatever hangs; a check not done by then is "timeout".
PORTAL_HEALTHZ_TIMEOUT = env.float("PORTAL_HEALTHZ_TIMEOUT", default=0.8)
# Workers write a heartbeat row this often (portal/core/worker_heartbeat.py); /healthz counts a
# worker as gone when its last one is older than PORTAL_WORKER_STALE_SECONDS.
PORTAL_WORKER_HEARTBEAT_SECONDS = env.float("PORTAL_WORKER_HEARTBEAT_SECONDS", default=10.0)
PORTAL_WORKER_STALE_SECONDS = env.float("PORTAL_WORKER_STALE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    # bnpl fees (daily work, run every 6 h so a missed run is caught up): late fees past their grace days,
    # once each, and the fee status rules; a re-run the same day changes nothing.
    "bnpl-fees-daily": {
        "task": "bnpl.fees_tasks.fees_daily",
        "schedule": 6 * 3600.0,
        "options": {"expires": 3 * 3600},
    },
    # Parcels of shipped orders that were never registered with the carrier (the queue was away).
    "bnpl-orders-tracking-sweep": {
        "task": "bnpl.tasks.orders_tracking_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Commission accruals of this month and of last month while it is open (idempotent runs).
    "commissions-accrue": {
        "task": "commissions.tasks.commissions_accrue",
        "schedule": 6 * 3600.0,
        "options": {"expires": 3 * 3600},
    },
    # A sweep that waited in the queue past the next one is dropped, so an outage does not pile them up.
    "deliver-due-outbox": {
        "task": "portal.notifications.tasks.outbox_sweep",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    # SMS whose outcome is unknown: Twilio is asked whether it has them, and they are settled.
    "reconcile-unknown-sms": {
        "task": "portal.notifications.tasks.outbox_reconcile",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Approvals past their due time expire (the engine's beat task; a re-run finds nothing to do).
    "approvals-expire": {
        "task": "portal.approvals.tasks.approvals_expire",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Signature requests past their deadline expire; code rounds nobody finished end.
    "signing-sweep": {
        "task": "signing.tasks.signing_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Phone verification rounds whose code expired end, and their SMS keep no copy of it.
    "phone-verifications-sweep": {
        "task": "portal.accounts.tasks.phone_verifications_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # "Download my data" ZIPs are deleted after their 7 days; lost builds are queued again.
    "data-exports-sweep": {
        "task": "clients.tasks.data_exports_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # Expired Idempotency-Key records and the database rate counters of ended windows.
    "api-sweep": {
        "task": "portal.api.tasks.api_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # Report renders whose worker died (or whose task the broker lost) are queued again.
    "reports-sweep": {
        "task": "reports.tasks.reports_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Clients' statements: the last quarter's portfolio statement, in January last year's costs and
    # charges statement; each run issues only what is missing (a batch at a time).
    "reports-statements": {
        "task": "reports.tasks.statements_issue_due",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # allauth's e-mail login; the signed-in user of each request comes from the cache.
    "portal.accounts.backends.PortalAuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "shell:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail is the login; e-mail changes are verified; repeated failures lock out.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ALLOW_REGISTRATION = env.bool("PORTAL_ALLOW_SIGNUP", default=False)
ACCOUNT_ADAPTER = "portal.accounts.adapter.PortalAccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("PORTAL_LOGIN_LOCKOUT", default="10/m/ip,5/15m/key"),
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"

# Two factors: TOTP via django-otp. Staff and intermediaries must enrol when this is on.
PORTAL_REQUIRE_2FA = env.bool("PORTAL_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "Partnerzone"
OTP_TOTP_THROTTLE_FACTOR = 1

# Notifications: SMS via Twilio and e-mail via SMTP in production; the dev outbox otherwise.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Partnerzone <no-reply@partnerzone.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# Only for tests and staging: sends the real twilio client to another base URL.
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="")
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)
PORTAL_EMAIL_TRANSPORT = env.str("PORTAL_EMAIL_TRANSPORT", default="smtp" if EMAIL_URL else "dev")
PORTAL_SMS_TRANSPORT = env.str("PORTAL_SMS_TRANSPORT", default="twilio" if TWILIO_ACCOUNT_SID else "dev")
# The dev outbox page shows every message sent through the dev transports.
PORTAL_DEV_OUTBOX = env.bool("PORTAL_DEV_OUTBOX", default=DEBUG)
# Delivery that certainly did not reach the provider is retried after 30 s, 60 s, 120 s … (at most
# an hour apart) until the last attempt; a row left "sending" for 5 minutes is taken back by the sweep.
PORTAL_OUTBOX_MAX_ATTEMPTS = env.int("PORTAL_OUTBOX_MAX_ATTEMPTS", default=8)
PORTAL_OUTBOX_RETRY_BASE_SECONDS = env.int("PORTAL_OUTBOX_RETRY_BASE_SECONDS", default=30)
PORTAL_OUTBOX_RETRY_MAX_SECONDS = 3600
PORTAL_OUTBOX_STUCK_SECONDS = 300
PORTAL_OUTBOX_SWEEP_BATCH = 100
PORTAL_OUTBOX_SWEEP_SECONDS = 25
# Links in e-mails are absolute: the address users reach the portal at.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Signature requests (signing/, docs/signing.md). One-time codes are stored only as an HMAC
# keyed with SIGNING_CODE_KEY (empty: a key derived from SECRET_KEY).
SIGNING_CODE_KEY = env.str("SIGNING_CODE_KEY", default="")
SIGNING_REQUEST_VALID_DAYS = env.int("SIGNING_REQUEST_VALID_DAYS", default=14)
SIGNING_MAX_ATTACHMENT_BYTES = env.int("SIGNING_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
SIGNING_MAX_ATTACHMENTS = env.int("SIGNING_MAX_ATTACHMENTS", default=10)
# Buy now, pay later (bnpl/): a payment session can be checked out for this long after it was opened.
BNPL_SESSION_TTL_MINUTES = env.int("BNPL_SESSION_TTL_MINUTES", default=60)
# The lender named in the pre-contractual information and the credit agreement of the hosted checkout.
BNPL_CREDITOR_NAME = env.str("BNPL_CREDITOR_NAME", default="Partnerzone Consumer Credit GmbH")
# The purchase limit a shopper who registers at the checkout starts with (back office changes it later).
BNPL_STARTER_LIMIT = Decimal(env.str("BNPL_STARTER_LIMIT", default="500.00"))
BNPL_STARTER_LIMIT_CURRENCY = env.str("BNPL_STARTER_LIMIT_CURRENCY", default="EUR")
BNPL_CREDITOR_ADDRESS = env.str("BNPL_CREDITOR_ADDRESS", default="Friedrichstraße 100, 10117 Berlin, Germany")
# A render that shows no sign of life for this long (its worker was killed) is queued again by the
# sweep, or when the same report is asked for again; a report gets at most this many renders.
REPORTS_STUCK_SECONDS = env.int("REPORTS_STUCK_SECONDS", default=300)
REPORTS_RENDER_MAX_ATTEMPTS = env.int("REPORTS_RENDER_MAX_ATTEMPTS", default=5)
# Shipment tracking (bnpl/tracking.py, docs/bnpl-tracking.md). Without SHIPPO_API_KEY the built-in
# carrier simulator answers; SHIPPO_API_URL points the official client elsewhere (tests: a loopback
# fake). Shippo's webhooks must carry ?token=SHIPPO_WEBHOOK_TOKEN; with SHIPPO_WEBHOOK_HMAC_SECRET
# (provisioned by Shippo) the Shippo-Auth-Signature header is verified as well.
SHIPPO_API_KEY = env.str("SHIPPO_API_KEY", default="")
SHIPPO_API_URL = env.str("SHIPPO_API_URL", default="https://api.goshippo.com")
SHIPPO_TIMEOUT = env.float("SHIPPO_TIMEOUT", default=10.0)
SHIPPO_WEBHOOK_TOKEN = env.str("SHIPPO_WEBHOOK_TOKEN", default="")
SHIPPO_WEBHOOK_HMAC_SECRET = env.str("SHIPPO_WEBHOOK_HMAC_SECRET", default="")
SHIPPO_WEBHOOK_TOLERANCE_SECONDS = env.int("SHIPPO_WEBHOOK_TOLERANCE_SECONDS", default=300)
# The simulator: in transit this many minutes after registration, delivered (returned, failed) at three times it.
SHIPPO_SIMULATOR_STEP_MINUTES = env.int("SHIPPO_SIMULATOR_STEP_MINUTES", default=5)
# Message threads (portal/threads): a message's length, and its attachments (PDF, PNG, JPEG).
THREADS_MAX_BODY_CHARS = env.int("THREADS_MAX_BODY_CHARS", default=5000)
THREADS_MAX_ATTACHMENT_BYTES = env.int("THREADS_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
THREADS_MAX_ATTACHMENTS = env.int("THREADS_MAX_ATTACHMENTS", default=5)

# BNPL pricing (bnpl/pricing.py, docs/bnpl-pricing.md). Annual nominal rates in percent per monthly
# plan, as strings (JSON numbers work too); a plan missing from the table is not offered. Pay in 4 is
# interest-free by definition and has no entry. Override with a JSON object in the environment.
BNPL_NOMINAL_RATES = env.json(
    "BNPL_NOMINAL_RATES",
    default={"monthly_3": "0", "monthly_6": "5.9", "monthly_12": "9.9", "monthly_24": "11.9"},
)
# The purchase amounts each plan is offered for, per currency: [minimum, maximum], both included.
# A currency missing for a plan means the plan is not offered in it.
_BNPL_PAY_IN_4_LIMITS = {
    "EUR": ["35", "1000"],
    "USD": ["35", "1000"],
    "GBP": ["30", "900"],
    "CHF": ["35", "1000"],
    "PLN": ["150", "4500"],
    "CZK": ["900", "25000"],
    "SEK": ["400", "11000"],
    "DKK": ["250", "7500"],
}
_BNPL_MONTHLY_LIMITS = {
    "EUR": ["100", "10000"],
    "USD": ["100", "10000"],
    "GBP": ["90", "9000"],
    "CHF": ["100", "10000"],
    "PLN": ["450", "45000"],
    "CZK": ["2500", "250000"],
    "SEK": ["1100", "110000"],
    "DKK": ["750", "75000"],
}
BNPL_AMOUNT_LIMITS = env.json(
    "BNPL_AMOUNT_LIMITS",
    default={
        "pay_in_4": _BNPL_PAY_IN_4_LIMITS,
        "monthly_3": _BNPL_MONTHLY_LIMITS,
        "monthly_6": _BNPL_MONTHLY_LIMITS,
        "monthly_12": _BNPL_MONTHLY_LIMITS,
        "monthly_24": _BNPL_MONTHLY_LIMITS,
    },
)

# Internationalisation: English first, German and Russian complete.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("ru", _("Russian"))]
# English with European dates and 24-hour times, like German and Russian (portal/formats/en).
FORMAT_MODULE_PATH = ["portal.formats"]
LOCALE_PATHS = [env.path("PORTAL_LOCALE_DIR", default=BASE_DIR / "locale")]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
_STATIC_MANIFEST = env.bool("PORTAL_STATIC_MANIFEST", default=not DEBUG)
# Without collectstatic (demo, tests) WhiteNoise serves straight from the app and static dirs.
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (after collectstatic); plain files for demo and tests.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads live outside the web root and are served only through authorised views.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security headers and cookies (manage.py check --deploy is clean with DEBUG off).
# Sessions live in the database and are read through the cache (portal/accounts/sessions.py).
SESSION_ENGINE = "portal.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# How many reverse proxies in front of the app may be believed about the client's address and
# scheme. Without one (0), X-Forwarded-For and X-Forwarded-Proto are whatever the client made up.
PORTAL_TRUSTED_PROXY_HOPS = env.int("PORTAL_TRUSTED_PROXY_HOPS", default=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PORTAL_TRUSTED_PROXY_HOPS > 0 else None
# Dashboard and client figures cached per data version (portal.core.versioned_cache); off only
# to measure the uncached path.
PORTAL_FIGURES_CACHE = env.bool("PORTAL_FIGURES_CACHE", default=True)
X_FRAME_OPTIONS = "DENY"
# Django's own CSRF failure page has inline styles, which PORTAL_CSP refuses.
CSRF_FAILURE_VIEW = "portal.shell.views.csrf_failure"
PORTAL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)

REST_FRAMEWORK = {
    # The key first: its 401 (with WWW-Authenticate) is the answer to a caller with no credentials.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The rate limit, then the Idempotency-Key gate: throttles run on every view after authentication
    # and permissions, which is where the gate needs to be (portal/api/idempotency.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.ApiKeyRateThrottle",
        "portal.api.idempotency.IdempotencyGate",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only; a view that takes files names MultiPartParser itself (one format per operation).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# Requests per API key, counted atomically in Redis or the database (portal.api.throttling); DRF's rate syntax.
PORTAL_API_KEY_RATE = env.str("PORTAL_API_KEY_RATE", default="120/minute")
# Idempotency-Key on API POSTs (portal.api.idempotency): records are kept a day; a repeat waits this
# long for the first run's answer; a run still unanswered after STALE seconds (far beyond gunicorn's
# timeout) is taken for dead.
PORTAL_IDEMPOTENCY_TTL = 24 * 3600
PORTAL_IDEMPOTENCY_WAIT_SECONDS = env.float("PORTAL_IDEMPOTENCY_WAIT_SECONDS", default=3.0)
PORTAL_IDEMPOTENCY_STALE_SECONDS = 300
SPECTACULAR_SETTINGS = {
    "TITLE": "Partnerzone API",
    "DESCRIPTION": "REST API for intermediaries, partners and merchants.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no CDN, nothing fetched from outside.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The default enum hook, then the kernel's conventions: error answers, ETags, empty query values, enum names.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.error_responses",
        "portal.api.idempotency_schema.idempotency_documented",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ClientStatusEnum": "clients.models.Client.Status",
        "PortfolioStatusEnum": "intermediaries.models.Portfolio.Status",
        "CommissionStatementStatusEnum": "commissions.models.Statement.Status",
        "CommissionKindEnum": "commissions.models.Kind",
        "ReportStatusEnum": "reports.models.Report.Status",
        "ReportKindEnum": "reports.models.Report.Kind",
        "SignatureRequestKindEnum": "signing.models.SignatureRequest.Kind",
        "SignatureRequestStatusEnum": "signing.models.SignatureRequest.Status",
        "BnplSessionStateEnum": "bnpl.models.PaymentSession.State",
        "BnplOrderStateEnum": "bnpl.models.Order.State",
        "BnplPlanStateEnum": "bnpl.models.Plan.State",
        "BnplInstalmentStateEnum": "bnpl.models.Instalment.State",
        # Two lists of currencies: a signature request's and BNPL's (a buy button's); named apart.
        "CurrencyEnum": "signing.validators.CURRENCIES",
        "BnplCurrencyEnum": "bnpl.money.CURRENCY_CHOICES",
    },
}

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# BNPL webhooks to merchants (bnpl/webhooks.py, docs/bnpl-webhooks.md): a POST waits this long for an
# answer; a failed delivery is tried again after base, 2×base, 4×base … seconds (capped), at most
# BNPL_WEBHOOK_MAX_ATTEMPTS times. Loopback and private addresses are refused unless allowed (tests, demo).
BNPL_WEBHOOK_TIMEOUT_SECONDS = env.float("BNPL_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
BNPL_WEBHOOK_MAX_ATTEMPTS = env.int("BNPL_WEBHOOK_MAX_ATTEMPTS", default=8)
BNPL_WEBHOOK_RETRY_BASE_SECONDS = env.int("BNPL_WEBHOOK_RETRY_BASE_SECONDS", default=60)
BNPL_WEBHOOK_RETRY_MAX_SECONDS = env.int("BNPL_WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
BNPL_WEBHOOK_ALLOW_PRIVATE = env.bool("BNPL_WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
# The demo's stand-in web shop (/bnpl/demo-shop/), which pays later through the merchant API with
# the key `manage.py demo` writes to this file. Off unless DEBUG: it is not part of a real portal.
BNPL_DEMO_SHOP = env.bool("BNPL_DEMO_SHOP", default=DEBUG)
BNPL_DEMO_SHOP_KEY_FILE = env.str("BNPL_DEMO_SHOP_KEY_FILE", default=str(BASE_DIR / "var" / "demo-shop.key"))
# Instant shopping: how long the merchant's server has to confirm an order before it counts as declined
# (bnpl/instant.py). The shopper waits that long at most, so keep it short.
BNPL_CONFIRM_TIMEOUT_SECONDS = env.float("BNPL_CONFIRM_TIMEOUT_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["bnpl-webhook-sweep"] = {
    "task": "bnpl.webhook_tasks.webhook_sweep",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# BNPL collections (bnpl/collection_runs.py, docs/bnpl-collections.md): the creditor named in every
# pain.008 file. The defaults are valid demo values (the Bundesbank's test creditor identifier and a
# well-known example IBAN); production sets its own from the bank's contract.
BNPL_CREDITOR_NAME = env.str("BNPL_CREDITOR_NAME", default="Partnerzone BNPL GmbH")
BNPL_CREDITOR_IBAN = env.str("BNPL_CREDITOR_IBAN", default="DE89370400440532013000")
BNPL_CREDITOR_BIC = env.str("BNPL_CREDITOR_BIC", default="COBADEFFXXX")
BNPL_CREDITOR_ID = env.str("BNPL_CREDITOR_ID", default="DE98ZZZ09999999999")
# Dunning levels (bnpl/dunning.py): level n is sent this many days after the due date; level 2 and
# later carry the dunning fee (charged once, within the caps of bnpl/fees.py).
BNPL_DUNNING_DAYS = env.list("BNPL_DUNNING_DAYS", cast=int, default=[3, 14, 28])
# A bank statement uploaded on the collections page may be at most this large (larger: 413).
BNPL_STATEMENT_MAX_BYTES = env.int("BNPL_STATEMENT_MAX_BYTES", default=5 * 1024 * 1024)
# Prepare tomorrow's collection run and run overdue marking + dunning; both idempotent per day.
CELERY_BEAT_SCHEDULE["bnpl-collection-run-tomorrow"] = {
    "task": "bnpl.collection_tasks.collection_run_tomorrow",
    "schedule": 6 * 3600.0,
    "options": {"expires": 3 * 3600},
}
CELERY_BEAT_SCHEDULE["bnpl-dunning-daily"] = {
    "task": "bnpl.collection_tasks.dunning_daily",
    "schedule": 6 * 3600.0,
    "options": {"expires": 3 * 3600},
}
