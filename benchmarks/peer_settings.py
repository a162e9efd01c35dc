"""Settings of ``benchmarks.peers``: the demo site plus django-waffle and django-flags.

A throw-away SQLite file (django-flags' FlagState rows too), two caches for waffle (locmem and a private Redis given
by ``PEERS_REDIS_URL``), and the product's in-process mirror.
"""

import os
import tempfile

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "waffle", "flags"]  # noqa: F405
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.mkdtemp(prefix="ff-peers-"), "peers.sqlite3"),
    }
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "peers-default"},
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "peers-waffle"},
    "redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("PEERS_KEY_PREFIX", "ffpeers"),
    },
}
WAFFLE_CACHE_NAME = "locmem"
WAFFLE_CREATE_MISSING_FLAGS = False
# django-flags reads its flags from the database, as a team editing them at run time does
# (the benchmark writes each scenario's conditions as FlagState rows before timing it).
FLAG_SOURCES = ("flags.sources.DatabaseFlagsSource",)
FLAGS: dict = {}
FEATUREFLAGS = {**FEATUREFLAGS, "REDIS_URL": None, "SYNC_THREAD": False}  # noqa: F405
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
