"""Rate limits counted in a cache of each test's own, and the API tests' token clients."""

from tests.api.conftest import _own_rate_limit_counts, client_for  # noqa: F401
