"""featureflags.compat.hanoi: hanoi's API and README over the product's evaluator, defects fixed."""

from __future__ import annotations

import asyncio
import copy
import re
import threading
import zlib

import pytest

from featureflags import services
from featureflags.compat.hanoi import (
    MemoryBackEnd,
    RedisBackEnd,
    RedisHighPerfBackEnd,
    Rollout,
    RolloutException,
)
from featureflags.engine.hashing import signed_crc32
from featureflags.models import AuditEntry, Flag
from featureflags.store import runtime
from featureflags.testing import override_flag

# transaction=True: the flag writes' on_commit callbacks update this process's snapshot.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def memory_rollout():
    return Rollout(MemoryBackEnd())


@pytest.fixture
def redis_rollout(redis_url, key_prefix):
    import redis

    return Rollout(RedisBackEnd(redis.Redis.from_url(redis_url), prefix=f"{key_prefix}:hanoi"))


@pytest.fixture(params=["memory", "redis"])
def rollout(request):
    return request.getfixturevalue(f"{request.param}_rollout")


def readme_setup(rollout: Rollout) -> None:
    rollout.add_func("cdc_on", percentage=80, variants=["foo", "bar"])
    rollout.register("cdc_on", "447568110000")
    rollout.register("cdc_on", re.compile(r"01$"))


def test_known_buckets_of_the_readme():
    assert signed_crc32("444401") % 100 == 89
    assert signed_crc32("44488") % 100 == 92


def test_readme_scenario(rollout):
    readme_setup(rollout)
    assert rollout.is_enabled("cdc_on", "447568110000") is True  # registered
    assert rollout.is_enabled("cdc_on", "44488") is False  # bucket 92 is not < 80
    assert rollout.is_enabled("cdc_on", "443301") is True  # the rule 01$
    assert rollout.variant("cdc_on", "443301") == "bar"
    assert rollout.variant("cdc_on", "44488") is None  # not enabled

    rollout.set_current_id("444401")  # bucket 89: in only through the rule

    @rollout.check("cdc_on")
    def execute_cdc_logic():
        """Docstring kept."""
        return "done"

    assert execute_cdc_logic() == "done"
    assert execute_cdc_logic.__name__ == "execute_cdc_logic" and execute_cdc_logic.__doc__ == "Docstring kept."

    @rollout.check("cdc_on", 2)
    def execute_again_cdc_logic(parameter, user):
        return "I'm in"

    assert execute_again_cdc_logic("foo", "443301") == "I'm in"
    with pytest.raises(RolloutException) as refused:
        execute_again_cdc_logic("foo", "44488")
    assert str(refused.value) == "Feature <cdc_on> is not enabled for user <44488>"


def test_444401_is_not_in_at_80_percent_without_the_rule(rollout):
    rollout.add_func("cdc_on", percentage=80)
    assert rollout.is_enabled("cdc_on", "444401") is False
    rollout.set_percentage("cdc_on", 90)
    assert rollout.is_enabled("cdc_on", "444401") is True


def test_exception_messages(rollout):
    @rollout.check("cdc_on")
    def guarded():
        return 1

    with pytest.raises(RolloutException) as undefined:
        guarded()
    assert str(undefined.value) == "Feature <cdc_on> is not defined"
    rollout.add_func("cdc_on", percentage=0)
    rollout.cleanup_current_id()
    with pytest.raises(RolloutException) as no_id:
        guarded()
    assert str(no_id.value) == "Identifier should be set before checking the functionality"
    rollout.set_current_id(44488)
    with pytest.raises(RolloutException) as refused:
        guarded()
    assert str(refused.value) == "Feature <cdc_on> is not enabled for user <44488>"
    assert isinstance(refused.value, Exception)

    @rollout.enabled("cdc_on")
    def global_only():
        return "on"

    assert global_only() == "on"
    rollout.disable("cdc_on")
    with pytest.raises(RolloutException) as off:
        global_only()
    assert str(off.value) == "Feature <cdc_on> is not enabled"


def test_evaluation_order_and_types(rollout):
    assert rollout.is_enabled("nope", "1") is False
    rollout.add_func("f", percentage=0)
    assert rollout.is_enabled("f") is True  # no user: the switch
    assert rollout.is_enabled("f", "1") is False
    rollout.register("f", 42)
    assert rollout.is_enabled("f", "42") is True and rollout.is_enabled("f", 42) is True  # str(id) everywhere
    rollout.set_percentage("f", "100")
    assert rollout.is_enabled("f", "anyone") is True
    rollout.toggle("f")
    assert rollout.is_enabled("f") is False and rollout.is_enabled("f", "42") is False
    rollout.toggle("f")
    assert rollout.is_enabled("f", "42") is True


def test_percentage_validation(rollout):
    rollout.add_func("f", percentage=10.9)
    assert rollout.is_enabled("f", "1") is (signed_crc32("1") % 100 < 10)
    for bad in (101, -1, "abc", None, [], True, float("nan")):
        with pytest.raises(ValueError):
            rollout.add_func("g", percentage=bad)
        assert "g" not in rollout.get_functionalities()  # a refused add_func creates nothing
        with pytest.raises(ValueError):
            rollout.set_percentage("f", bad)
    rollout.set_percentage("f", 100)
    assert rollout.is_enabled("f", "1") is True  # the refused values left it alone before


def test_unknown_names_raise(rollout):
    for change in (rollout.enable, rollout.disable, rollout.toggle, rollout.remove_func):
        with pytest.raises(RolloutException):
            change("missing")
    with pytest.raises(RolloutException):
        rollout.set_percentage("missing", 10)
    with pytest.raises(RolloutException):
        rollout.register("missing", "1")


def test_variants(rollout):
    rollout.add_func("v", percentage=100, variants=())
    assert rollout.variant("v", "1") is None  # () counts as no variants
    rollout.add_func("w", percentage=100, variants=["a", "b", "c"])
    for user in ("1", "2", "443301", "99999"):
        assert rollout.variant("w", user) == ["a", "b", "c"][signed_crc32(user) % 3]


def test_remove_and_add_again_starts_clean(rollout):
    rollout.add_func("f", percentage=0)
    rollout.register("f", "7")
    rollout.register("f", re.compile(r"^x"))
    assert rollout.is_enabled("f", "7") and rollout.is_enabled("f", "xy")
    rollout.unregister("f", "7")
    assert not rollout.is_enabled("f", "7")
    rollout.unregister("f", re.compile(r"^x"))
    assert not rollout.is_enabled("f", "xy")
    rollout.register("f", "7")
    rollout.remove_func("f")
    assert not rollout.is_enabled("f", "7")
    rollout.add_func("f", percentage=0)
    assert not rollout.is_enabled("f", "7")


def test_check_attribute_and_index_zero(rollout):
    class User:
        def __init__(self, uid):
            self.uid = uid

    rollout.add_func("f", check="uid", percentage=0)
    rollout.register("f", User(5))
    assert rollout.is_enabled("f", User(5)) is True
    assert rollout.is_enabled("f", "5") is True

    @rollout.check("f", 0)
    def last(a, user):
        return user.uid

    assert last("x", User(5)) == 5
    with pytest.raises(RolloutException):
        last("x", User(6))


def test_missing_attribute_is_attribute_error(memory_rollout):
    memory_rollout.add_func("cdc_on", percentage=100)
    assert memory_rollout.is_cdc_on("1") is True
    assert not hasattr(memory_rollout, "is_nothing")
    assert not hasattr(memory_rollout, "whatever")
    assert copy.copy(memory_rollout).is_enabled("cdc_on", "1") is True


def test_backend_required():
    with pytest.raises(TypeError):
        Rollout()
    with pytest.raises(TypeError):
        Rollout("redis://localhost")


def test_current_id_is_per_thread_and_per_task(memory_rollout):
    memory_rollout.set_current_id("main")
    seen = {}

    def worker():
        seen["before"] = memory_rollout.current_id
        memory_rollout.set_current_id("thread")
        seen["after"] = memory_rollout.current_id

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == {"before": None, "after": "thread"}
    assert memory_rollout.current_id == "main"

    async def task(name):
        memory_rollout.set_current_id(name)
        await asyncio.sleep(0)
        return memory_rollout.current_id

    async def both():
        return await asyncio.gather(task("a"), task("b"))

    assert asyncio.run(both()) == ["a", "b"]
    assert memory_rollout.current_id == "main"


def test_legacy_inverted_percentage():
    legacy = Rollout(MemoryBackEnd(), legacy_inverted_percentage=True)
    legacy.add_func("old", percentage=80, variants=["foo", "bar"])
    for user in ("444401", "44488", "1", "2", "3", "123456"):
        expected = zlib.crc32(user.encode()) % 100 >= 80
        assert legacy.is_enabled("old", user) is expected
        if expected:
            assert legacy.variant("old", user) == ["foo", "bar"][zlib.crc32(user.encode()) % 2]
    legacy.set_percentage("old", 0)
    assert not any(legacy.is_enabled("old", str(u)) for u in range(200))
    legacy.set_percentage("old", 100)
    assert all(legacy.is_enabled("old", str(u)) for u in range(200))


def test_override_flag_reaches_the_facade(rollout):
    with override_flag("cdc_on", active=True, variant="foo"):
        assert rollout.is_enabled("cdc_on", "44488") is True
        assert rollout.variant("cdc_on", "44488") == "foo"
    assert rollout.is_enabled("cdc_on", "44488") is False


def test_readme_form_add_func_name_percentage(memory_rollout):
    memory_rollout.add_func("cdc_on", 80)  # hanoi's README passes the percentage second
    assert memory_rollout.is_enabled("cdc_on", "44488") is False
    assert memory_rollout.is_enabled("cdc_on", "1") is (signed_crc32("1") % 100 < 80)


# -- Redis backends: real flags --------------------------------------------------------


@pytest.mark.redis
def test_function_is_a_real_flag_with_hanoi_keys_in_redis(redis_rollout):
    readme_setup(redis_rollout)
    flag = Flag.objects.get(key="cdc_on")
    assert flag.enabled and flag.percentage == 80 and flag.bucketing == "crc32"
    assert AuditEntry.objects.filter(flag_key="cdc_on", source="hanoi").exists()
    backend = redis_rollout.backend
    assert backend.users("cdc_on") == {"447568110000"}
    assert backend.rule("cdc_on") == "01$"
    # The product's own API sees the same decisions.
    import featureflags

    assert featureflags.is_enabled("cdc_on", "443301") is True
    assert featureflags.is_enabled("cdc_on", "44488") is False
    assert featureflags.variant("cdc_on", "443301") == "bar"


@pytest.mark.redis
def test_changes_made_elsewhere_are_seen_by_the_facade_and_its_keys(redis_rollout):
    redis_rollout.add_func("cdc_on", percentage=0)
    services.add_users("cdc_on", ["55"], actor="dashboard-user", source="dashboard")
    assert redis_rollout.is_enabled("cdc_on", "55") is True
    assert redis_rollout.backend.users("cdc_on") == {"55"}  # resynced on flag_changed
    services.set_enabled("cdc_on", False, actor="oncall", source="dashboard")
    assert redis_rollout.is_enabled("cdc_on") is False
    services.update_flag("cdc_on", {"rules": ["^9"]}, source="api")
    assert redis_rollout.backend.rule("cdc_on") == "^9"


@pytest.mark.redis
def test_second_process_view_and_high_perf_backend(redis_rollout, redis_url):
    import redis

    redis_rollout.add_func("shared", check="uid", percentage=0)
    redis_rollout.register("shared", re.compile(r"^7"))
    other = Rollout(RedisHighPerfBackEnd(redis.Redis.from_url(redis_url), prefix=redis_rollout.backend.prefix))

    class User:
        uid = 71

    assert other.backend.check_of("shared") == "uid"  # read from Redis, not this instance's memory
    assert other.is_enabled("shared", User()) is True
    runtime.reset()  # a fresh process: the snapshot is loaded again from the store
    assert other.is_enabled("shared", "72") is True


@pytest.mark.redis
def test_concurrent_registrations_lose_nothing(redis_rollout):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database cannot take writes from several threads")
    redis_rollout.add_func("many", percentage=0)
    ids = [str(i) for i in range(40)]

    def register(chunk):
        for user in chunk:
            redis_rollout.register("many", user)

    threads = [threading.Thread(target=register, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_rollout.backend.users("many") == set(ids)
    runtime.refresh()
    assert all(redis_rollout.is_enabled("many", user) for user in ids)


def test_redis_down_the_database_write_stands(caplog):
    backend = RedisBackEnd("redis://127.0.0.1:1/0")  # nothing listens there
    rollout = Rollout(backend)
    rollout.add_func("cdc_on", percentage=0)
    rollout.register("cdc_on", "42")
    assert rollout.is_enabled("cdc_on", "42") is True
    assert Flag.objects.get(key="cdc_on").enabled
    assert "resync()" in caplog.text


@pytest.mark.redis
def test_through_the_products_redis_mirror(redis_flags, redis_url):
    import redis

    from featureflags.conf import flag_settings

    rollout = Rollout(RedisBackEnd(redis.Redis.from_url(redis_url)), legacy_inverted_percentage=True)
    assert rollout.backend.prefix == f"{flag_settings.KEY_PREFIX}:hanoi"  # under the product's prefix
    rollout.add_func("legacy", percentage=80)
    assert Flag.objects.get(key="legacy").bucketing == "crc32_inv"
    runtime.reset()  # another process: its snapshot comes from Redis
    assert runtime.current().flags["legacy"].bucketing == "crc32_inv"
    assert rollout.is_enabled("legacy", "444401") is (zlib.crc32(b"444401") % 100 >= 80)


def test_a_redis_client_is_not_a_backend():
    import redis

    with pytest.raises(TypeError, match="RedisBackEnd"):
        Rollout(redis.Redis())
