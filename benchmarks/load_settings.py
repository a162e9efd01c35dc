"""Settings of ``benchmarks.load``: the demo site, its own SQLite file and Redis,
the two benchmark views; ``LOAD_FLAGS=0`` drops the flags middleware."""

import json
import os

from config.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.load_urls"
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["LOAD_DATABASE"], "CONN_MAX_AGE": 60}
}
if os.environ.get("LOAD_FLAGS", "1") == "0":
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("featureflags.")]  # noqa: F405
FEATUREFLAGS = {**FEATUREFLAGS, "REDIS_URL": os.environ["LOAD_REDIS_URL"], "KEY_PREFIX": "load"}  # noqa: F405
# Extra FEATUREFLAGS settings as JSON, to find what costs what (e.g. '{"USAGE_COUNTING": false}').
FEATUREFLAGS.update(json.loads(os.environ.get("LOAD_FEATUREFLAGS", "{}")))
LOGGING = {"version": 1, "disable_existing_loggers": False}
