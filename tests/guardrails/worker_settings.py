"""Settings of the worker processes of the two-process guardrail test (see worker.py)."""

import os

from config.settings import *  # noqa: F403

FEATUREFLAGS = {
    **FEATUREFLAGS,  # noqa: F405
    "REDIS_URL": os.environ["REDIS_URL"],
    "KEY_PREFIX": os.environ["FEATUREFLAGS_KEY_PREFIX"],
    "MAX_STALENESS": 0.2,
    "GUARDRAIL_FLUSH_INTERVAL": 0.05,
    "GUARDRAIL_WEBHOOK_URL": os.environ["WEBHOOK_URL"],
    "GUARDRAIL_WEBHOOK_SECRET": "s3cret",
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
