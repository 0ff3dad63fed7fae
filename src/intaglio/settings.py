"""Django settings. Every knob is an environment variable, documented in README.md (Configuration)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("INTAGLIO_DEBUG", False)

DATA_DIR = Path(env_str("INTAGLIO_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or (embedded default only) one generated once and kept in the data dir."""
    configured = env_str("INTAGLIO_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

BASE_URL = env_str("INTAGLIO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list(
    "INTAGLIO_ALLOWED_HOSTS", [urlsplit(BASE_URL).hostname or "127.0.0.1", "127.0.0.1", "localhost"]
)
CSRF_TRUSTED_ORIGINS = env_list("INTAGLIO_CSRF_TRUSTED_ORIGINS", [BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "intaglio.ops",
    "intaglio.core",
    "intaglio.accounts",
    "django_tasks",
    "django_tasks_db",
    "intaglio.assets",
    "intaglio.jobs",
    "intaglio.credits",
    "intaglio.billing",
    "intaglio.engrave",
    "intaglio.jewellery",
    "intaglio.privacy",
    "intaglio.production",
    "intaglio.feedback",
    "intaglio.gallery",
    "intaglio.review",
    "intaglio.web",
]

MIDDLEWARE = [
    "intaglio.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "intaglio.ops.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "intaglio.api.middleware.ApiErrorShapeMiddleware",
    "intaglio.ops.middleware.AccessLogMiddleware",
]

ROOT_URLCONF = "intaglio.urls"
WSGI_APPLICATION = "intaglio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL (SQLite is the default)")
    DATABASES = {
        # A database on another machine is reached over TLS unless the URL says otherwise (J30).
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=60,
            conn_health_checks=True,
            ssl_require=urlsplit(DATABASE_URL).hostname not in (None, "", "localhost", "127.0.0.1", "::1")
            and "sslmode=" not in DATABASE_URL,
        ),
    }
    # Server-side parameters: psycopg prepares a statement run five times on a connection, so the hot reads (token,
    # job poll, rate counter) are parsed and planned once: 5.3 → 4.0 ms of web-process CPU per job poll. Behind a
    # transaction-pooling PgBouncer set INTAGLIO_PG_SERVER_SIDE_BINDING=0 (it cannot keep prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool(
        "INTAGLIO_PG_SERVER_SIDE_BINDING", True
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "intaglio.sqlite3",
            # Persistent connections; WAL lets readers run beside the one writer; IMMEDIATE takes the
            # write lock at BEGIN so concurrent writers queue on busy_timeout instead of deadlocking.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every process (web and workers). Rate limits count in their own atomic store (RATE_LIMIT_STORE below).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "intaglio_cache",
    }
}

# --- Accounts ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"  # no extra cookie
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "landing"
PASSWORD_RESET_TIMEOUT = env_int("INTAGLIO_EMAIL_LINK_TTL", 60 * 60 * 24)

# Password attempts per window: per (account, client) pair, per client address, and per account from everywhere.
# The account-wide limit is looser and pauses only password sign-in: its owner can still get an e-mailed link.
LOGIN_FAILURES_PER_ACCOUNT_CLIENT = env_int("INTAGLIO_LOGIN_FAILURES_PER_ACCOUNT_CLIENT", 10)
LOGIN_FAILURES_PER_ACCOUNT = env_int("INTAGLIO_LOGIN_FAILURES_PER_ACCOUNT", 30)
LOGIN_FAILURES_PER_IP = env_int("INTAGLIO_LOGIN_FAILURES_PER_IP", 50)
LOGIN_THROTTLE_WINDOW = env_int("INTAGLIO_LOGIN_THROTTLE_WINDOW", 60)
# Reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: use the peer address).
TRUSTED_PROXY_HOPS = env_int("INTAGLIO_TRUSTED_PROXY_HOPS", 0)
API_RATE = env_str("INTAGLIO_API_RATE", "600/m")
# Rate-limit counters (intaglio.core.ratelimit): "auto" is a memory-mapped file on SQLite (shared by every process of
# the machine, no database write per request) and the counter table on PostgreSQL (shared by every machine).
RATE_LIMIT_STORE = env_str("INTAGLIO_RATE_LIMIT_STORE", "auto")
RATE_LIMIT_FILE = DATA_DIR / "ratelimit.bin"
RATE_LIMIT_SLOTS = env_int("INTAGLIO_RATE_LIMIT_SLOTS", 65536)
# E-mails a sign-up, reset, verification, address change or sign-in link request may send one address per hour.
EMAILS_PER_ADDRESS_PER_HOUR = env_int("INTAGLIO_EMAILS_PER_ADDRESS_PER_HOUR", 5)
# One-time sign-in links: how long one works, and how many one network address may ask for per hour.
SIGN_IN_LINK_SECONDS = env_int("INTAGLIO_SIGN_IN_LINK_SECONDS", 15 * 60)
SIGN_IN_LINKS_PER_IP_PER_HOUR = env_int("INTAGLIO_SIGN_IN_LINKS_PER_IP_PER_HOUR", 20)

# --- Plans and credits ------------------------------------------------------------------------------
# Monthly credit allowance and limits per plan. A JSON object in INTAGLIO_PLANS replaces this table.
PLANS = {
    "free": {"monthly_credits": 20, "storage_mb": 500, "concurrent_jobs": 2, "max_image_mp": 24},
    "pro": {"monthly_credits": 500, "storage_mb": 20_000, "concurrent_jobs": 5, "max_image_mp": 60},
    "studio": {"monthly_credits": 3000, "storage_mb": 200_000, "concurrent_jobs": 20, "max_image_mp": 100},
}
if env_str("INTAGLIO_PLANS"):
    PLANS = json.loads(env_str("INTAGLIO_PLANS"))
DEFAULT_PLAN = env_str("INTAGLIO_DEFAULT_PLAN", "free")
if DEFAULT_PLAN not in PLANS:
    raise ImproperlyConfigured(f"INTAGLIO_DEFAULT_PLAN {DEFAULT_PLAN!r} is not one of the plans: {sorted(PLANS)}")

# --- Payments (Stripe) --------------------------------------------------------------------------------
# Without STRIPE_API_KEY payments are off: the pricing page says so and everything else works as before.
# Checkout and the Customer Portal are Stripe's hosted pages, so no card detail ever reaches us (J31).
STRIPE_API_KEY = env_str("STRIPE_API_KEY")
# The signing secret of the webhook endpoint ("whsec_…"); deliveries to /hooks/stripe/ are refused without it.
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# The API address (the library's api_base); the local fake (tests/fakes/stripe.py) is pointed at through it.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20)
# A webhook whose signed timestamp is further than this from now is refused (Stripe's own default).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
# What each paid plan costs: the Stripe price id the checkout uses and the amount the pricing page shows.
# INTAGLIO_PLAN_PRICES (JSON, {"pro": {"stripe_price": "price_…", "display": "€12 / month"}}) replaces it.
PLAN_PRICES = {
    "pro": {"stripe_price": env_str("STRIPE_PRICE_PRO", "price_pro_monthly"), "display": "€12 / month"},
    "studio": {"stripe_price": env_str("STRIPE_PRICE_STUDIO", "price_studio_monthly"), "display": "€49 / month"},
}
if env_str("INTAGLIO_PLAN_PRICES"):
    PLAN_PRICES = json.loads(env_str("INTAGLIO_PLAN_PRICES"))
else:
    # The default prices follow the plan table: a deployment that replaces PLANS sells only the plans it keeps.
    PLAN_PRICES = {plan: price for plan, price in PLAN_PRICES.items() if plan in PLANS and plan != DEFAULT_PLAN}
# One-off credit packs (mode=payment). Bought credits never expire.
CREDIT_PACKS = {
    "pack_100": {"credits": 100, "stripe_price": env_str("STRIPE_PRICE_PACK_100", "price_pack_100"), "display": "€5"},
    "pack_500": {"credits": 500, "stripe_price": env_str("STRIPE_PRICE_PACK_500", "price_pack_500"), "display": "€20"},
}
if env_str("INTAGLIO_CREDIT_PACKS"):
    CREDIT_PACKS = json.loads(env_str("INTAGLIO_CREDIT_PACKS"))
for _plan in PLAN_PRICES:
    if _plan not in PLANS or _plan == DEFAULT_PLAN:
        raise ImproperlyConfigured(f"PLAN_PRICES names {_plan!r}, which is not a paid plan of PLANS")
# The month's credits expire at the end of the billing period they were granted for (bought packs do not).
MONTHLY_CREDITS_EXPIRE = env_bool("INTAGLIO_MONTHLY_CREDITS_EXPIRE", True)
# A subscription whose renewal failed keeps its plan this many days (the past-due banner shows), then falls back.
BILLING_GRACE_DAYS = env_int("INTAGLIO_BILLING_GRACE_DAYS", 7)

# --- E-mail -----------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("INTAGLIO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("INTAGLIO_EMAIL_FROM", "Intaglio <no-reply@intaglio.local>")
EMAIL_HOST = env_str("INTAGLIO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("INTAGLIO_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("INTAGLIO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("INTAGLIO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("INTAGLIO_EMAIL_TLS", True)

# --- Files ------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from it after collectstatic (optional here)
MEDIA_ROOT = DATA_DIR / "media"
# Blobs (uploads and outputs) live under random keys in the default storage and are only ever served through
# the owner-checked download view or a signed link; MEDIA_URL is deliberately not routed.
S3_BUCKET = env_str("INTAGLIO_S3_BUCKET")
_s3_endpoint = urlsplit(env_str("INTAGLIO_S3_ENDPOINT_URL"))
if S3_BUCKET and _s3_endpoint.scheme == "http" and _s3_endpoint.hostname not in ("localhost", "127.0.0.1", "::1"):
    raise ImproperlyConfigured("INTAGLIO_S3_ENDPOINT_URL must be https:// (plain http only for a local test server)")
if S3_BUCKET:
    _blob_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("INTAGLIO_S3_ENDPOINT_URL") or None,
            "access_key": env_str("INTAGLIO_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("INTAGLIO_S3_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("INTAGLIO_S3_REGION") or None,
            "addressing_style": env_str("INTAGLIO_S3_ADDRESSING_STYLE", "path"),
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": True,  # keys are random; skipping the existence check saves a request per write
            "querystring_auth": True,
        },
    }
else:
    _blob_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    }
STORAGES = {
    "default": _blob_storage,
    "staticfiles": {
        # Serve straight from the app directories so no collectstatic step is needed on the embedded default.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
# Signed download links (for e-mails, providers and <img> tags) stop working after this many seconds.
SIGNED_URL_SECONDS = env_int("INTAGLIO_SIGNED_URL_SECONDS", 300)

# Uploads: every file is capped while it streams in; see intaglio.assets.uploads.
UPLOAD_MAX_BYTES = env_int("INTAGLIO_UPLOAD_MAX_MB", 40) * 1024 * 1024
UPLOAD_MAX_PIXELS = env_int("INTAGLIO_UPLOAD_MAX_MEGAPIXELS", 100) * 1_000_000
UPLOAD_MAX_FILES = env_int("INTAGLIO_UPLOAD_MAX_FILES", 10)
FILE_UPLOAD_HANDLERS = ["intaglio.assets.uploads.CappedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
# Decoded images each process (the web server, every worker) may hold at once, priced from each file's header before
# decoding (intaglio.imaging.memory). A decode over it is refused; parallel ones wait for room, at most the wait.
IMAGE_MEMORY_MB = env_int("INTAGLIO_IMAGE_MEMORY_MB", 768)
IMAGE_MEMORY_WAIT_SECONDS = env_int("INTAGLIO_IMAGE_MEMORY_WAIT_SECONDS", 120)
# An upload no job uses expires after this; an upload's expiry is set again when its last job ends.
RETENTION_UNATTACHED_UPLOAD_HOURS = env_int("INTAGLIO_RETENTION_UNATTACHED_UPLOAD_HOURS", 24)
RETENTION_UPLOAD_AFTER_JOB_DAYS = env_int("INTAGLIO_RETENTION_UPLOAD_AFTER_JOB_DAYS", 30)

# --- Privacy ----------------------------------------------------------------------------------------
# The decided retention defaults of PRIVACY-SPEC.md; the notice page renders its table from these.
RETENTION_PRIVATE_FEEDBACK_DAYS = env_int("INTAGLIO_RETENTION_PRIVATE_FEEDBACK_DAYS", 14)
RETENTION_DERIVED_METRIC_DAYS = env_int("INTAGLIO_RETENTION_DERIVED_METRIC_DAYS", 730)
# After closure: content goes within this many hours; account data at closed_at + the days.
RETENTION_CLOSED_CONTENT_HOURS = env_int("INTAGLIO_RETENTION_CLOSED_CONTENT_HOURS", 24)
RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS = env_int("INTAGLIO_RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS", 90)
RETENTION_LEDGER_YEARS = env_int("INTAGLIO_RETENTION_LEDGER_YEARS", 6)
RETENTION_REQUEST_LOG_DAYS = env_int("INTAGLIO_RETENTION_REQUEST_LOG_DAYS", 30)
RETENTION_DATA_REQUEST_YEARS = env_int("INTAGLIO_RETENTION_DATA_REQUEST_YEARS", 3)
# Outside services that receive personal data: name, purpose, data, region and hosts. Outbound HTTP may reach
# only these hosts (J12, E2); the privacy notice lists them. INTAGLIO_SUBPROCESSORS (JSON) adds entries.
SUBPROCESSORS: list[dict] = json.loads(env_str("INTAGLIO_SUBPROCESSORS") or "[]")
# Remote object storage and an SMTP relay receive personal data too, so configuring one registers it.
if S3_BUCKET:
    SUBPROCESSORS.append(
        {
            "name": "Object storage (S3-compatible)",
            "purpose": "Storing uploaded and produced files",
            "data": "Your photos, reference images and the files made from them",
            "region": env_str("INTAGLIO_S3_REGION") or "as configured by the operator",
            "hosts": [urlsplit(env_str("INTAGLIO_S3_ENDPOINT_URL")).hostname or f"{S3_BUCKET}.s3.amazonaws.com"],
        }
    )
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    SUBPROCESSORS.append(
        {
            "name": "E-mail relay (SMTP)",
            "purpose": "Sending account and service e-mails",
            "data": "Your e-mail address and the message",
            "region": "as configured by the operator",
            "hosts": [EMAIL_HOST],
        }
    )
if STRIPE_API_KEY:
    SUBPROCESSORS.append(
        {
            "name": "Stripe",
            "purpose": "Takes payments for plans and credit packs on its own checkout pages",
            "data": "Your e-mail address and what you buy; card details go to Stripe only, never to us",
            "region": "USA and EU",
            "hosts": [urlsplit(STRIPE_API_BASE).netloc],
        }
    )
# --- Jewellery providers ------------------------------------------------------------------------------
# Analysis reads reference images (J9); generation makes the pictures (J8). "local" needs nothing outside.
JEWELLERY_ANALYSIS_PROVIDER = env_str("INTAGLIO_ANALYSIS_PROVIDER", "local")
JEWELLERY_GENERATION_PROVIDER = env_str("INTAGLIO_GENERATION_PROVIDER", "local")
OPENROUTER_API_KEY = env_str("OPENROUTER_API_KEY")
OPENROUTER_BASE_URL = env_str("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1").rstrip("/")
OPENROUTER_MODEL = env_str("OPENROUTER_MODEL", "google/gemini-2.5-flash")
# Ask OpenRouter to route only to endpoints with zero data retention.
OPENROUTER_ZERO_RETENTION = env_str("OPENROUTER_ZERO_RETENTION", "1") not in ("0", "false", "no")
# "data_url" sends the image bytes inline; "signed_url" sends a short-lived link (needs a public BASE_URL).
OPENROUTER_IMAGE_TRANSPORT = env_str("OPENROUTER_IMAGE_TRANSPORT", "data_url")
OPENROUTER_TIMEOUT_SECONDS = env_int("OPENROUTER_TIMEOUT_SECONDS", 60)
WAVESPEED_API_KEY = env_str("WAVESPEED_API_KEY")
WAVESPEED_BASE_URL = env_str("WAVESPEED_BASE_URL", "https://api.wavespeed.ai").rstrip("/")
WAVESPEED_MODEL = env_str("WAVESPEED_MODEL", "bytedance/seedream-v4/edit")
# The secret shown in WaveSpeed's webhook settings ("whsec_…"); without it webhooks are refused and jobs poll.
WAVESPEED_WEBHOOK_SECRET = env_str("WAVESPEED_WEBHOOK_SECRET")
# Hosts WaveSpeed serves finished images from (copied into our storage at once).
WAVESPEED_OUTPUT_HOSTS = env_list("WAVESPEED_OUTPUT_HOSTS", ["*.wavespeed.ai", "*.cloudfront.net"])
WAVESPEED_TIMEOUT_SECONDS = env_int("WAVESPEED_TIMEOUT_SECONDS", 30)
# Predictions one account may have running at WaveSpeed at once (the default tier allows 2 in all).
WAVESPEED_MAX_CONCURRENT_PER_ACCOUNT = env_int("WAVESPEED_MAX_CONCURRENT_PER_ACCOUNT", 2)
# Without a webhook the job looks again after this long; a prediction still unfinished after the deadline fails.
WAVESPEED_POLL_SECONDS = env_int("WAVESPEED_POLL_SECONDS", 20)
WAVESPEED_DEADLINE_MINUTES = env_int("WAVESPEED_DEADLINE_MINUTES", 30)
# Content Credentials on generated jewellery images (jewellery/credentials.py): the C2PA signing certificate chain
# (PEM, the signer's certificate first) and its private key (PEM), as file paths. Without both, a development
# certificate made once in the data dir signs, and `intaglio check --deploy` warns. An RFC 3161 time-stamp authority
# is optional (without it a signature is valid while its certificate is).
C2PA_CERT = env_str("INTAGLIO_C2PA_CERT")
C2PA_KEY = env_str("INTAGLIO_C2PA_KEY")
C2PA_TSA_URL = env_str("INTAGLIO_C2PA_TSA_URL")
# Signed links given to providers never outlive this (J8: at most 15 minutes).
PROVIDER_SIGNED_URL_SECONDS = min(env_int("INTAGLIO_PROVIDER_SIGNED_URL_SECONDS", 600), 900)
if JEWELLERY_ANALYSIS_PROVIDER == "openrouter":
    SUBPROCESSORS.append(
        {
            "name": "OpenRouter",
            "purpose": "Identifies the piece in your jewellery reference images (type, metal, stones)",
            "data": "Your reference images, with data collection and training refused",
            "region": "USA",
            "hosts": [urlsplit(OPENROUTER_BASE_URL).netloc],
        }
    )
if JEWELLERY_GENERATION_PROVIDER == "wavespeed":
    SUBPROCESSORS.append(
        {
            "name": "WaveSpeed AI",
            "purpose": "Generates jewellery images from your references and prompt",
            "data": "Short-lived links to your reference images, and the prompt",
            "region": "USA",
            "hosts": [urlsplit(WAVESPEED_BASE_URL).netloc, *WAVESPEED_OUTPUT_HOSTS],
        }
    )
# Who answers privacy questions, and the legal name responsible for the data (shown on the notice).
PRIVACY_CONTACT_EMAIL = env_str("INTAGLIO_PRIVACY_CONTACT_EMAIL")
PRIVACY_OPERATOR = env_str("INTAGLIO_PRIVACY_OPERATOR")
# The only cookies the product sets (J18); the cookie page is generated from this list.
COOKIES = [
    {"name": "sessionid", "purpose": "Keeps you signed in.", "lifetime": "2 weeks, or until you log out"},
    {"name": "csrftoken", "purpose": "Protects forms against cross-site request forgery.", "lifetime": "1 year"},
]

# --- Jobs -------------------------------------------------------------------------------------------
# Django's tasks API on the database queue: SQLite embedded, PostgreSQL (SKIP LOCKED) at scale.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job's worker renews its lease every third of this; a lapsed lease means the worker died.
JOB_LEASE_SECONDS = env_int("INTAGLIO_JOB_LEASE_SECONDS", 30)
JOB_MAX_ATTEMPTS = env_int("INTAGLIO_JOB_MAX_ATTEMPTS", 5)
JOB_RETRY_BASE_SECONDS = env_int("INTAGLIO_JOB_RETRY_BASE_SECONDS", 2)
JOB_RETRY_MAX_SECONDS = env_int("INTAGLIO_JOB_RETRY_MAX_SECONDS", 300)
# Credits each job kind costs; INTAGLIO_JOB_COSTS (JSON) overrides entries.
# Analysis is included (it only informs the prompt); generation is charged per image. The engrave style gallery is
# free to look at (pictures at preview size); only preparing files (engrave.prepare) costs a credit.
JOB_COSTS = {"preview": 0, "jewellery.analyse": 0, "engrave.styles": 0}
if env_str("INTAGLIO_JOB_COSTS"):
    JOB_COSTS.update(json.loads(env_str("INTAGLIO_JOB_COSTS")))
# Extra modules that register job kinds (each imported once at start-up).
JOB_KIND_MODULES = env_list("INTAGLIO_JOB_KIND_MODULES", [])
WORKER_PROCESSES = env_int("INTAGLIO_WORKER_PROCESSES", os.cpu_count() or 1)
# A worker process is replaced after this many jobs, or after a job that left it above this many MB resident
# (0 = never), so memory a big image left behind goes back to the system.
WORKER_MAX_JOBS = env_int("INTAGLIO_WORKER_MAX_JOBS", 500)
WORKER_MAX_RSS_MB = env_int("INTAGLIO_WORKER_MAX_RSS_MB", 400)
# How often each scheduler process looks for periodic work that is due.
SCHEDULER_TICK_SECONDS = env_int("INTAGLIO_SCHEDULER_TICK_SECONDS", 5)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Secure cookies follow whether the site is served over TLS (an https BASE_URL), not DEBUG: a local server on plain
# http keeps working sign-in without development mode, and a deployment on https always marks them Secure.
SERVED_OVER_TLS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = SERVED_OVER_TLS
SESSION_COOKIE_AGE = env_int("INTAGLIO_SESSION_AGE", 60 * 60 * 24 * 14)
# htmx sends the token from the page (hx-headers on <body>), so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SERVED_OVER_TLS
CSRF_FAILURE_VIEW = "intaglio.web.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("INTAGLIO_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("INTAGLIO_HSTS_PRELOAD", not DEBUG)
# An https BASE_URL means the site is served over TLS: plain-http requests are redirected. When TLS
# ends at a trusted proxy, that proxy's X-Forwarded-Proto says which scheme the client used.
SECURE_SSL_REDIRECT = SERVED_OVER_TLS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_HOPS > 0 else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# The upgrade, pack and billing buttons are forms whose answer redirects to Stripe's hosted Checkout and Portal;
# browsers hold such redirects to form-action, so those origins are allowed when payments are on. The local
# fake serves its pages from its API address.
if "api.stripe.com" in STRIPE_API_BASE:
    STRIPE_HOSTED_ORIGINS = env_str("STRIPE_HOSTED_ORIGINS", "https://checkout.stripe.com https://billing.stripe.com")
else:
    STRIPE_HOSTED_ORIGINS = "{0.scheme}://{0.netloc}".format(urlsplit(STRIPE_API_BASE))
_FORM_ACTION = "'self'" + (f" {STRIPE_HOSTED_ORIGINS}" if STRIPE_API_KEY else "")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    f"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action {_FORM_ACTION}; "
    "frame-ancestors 'none'"
)

# --- API --------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 100

# --- Logging ----------------------------------------------------------------------------------------
LOG_LEVEL = env_str("INTAGLIO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "intaglio.ops.logging.RedactFilter"}},
    "formatters": {"json": {"()": "intaglio.ops.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["redact"],
        },
        # The request log on disk (J5, J23): one file per UTC day under DATA_DIR/logs, kept
        # RETENTION_REQUEST_LOG_DAYS days, opened on the first line (so commands that serve nothing write nothing).
        "request_file": {
            "()": "intaglio.ops.logging.DailyFileHandler",
            "directory": DATA_DIR / "logs",
            "keep_days": RETENTION_REQUEST_LOG_DAYS,
            "formatter": "json",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # The access log (intaglio.request) replaces Django's own request lines.
        "intaglio.request": {"handlers": ["request_file"], "propagate": True},
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
