"""The demo site's pages of the Django integration, linked from the home page."""

from __future__ import annotations

from config.management.commands.demo_setup import CDC_ON


def test_home_links_the_demo_pages(client, db):
    html = client.get("/").content.decode()
    for url in ("/demo/cdc/", "/demo/template/", "/demo/sticky/"):
        assert f'href="{url}"' in html


def test_cdc_page_behind_the_decorator(client, make_flag, django_user_model):
    assert client.get("/demo/cdc/").status_code == 404  # no flag yet
    make_flag("cdc_on", **{k: v for k, v in CDC_ON.items() if k != "users"}, users=CDC_ON["users"])
    user = django_user_model.objects.create_user("x")
    # Anonymous visitors have no user id: crc32 bucketing hashes the anonymous id.
    client.force_login(user)
    user_id = str(user.pk)
    response = client.get("/demo/cdc/")
    from featureflags.engine.hashing import signed_crc32

    assert response.status_code == (200 if signed_crc32(user_id) % 100 < 80 or user_id.endswith("01") else 404)


def test_template_page(client, make_flag):
    make_flag("new_ui")
    make_flag("cdc_on", rules=["01$"], variants=[{"name": "foo", "weight": 1}, {"name": "bar", "weight": 1}])
    html = client.get("/demo/template/").content.decode()
    assert "You see the new UI." in html
    assert "User 443301 matches the rule" in html
    assert 'id="featureflags"' in html


def test_sticky_page_keeps_the_answer(client, make_flag):
    make_flag("new_ui", percentage=50)
    first = client.get("/demo/sticky/")
    assert "featureflags_aid" in first.cookies
    answers = {('is <strong class="on">' in client.get("/demo/sticky/").content.decode()) for _ in range(4)}
    assert len(answers) == 1


def test_demo_setup_never_resets_an_existing_password(db, django_user_model, monkeypatch):
    import io

    from django.core.management import call_command

    django_user_model.objects.create_user("admin", password="mine-and-secret")
    monkeypatch.setenv("DEMO_PASSWORD", "demo-would-set-this")
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    user = django_user_model.objects.get(username="admin")
    assert user.check_password("mine-and-secret")
    assert not user.is_superuser  # nor promotes it
    assert "password is unchanged" in out.getvalue()
    assert "cdc_on: created" in out.getvalue()
