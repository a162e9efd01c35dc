"""The README's quickstart, followed literally in a blank project: build the wheel, install it
with ``[all]`` into a fresh venv, ``django-admin startproject shop``, add exactly the settings
and urls the README lists, migrate (SQLite), then use every face of the library from there.

Nothing here imports the checkout: every step runs in the new venv, in its own processes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# What a blank project has not: the checkout's own settings, database and Redis.
UNSET = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV")

# The README's quickstart, word for word (test_the_readme_shows_exactly_these_steps).
SETTINGS = """
# featureflags
INSTALLED_APPS += ["rest_framework", "featureflags", "featureflags.api", "featureflags_dashboard"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "featureflags.middleware.FeatureFlagsMiddleware",
)
"""
URLS = """
from django.urls import include

urlpatterns += [
    path("flags/", include("featureflags_dashboard.urls")),
    path("api/", include("featureflags.api.urls")),
]
"""
VIEWS = """
from django.http import HttpResponse
from django.template import engines

import featureflags

PAGE = engines["django"].from_string(
    '{% load featureflags %}{% if_feature "new_ui" %}New UI{% else %}Old UI{% endif_feature %}'
)


def home(request):
    in_python = featureflags.is_enabled("new_ui", request)
    return HttpResponse(PAGE.render({}, request) + f" / in Python: {in_python}")
"""
VIEW_URL = """
from . import views

urlpatterns += [path("", views.home)]
"""


def pinned(name: str) -> str:
    """``name==version`` as requirements.txt pins it."""
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if re.match(rf"{re.escape(name)}==", line.strip(), re.IGNORECASE):
            return line.split("#")[0].strip()
    raise LookupError(f"{name} is not pinned in requirements.txt")


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Shop:
    def __init__(self, root: Path, python: Path, env: dict[str, str]) -> None:
        self.root, self.python, self.env = root, python, env

    def manage(self, *args: str) -> str:
        return run([self.python, "manage.py", *args], self.root, self.env)

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", textwrap.dedent(code))


def test_the_readme_shows_exactly_these_steps():
    readme = (REPO / "README.md").read_text()
    for block in (SETTINGS, URLS, VIEWS, VIEW_URL):
        assert block.strip() in readme
    for command in ("flags create new_ui", "flags enable new_ui", "manage.py migrate"):
        assert command in readme
    assert "New UI / in Python: True" in readme


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Shop:
    work = tmp_path_factory.mktemp("blank")
    env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("FEATUREFLAGS")}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", REPO], work, env)
    (wheel,) = (work / "dist").glob("featureflags-*.whl")
    run([sys.executable, "-m", "venv", work / "venv"], work, env)
    python = work / "venv" / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "-q", f"{wheel}[all]", pinned("pytest"), pinned("pytest-django")],
        work,
        env,
        timeout=600,
    )
    run([work / "venv" / "bin" / "django-admin", "startproject", "shop"], work, env)
    root = work / "shop"
    with open(root / "shop" / "settings.py", "a") as settings:
        settings.write(SETTINGS)
    with open(root / "shop" / "urls.py", "a") as urls:
        urls.write(URLS + VIEW_URL)
    (root / "shop" / "views.py").write_text(VIEWS)
    shop = Shop(root, python, env)
    shop.manage("migrate", "--noinput", "-v0")
    return shop


@pytest.fixture(scope="module")
def cli_output(shop) -> list[str]:
    return [shop.manage("flags", "create", "new_ui"), shop.manage("flags", "enable", "new_ui")]


def test_the_cli_creates_and_switches_on_a_flag(shop, cli_output):
    assert "Created new_ui" in cli_output[0]
    assert "new_ui switched on" in cli_output[1]
    shown = json.loads(shop.manage("flags", "show", "new_ui", "--json"))
    assert (shown["enabled"], shown["percentage"]) == (True, 100)
    assert "demo_setup" not in shop.manage("help")  # the demo is the repository's, not the library's


def test_a_view_and_a_template_see_the_flag(shop, cli_output):
    body = shop.shell(
        """
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()  # lets the test client's host in
        print(Client().get("/").content.decode())
        """
    )
    assert body.strip() == "New UI / in Python: True"


def test_the_dashboard_lists_the_flag_for_staff(shop, cli_output):
    out = shop.shell(
        """
        from django.contrib.auth.models import User
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        client = Client()
        print(client.get("/flags/").status_code)  # anonymous: sent to a login
        client.force_login(User.objects.create_superuser("boss", password="x"))
        page = client.get("/flags/")
        print(page.status_code, "new_ui" in page.content.decode())
        print(client.get("/flags/new_ui/settings/").status_code)
        """
    )
    anonymous, listed, detail = out.split("\n")[:3]
    assert anonymous != "200"
    assert listed == "200 True"
    assert detail == "200"


def test_findstatic_finds_the_js_client(shop):
    out = shop.manage("findstatic", "featureflags/featureflags.js")
    assert "featureflags/static/featureflags/featureflags.js" in out and "site-packages" in out


def test_the_openfeature_provider_answers(shop, cli_output):
    out = shop.shell(
        """
        from openfeature import api
        from featureflags.openfeature import FeatureFlagsProvider
        api.set_provider(FeatureFlagsProvider())
        print(api.get_client().get_boolean_value("new_ui", False))
        """
    )
    assert out.strip() == "True"


def test_the_api_needs_a_token_without_any_rest_framework_setting(shop, cli_output):
    created = json.loads(shop.manage("flags", "tokens", "create", "ci", "--scope", "read", "--json"))
    assert [t["name"] for t in json.loads(shop.manage("flags", "tokens", "list", "--json"))] == ["ci"]
    out = shop.shell(
        f"""
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        anonymous, token = Client(), Client(headers={{"authorization": "Bearer {created["token"]}"}})
        print(anonymous.get("/api/flags/").status_code)
        print(anonymous.post("/api/flags/", {{"key": "x"}}, content_type="application/json").status_code)
        print([f["key"] for f in token.get("/api/flags/").json()["results"]])
        print(token.post("/api/flags/", {{"key": "x"}}, content_type="application/json").status_code)
        """
    )
    anonymous_read, anonymous_write, listed, read_token_write = out.strip().split("\n")
    assert (anonymous_read, anonymous_write) == ("401", "401")  # asked for a bearer token
    assert listed == "['new_ui']"
    assert read_token_write == "403"


def test_pytest_django_in_the_project_sees_real_flags_written_by_a_test(shop):
    (shop.root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = shop.settings\n")
    (shop.root / "test_flags.py").write_text(
        textwrap.dedent(
            """
            import featureflags
            from featureflags import services


            def test_a_flag_written_in_the_test_is_seen(db):
                assert featureflags.is_enabled("checkout") is False  # loads the snapshot first
                services.create_flag("checkout", enabled=True)
                assert featureflags.is_enabled("checkout") is True


            def test_and_gone_in_the_next_test(db):
                assert featureflags.is_enabled("checkout") is False
            """
        )
    )
    done = subprocess.run(
        [str(shop.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_flags.py"],
        cwd=shop.root,
        env=shop.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "2 passed" in done.stdout, done.stdout + done.stderr
