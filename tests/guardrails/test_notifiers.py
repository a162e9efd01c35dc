from __future__ import annotations

import hmac
import json
import logging

import pytest

from featureflags.guardrails import Trip
from featureflags.guardrails.notifiers import SIGNATURE_HEADER, log_trip, post_webhook, signature
from featureflags.guardrails.trip import notify

from .webhook_server import WebhookServer

TRIP = Trip("risky", "errors", 12, 10, 60)


def test_the_webhook_is_posted_with_an_hmac_signature(settings):
    with WebhookServer() as server:
        settings.FEATUREFLAGS = {
            **settings.FEATUREFLAGS,
            "GUARDRAIL_WEBHOOK_URL": server.url,
            "GUARDRAIL_WEBHOOK_SECRET": "s3cret",
        }
        post_webhook(TRIP)
    [(headers, body)] = server.calls
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], signature(body, "s3cret"))
    assert headers[SIGNATURE_HEADER] != signature(body, "other")
    data = json.loads(body)
    assert data["event"] == "guardrail.tripped"
    assert (data["flag"], data["kind"], data["count"], data["threshold"], data["window_seconds"]) == (
        "risky",
        "errors",
        12,
        10,
        60,
    )


def test_no_url_no_call_and_a_failing_notifier_does_not_stop_the_others(settings, caplog):
    post_webhook(TRIP)  # no URL configured: nothing happens
    heard = []

    def broken(trip):
        raise RuntimeError("down")

    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "GUARDRAIL_NOTIFIERS": [broken, heard.append, "featureflags.guardrails.notifiers.log_trip"],
    }
    with caplog.at_level(logging.WARNING, logger="featureflags.guardrails"):
        notify(TRIP)
    assert heard == [TRIP]
    assert "notifier" in caplog.text and "'risky' switched off" in caplog.text


def test_the_log_notifier_names_the_figures(caplog):
    with caplog.at_level(logging.WARNING, logger="featureflags.guardrails"):
        log_trip(TRIP)
    assert "12 errors in the last 60 s exceeded the threshold of 10" in caplog.text


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/nothing-listens"])
def test_an_unreachable_webhook_is_logged_not_raised(settings, url, caplog):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "GUARDRAIL_WEBHOOK_URL": url, "GUARDRAIL_WEBHOOK_TIMEOUT": 0.5}
    with caplog.at_level(logging.ERROR, logger="featureflags.guardrails"):
        notify(TRIP)
    assert "post_webhook" in caplog.text
