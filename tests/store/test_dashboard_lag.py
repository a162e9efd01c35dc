"""The dashboard's flag page never shows OFF while this process serves ON without saying so."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

import featureflags
from featureflags import services
from featureflags.models import Flag
from featureflags.store import changes


@pytest.mark.django_db(transaction=True)
def test_the_flag_page_warns_while_this_process_serves_an_older_change(client):
    client.force_login(User.objects.create_superuser("root", password="pw"))
    services.create_flag("f", enabled=True)
    assert featureflags.is_enabled("f") is True
    url = reverse("featureflags_dashboard:detail", args=["f"])
    assert "Not served yet" not in client.get(url).content.decode()
    # Killed by another process whose announcement never arrived (no sync thread here).
    with transaction.atomic():
        head = changes.record(["f"])
        Flag.objects.filter(key="f").update(enabled=False, mirror_version=head.version)
    page = client.get(url).content.decode()
    assert "Not served yet" in page
    assert "<strong>ON</strong>" in page
    assert f"the database holds change {head.version}" in page
