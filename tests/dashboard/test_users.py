"""A flag's user lists: add, remove, count, download, and uploads of up to a million ids, all or nothing."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from featureflags import services
from featureflags.models import AuditEntry, FlagUser

from .conftest import login

MILLION = 1_000_000


def upload(client, key, content: bytes, name="ids.txt", mode="add", ajax=True, excluded=False):
    data = {"file": SimpleUploadedFile(name, content, "text/plain"), "mode": mode}
    if excluded:
        data["list"] = "excluded"
    headers = {"X-Requested-With": "XMLHttpRequest"} if ajax else {}
    return client.post(reverse("featureflags_dashboard:users_upload", args=[key]), data, headers=headers)


def ids_of(key, excluded=False):
    return set(FlagUser.objects.filter(flag__key=key, excluded=excluded).values_list("user_id", flat=True))


def test_add_and_remove_ids(editor_client):
    services.create_flag("f")
    url = reverse("featureflags_dashboard:users", args=["f"])
    editor_client.post(url, {"ids": "1\n2, 3\n\n", "action": "add"})
    assert ids_of("f") == {"1", "2", "3"}
    editor_client.post(url, {"ids": "2", "action": "remove"})
    assert ids_of("f") == {"1", "3"}
    editor_client.post(url, {"ids": "9", "action": "add", "list": "excluded"})
    assert ids_of("f", excluded=True) == {"9"}
    page = editor_client.get(url)
    assert page.context["count"] == 2 and list(page.context["page_obj"]) == ["1", "3"]
    entry = AuditEntry.objects.filter(flag_key="f", action="add_users").first()
    assert (entry.actor, entry.source) == ("editor", "dashboard")


def test_bad_id_changes_nothing(editor_client):
    services.create_flag("f")
    response = editor_client.post(
        reverse("featureflags_dashboard:users", args=["f"]), {"ids": "1\n" + "x" * 300, "action": "add"}, follow=True
    )
    assert "Nothing was changed" in response.content.decode()
    assert ids_of("f") == set()


def test_list_is_paginated_and_searchable(editor_client):
    services.create_flag("f")
    services.add_users("f", [str(i) for i in range(250)])
    page = editor_client.get(reverse("featureflags_dashboard:users", args=["f"]))
    assert page.context["count"] == 250 and len(page.context["page_obj"]) == 50
    page = editor_client.get(reverse("featureflags_dashboard:users", args=["f"]), {"q": "249"})
    assert list(page.context["page_obj"]) == ["249"]


def test_download_streams_the_whole_list(editor_client):
    services.create_flag("f")
    services.add_users("f", ["a", "b"])
    response = editor_client.get(reverse("featureflags_dashboard:users_download", args=["f"]))
    assert response.streaming and "attachment" in response["Content-Disposition"]
    assert sorted(b"".join(response.streaming_content).decode().split()) == ["a", "b"]


def test_csv_upload_takes_the_first_column_and_skips_a_header(editor_client):
    services.create_flag("f")
    response = upload(editor_client, "f", b"user_id,name\n7,Ann\n8,Bob\n\n", name="ids.csv")
    assert response.status_code == 200, response.content
    assert ids_of("f") == {"7", "8"}


def test_upload_replace_and_non_ajax(editor_client):
    services.create_flag("f")
    services.add_users("f", ["old"])
    response = upload(editor_client, "f", b"n1\nn2\n", mode="replace", ajax=False)
    assert response.status_code == 302
    assert ids_of("f") == {"n1", "n2"}


def test_upload_of_a_non_utf8_file_is_refused(editor_client):
    services.create_flag("f")
    response = upload(editor_client, "f", b"\xff\xfe\x00bad")
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]


def test_viewer_cannot_upload_or_change(client, viewer):
    services.create_flag("f")
    login(client, viewer)
    assert upload(client, "f", b"1\n").status_code == 403
    assert (
        client.post(reverse("featureflags_dashboard:users", args=["f"]), {"ids": "1", "action": "add"}).status_code
        == 403
    )
    assert client.get(reverse("featureflags_dashboard:users_download", args=["f"])).status_code == 200
    assert ids_of("f") == set()


def test_user_id_xss_renders_as_text(editor_client):
    services.create_flag("f")
    services.add_users("f", ["<img src=x onerror=alert(1)>"])
    html = editor_client.get(reverse("featureflags_dashboard:users", args=["f"])).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.slow
def test_a_million_ids_upload_is_counted_and_a_bad_line_changes_nothing(editor_client, capsys):
    services.create_flag("big")
    content = "".join(f"user-{i}\n" for i in range(MILLION)).encode()
    started = time.perf_counter()
    response = upload(editor_client, "big", content, mode="replace")
    took = time.perf_counter() - started
    assert response.status_code == 200, response.content
    assert "1,000,000" in response.json()["message"]
    assert FlagUser.objects.filter(flag__key="big").count() == MILLION
    page = editor_client.get(reverse("featureflags_dashboard:users", args=["big"]))
    assert page.context["count"] == MILLION

    # The same size again, replacing, with one line too long after half a million ids were
    # written in batches: refused, the list untouched (the replace's delete is undone too).
    bad_line = MILLION // 2 + 1
    lines = [f"other-{i}\n" for i in range(MILLION)]
    lines[bad_line - 1] = "x" * 300 + "\n"
    started = time.perf_counter()
    response = upload(editor_client, "big", "".join(lines).encode(), mode="replace")
    took_bad = time.perf_counter() - started
    assert response.status_code == 400
    assert f"line {bad_line}" in response.json()["error"]
    assert FlagUser.objects.filter(flag__key="big").count() == MILLION
    assert FlagUser.objects.filter(flag__key="big", user_id="user-999999").exists()
    assert not FlagUser.objects.filter(flag__key="big", user_id__startswith="other-").exists()
    with capsys.disabled():
        print(f"\n1,000,000-id upload: {took:.1f} s; refused one (bad line at 500,001): {took_bad:.1f} s")
