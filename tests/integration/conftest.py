"""Fixtures of the Django integration tests: flags written through the service layer."""

from __future__ import annotations

import pytest

from featureflags import services
from featureflags.store import runtime


@pytest.fixture
def make_flag(db):
    """Create a flag (switched on unless told) and make this process see it."""

    def make(key: str, **fields):
        fields.setdefault("enabled", True)
        users = fields.pop("users", None)
        services.create_flag(key, actor="test", **fields)
        if users:
            services.add_users(key, users, actor="test")
        runtime.refresh()
        return key

    return make
