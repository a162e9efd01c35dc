"""System checks W001 (unknown flags in code/templates), W002 (Redis unreachable), W003 (middleware missing)."""

from __future__ import annotations

import pytest
from django.db import connection

from featureflags.checks import check_middleware, check_redis, check_unknown_flags


@pytest.fixture
def project(tmp_path, settings):
    (tmp_path / "page.html").write_text(
        '{% load featureflags %}{% if_feature "known" %}{% endif_feature %}\n'
        '{% if_feature "missing_flag" %}{% endif_feature %}'
    )
    (tmp_path / "views.py").write_text('import featureflags\nfeatureflags.is_enabled("missing_too", None)\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text('import featureflags\nfeatureflags.is_enabled("test_only")\n')
    # Django's startapp writes tests.py next to views.py; pytest's other spelling is *_test.py.
    (tmp_path / "tests.py").write_text('import featureflags\nfeatureflags.is_enabled("in_tests_py")\n')
    (tmp_path / "checkout_test.py").write_text('import featureflags\nfeatureflags.is_enabled("in_x_test_py")\n')
    # A helper module of the project's test kit, outside any test file: forcing a flag is not using it.
    (tmp_path / "fixtures.py").write_text(
        'from featureflags.testing import override_flag\nforced = override_flag("forced_only", active=True)\n'
    )
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REFERENCE_PATHS": [str(tmp_path)]}
    return tmp_path


def test_w001_names_each_missing_flag_and_where(project, make_flag):
    make_flag("known")
    warnings = check_unknown_flags()
    assert [w.id for w in warnings] == ["featureflags.W001", "featureflags.W001"]
    assert {w.obj for w in warnings} == {"missing_flag", "missing_too"}
    assert "page.html:2" in next(w.msg for w in warnings if w.obj == "missing_flag")


def test_w001_without_the_table_is_silent(project, db):
    # As before `migrate`: the table does not exist (renamed inside the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE featureflags_flag RENAME TO featureflags_flag_away")
    try:
        assert check_unknown_flags() == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE featureflags_flag_away RENAME TO featureflags_flag")


def test_w002_redis_unreachable(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://:secret@127.0.0.1:1/0"}
    warnings = check_redis()
    assert [w.id for w in warnings] == ["featureflags.W002"]
    assert "secret" not in warnings[0].msg


def test_w002_silent_without_redis_or_when_it_answers(settings, redis_url):
    assert check_redis() == []
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": redis_url}
    assert check_redis() == []


def test_w003_missing_middleware(project, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "featureflags" not in m]
    assert [w.id for w in check_middleware()] == ["featureflags.W003"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "featureflags.middleware.FeatureFlagsMiddleware"]
    assert check_middleware() == []
