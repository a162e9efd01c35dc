"""This product side by side with django-waffle, django-flags and hanoi.

    bash benchmarks/setup-peers.sh            # once: .venv-bench with the peers
    .venv-bench/bin/python -m benchmarks.peers [--quick]

The same scenarios for every library, each measured in this run (best of 5, in
µs per check), with each peer's ratio to this product and a floor row (a dict
lookup plus ``zlib.crc32(id) % 100``). Peers that keep flags in a cache run once
on Django's locmem cache and once on Redis (a private redis-server on a free port,
started and killed here). Each check is the first of its request: per-request
caches (waffle's ``request.waffles``, django-flags' ``request.flag_conditions``)
are cleared before it, the product's context is the one its middleware puts on
the request. hanoi, which knows no requests, gets the user id, and is compared
with this product given the same id.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

NA = "n/a"
SCENARIOS = ("on for everyone", "50 % rollout", "user in a list of 100", "user in a list of 10,000")
SCENARIOS += ("regex rule", "variant", "template, one tag")
LIST_SIZES = {"user in a list of 100": 100, "user in a list of 10,000": 10_000}
REGEX_USER_INDEX = 5_000  # the user the regex rule matches (by its id)


def per_call_us(func: Callable[[], object], budget: float) -> float:
    """Best of five runs of about ``budget / 5`` seconds each, in µs per call."""
    func()  # warm caches and connections
    number, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(number):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / 25 or number >= 1_000_000:
            break
        number *= 4
    number = max(1, int(number * (budget / 5) / max(elapsed, 1e-9)))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


@dataclass
class Column:
    """One library on one store: a callable per scenario, or the reason it has none."""

    name: str
    compare_to: str  # the product column its ratio is taken against
    checks: dict[str, Callable[[], object] | str] = field(default_factory=dict)
    enter: Callable[[], None] = lambda: None
    # Run before a scenario is probed and timed (django-flags: that flag's rows in the database).
    prepare: dict[str, Callable[[], None]] = field(default_factory=dict)


# What each scenario must answer for the user it checks; the 50 % rollout's answer is the
# library's own hashing, so it is on or off (and, for this product, equal by request and by id).
# hanoi's Redis backend answers 1 for "on" (a SISMEMBER reply): equal to True is what counts.
EXPECTED: dict[str, Callable[[object], bool]] = {
    "on for everyone": lambda answer: answer == True,  # noqa: E712
    "50 % rollout": lambda answer: answer in (True, False),
    "user in a list of 100": lambda answer: answer == True,  # noqa: E712
    "user in a list of 10,000": lambda answer: answer == True,  # noqa: E712
    "regex rule": lambda answer: answer == True,  # noqa: E712
    "variant": lambda answer: answer in ("a", "b"),
    "template, one tag": lambda answer: isinstance(answer, str) and answer.strip() == "yes",
}


def probe(column: Column, scenario: str, check: Callable[[], object]) -> None:
    """A check must give the right answer before it is timed: a wrong one stops the run."""
    for _ in range(2):  # the first call of a request and the next one alike
        answer = check()
        if not EXPECTED[scenario](answer):
            raise SystemExit(f"{column.name}, {scenario!r}: wrong answer {answer!r}; nothing was timed")


# -- data -------------------------------------------------------------------------


def make_users(count: int):
    from django.contrib.auth.models import User

    User.objects.bulk_create([User(username=f"user{i}") for i in range(1, count + 1)], batch_size=2000)
    return list(User.objects.order_by("pk"))


def request_for(user, path: str = "/"):
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = user
    return request


def middle(users: list, size: int):
    """The listed user checked: the middle of the list (a linear scan pays half of it)."""
    return users[size // 2]


# -- this product ---------------------------------------------------------------


def product_setup(users: list) -> dict[str, str]:
    from featureflags import services

    services.create_flag("p_on", enabled=True, percentage=100, actor="benchmark")
    services.create_flag("p_pct", enabled=True, percentage=50, actor="benchmark")
    for size in LIST_SIZES.values():
        services.create_flag(f"p_list{size}", enabled=True, percentage=0, actor="benchmark")
        services.add_users(f"p_list{size}", [str(u.pk) for u in users[:size]], actor="benchmark")
    regex_id = str(users[REGEX_USER_INDEX].pk)
    services.create_flag(
        "p_regex", enabled=True, percentage=0, rules=[f"^{regex_id[:-2]}[0-9][0-9]$"], actor="benchmark"
    )
    services.create_flag(
        "p_variant",
        enabled=True,
        percentage=100,
        variants=[{"name": "a", "weight": 50}, {"name": "b", "weight": 50}],
        actor="benchmark",
    )
    return {"regex_id": regex_id}


def product_template() -> str | None:
    """The product's one-tag template, if its tag library is in this tree."""
    from django.template import Template, TemplateSyntaxError

    candidates = [
        '{% load featureflags %}{% if_feature "p_on" %}yes{% endif_feature %}',
        '{% load featureflags %}{% if_feature "p_on" %}yes{% endif %}',
        '{% load feature_flags %}{% if_feature "p_on" %}yes{% endif_feature %}',
    ]
    for source in candidates:
        try:
            Template(source)
            return source
        except (TemplateSyntaxError, Exception):
            continue
    return None


def product_columns(users: list) -> list[Column]:
    import featureflags
    from featureflags.middleware import FeatureFlagsMiddleware

    info = product_setup(users)
    from featureflags.store import runtime

    runtime.refresh()

    def first_in_request(check: Callable[[object], object], request) -> Callable[[], object]:
        def timed():
            FeatureFlagsMiddleware.start(request)  # a new request's lazy context, as the middleware makes it
            return check(request)

        return timed

    plain_user = users[0]
    by_request = Column("this product (request)", "")
    by_id = Column("this product (user id)", "")
    request = request_for(plain_user)
    uid = str(plain_user.pk)
    by_request.checks["on for everyone"] = first_in_request(lambda r: featureflags.is_enabled("p_on", r), request)
    by_id.checks["on for everyone"] = lambda: featureflags.is_enabled("p_on", uid)
    by_request.checks["50 % rollout"] = first_in_request(lambda r: featureflags.is_enabled("p_pct", r), request)
    by_id.checks["50 % rollout"] = lambda: featureflags.is_enabled("p_pct", uid)
    for scenario, size in LIST_SIZES.items():
        listed = middle(users, size)
        list_request, list_id, key = request_for(listed), str(listed.pk), f"p_list{size}"
        by_request.checks[scenario] = first_in_request(lambda r, k=key: featureflags.is_enabled(k, r), list_request)
        by_id.checks[scenario] = lambda k=key, i=list_id: featureflags.is_enabled(k, i)
    regex_user = users[REGEX_USER_INDEX]
    regex_request = request_for(regex_user)
    by_request.checks["regex rule"] = first_in_request(lambda r: featureflags.is_enabled("p_regex", r), regex_request)
    by_id.checks["regex rule"] = lambda: featureflags.is_enabled("p_regex", info["regex_id"])
    by_request.checks["variant"] = first_in_request(lambda r: featureflags.variant("p_variant", r), request)
    by_id.checks["variant"] = lambda: featureflags.variant("p_variant", uid)
    source = product_template()
    by_request.checks["template, one tag"] = (
        template_check(source, request, fresh=lambda: FeatureFlagsMiddleware.start(request))
        if source
        else "the product's if_feature tag is not in this tree yet"
    )
    by_id.checks["template, one tag"] = "templates render with a request"
    for scenario in ("50 % rollout", "variant"):  # the two entry points hash alike
        by_request_answer, by_id_answer = by_request.checks[scenario](), by_id.checks[scenario]()
        if by_request_answer != by_id_answer:
            raise SystemExit(f"the product's {scenario!r}: {by_request_answer!r} by request, {by_id_answer!r} by id")
    outsider = request_for(users[-1])  # in no list, not matched by the regex
    for key in ("p_list100", "p_list10000", "p_regex"):
        FeatureFlagsMiddleware.start(outsider)
        if featureflags.is_enabled(key, outsider) is not False:
            raise SystemExit(f"the product's {key!r} is on for a user it does not target")
    return [by_request, by_id]


def template_check(source: str, request, fresh: Callable[[], object] = lambda: None) -> Callable[[], object]:
    """Render the one-tag template (after ``fresh()``, which starts a new request); its cost
    minus a no-tag twin's is reported."""
    from django.template import Context, Template

    template = Template(source)
    context = Context({"request": request})

    def render() -> str:
        fresh()
        return template.render(context)

    return render


BASELINE_TEMPLATE = "{% if on %}yes{% endif %}"


# -- django-waffle ----------------------------------------------------------------


def waffle_setup(users: list) -> None:
    from waffle.models import Flag

    Flag.objects.create(name="w_on", everyone=True)
    Flag.objects.create(name="w_pct", everyone=None, percent=50)
    for size in LIST_SIZES.values():
        flag = Flag.objects.create(name=f"w_list{size}", everyone=None)
        flag.users.add(*users[:size])


def waffle_column(users: list, cache_name: str, label: str) -> Column:
    from django.test import override_settings
    from waffle import flag_is_active

    def enter() -> None:
        override_settings(WAFFLE_CACHE_NAME=cache_name).enable()

    request = request_for(users[0])

    def first_in_request(name: str, req) -> Callable[[], object]:
        def check():
            req.__dict__.pop("waffles", None)
            return flag_is_active(req, name)

        return check

    column = Column(label, "this product (request)", enter=enter)
    column.checks["on for everyone"] = first_in_request("w_on", request)
    column.checks["50 % rollout"] = first_in_request("w_pct", request)
    for scenario, size in LIST_SIZES.items():
        column.checks[scenario] = first_in_request(f"w_list{size}", request_for(middle(users, size)))
    column.checks["regex rule"] = "waffle has no pattern rule on user ids"
    column.checks["variant"] = "waffle flags are on/off, no variants"
    column.checks["template, one tag"] = template_check(
        '{% load waffle_tags %}{% flag "w_on" %}yes{% endflag %}',
        request,
        fresh=lambda: request.__dict__.pop("waffles", None),
    )
    return column


# -- django-flags ---------------------------------------------------------------


def django_flags_column(users: list) -> Column:
    """django-flags reading its flags from the database (``DatabaseFlagsSource``): before each
    scenario the database holds that flag's conditions only; each timed check is the first of
    its request (``request.flag_conditions`` cleared), so it reads them from the database."""
    from flags.models import FlagState
    from flags.state import flag_enabled

    def stored(name: str, conditions: list[tuple[str, str]]) -> Callable[[], None]:
        def prepare() -> None:
            FlagState.objects.all().delete()
            FlagState.objects.bulk_create(
                [FlagState(name=name, condition=c, value=v) for c, v in conditions], batch_size=2000
            )

        return prepare

    def first_in_request(name: str, req) -> Callable[[], object]:
        def check():
            req.__dict__.pop("flag_conditions", None)
            return flag_enabled(name, request=req)

        return check

    column = Column("django-flags (database)", "this product (request)")
    everyone = request_for(users[0])
    column.checks["on for everyone"] = first_in_request("f_on", everyone)
    column.prepare["on for everyone"] = stored("f_on", [("boolean", "True")])
    column.checks["50 % rollout"] = "django-flags has no percentage condition"
    for scenario, size in LIST_SIZES.items():
        name = f"f_list{size}"
        column.checks[scenario] = first_in_request(name, request_for(middle(users, size)))
        column.prepare[scenario] = stored(name, [("user", u.username) for u in users[:size]])
    regex_user = users[REGEX_USER_INDEX]
    pattern = f"^/u/{str(regex_user.pk)[:-2]}[0-9][0-9]/$"
    column.checks["regex rule"] = first_in_request("f_regex", request_for(regex_user, f"/u/{regex_user.pk}/"))
    column.prepare["regex rule"] = stored("f_regex", [("path matches", pattern)])
    column.checks["variant"] = "django-flags flags are on/off, no variants"
    column.checks["template, one tag"] = template_check(
        '{% load feature_flags %}{% flag_enabled "f_on" as on %}{% if on %}yes{% endif %}',
        everyone,
        fresh=lambda: everyone.__dict__.pop("flag_conditions", None),
    )
    column.prepare["template, one tag"] = stored("f_on", [("boolean", "True")])
    return column


# -- hanoi ----------------------------------------------------------------------


def hanoi_column(users: list, backend, label: str, bulk_users: Callable[[str, list[str]], None]) -> Column:
    from hanoi import Rollout

    rollout = Rollout(backend)
    rollout.add_func("h_on", percentage=100)
    rollout.add_func("h_pct", percentage=50)
    column = Column(label, "this product (user id)")
    uid = str(users[0].pk)
    column.checks["on for everyone"] = lambda: rollout.is_enabled("h_on", uid)
    column.checks["50 % rollout"] = lambda: rollout.is_enabled("h_pct", uid)
    for scenario, size in LIST_SIZES.items():
        name = f"h_list{size}"
        rollout.add_func(name, percentage=0)
        bulk_users(name, [str(u.pk) for u in users[:size]])
        listed = str(middle(users, size).pk)
        column.checks[scenario] = lambda n=name, i=listed: rollout.is_enabled(n, i)
    regex_id = str(users[REGEX_USER_INDEX].pk)
    rollout.add_func("h_regex", percentage=0)
    rollout.register("h_regex", re.compile(f"^{regex_id[:-2]}[0-9][0-9]$"))
    column.checks["regex rule"] = lambda: rollout.is_enabled("h_regex", regex_id)
    rollout.add_func("h_variant", percentage=100, variants=["a", "b"])
    column.checks["variant"] = lambda: rollout.variant("h_variant", uid)
    column.checks["template, one tag"] = "hanoi has no template tags"
    return column


def hanoi_columns(users: list, redis_url: str, prefix: str) -> list[Column]:
    import redis
    from hanoi import MemoryBackEnd, RedisHighPerfBackEnd

    memory = MemoryBackEnd()

    def memory_users(name: str, ids: list[str]) -> None:
        for uid in ids:
            memory.add(name, uid)

    class PrivateRedisBackEnd(RedisHighPerfBackEnd):
        PREFIX = prefix + ":rollout:{0}"
        SET_PREFIX = prefix + ":rollout:users:{0}"

    remote = PrivateRedisBackEnd(redis.Redis.from_url(redis_url))

    def redis_users(name: str, ids: list[str]) -> None:
        remote._redis.sadd(remote.SET_PREFIX.format(name), *ids)

    return [
        hanoi_column(users, memory, "hanoi (memory)", memory_users),
        hanoi_column(users, remote, "hanoi (Redis)", redis_users),
    ]


# -- the run --------------------------------------------------------------------


def measure_columns(columns: list[Column], budget: float) -> dict[str, dict[str, float | str]]:
    from django.template import Context, Template

    baseline_template = Template(BASELINE_TEMPLATE)
    baseline_context = Context({"on": True})
    template_floor = per_call_us(lambda: baseline_template.render(baseline_context), budget)
    results: dict[str, dict[str, float | str]] = {}
    for column in columns:
        column.enter()
        row: dict[str, float | str] = {}
        for scenario in SCENARIOS:
            check = column.checks.get(scenario, NA)
            if isinstance(check, str):
                row[scenario] = check
                continue
            column.prepare.get(scenario, lambda: None)()
            probe(column, scenario, check)
            us = per_call_us(check, budget)
            if scenario == "template, one tag":
                us = max(us - template_floor, 0.01)  # the tag's own cost
            row[scenario] = us
        results[column.name] = row
        print(f"  measured {column.name}", file=sys.stderr, flush=True)
    return results


def print_table(columns: list[Column], results: dict[str, dict[str, float | str]], floor: float) -> None:
    names = [c.name for c in columns]
    width = 26
    print(f"{'scenario (µs per check; x = peer / this product)':{width + 24}}")
    print(f"{'':{width}}" + "".join(f"{name:>26}" for name in names))
    for scenario in SCENARIOS:
        cells = []
        for column in columns:
            value = results[column.name][scenario]
            if isinstance(value, str):
                cells.append(f"{'n/a':>26}")
                continue
            base = results.get(column.compare_to, {}).get(scenario)
            ratio = f" ({value / base:6.1f}x)" if isinstance(base, float) and column.compare_to else ""
            cells.append(f"{value:>{26 - len(ratio)}.2f}{ratio}")
        print(f"{scenario:{width}}" + "".join(cells))
    print(f"{'floor: dict + crc32 % 100':{width}}{floor:>26.3f}")
    product = results["this product (user id)"]["50 % rollout"]
    print(f"\nthis product, 50 % rollout by id: {product / floor:.1f}x the floor (target <= 10x)")
    print("\nn/a:")
    for column in columns:
        for scenario in SCENARIOS:
            value = results[column.name][scenario]
            if isinstance(value, str):
                print(f"  {column.name}, {scenario}: {value}")
    slower = [
        (c.name, s)
        for c in columns
        if c.compare_to
        for s in SCENARIOS
        if isinstance(results[c.name][s], float)
        and isinstance(results[c.compare_to][s], float)
        and results[c.name][s] <= results[c.compare_to][s]
    ]
    print("\nthis product faster than every peer on every scenario:", "yes" if not slower else f"NO: {slower}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    args = parser.parse_args()
    budget = 0.1 if args.quick else 0.5

    from benchmarks._servers import private_redis

    with private_redis() as server:
        prefix = f"ffpeers:{uuid.uuid4().hex[:8]}"
        os.environ.pop("REDIS_URL", None)  # the product's mirror stays in process unless asked
        os.environ.update(
            PEERS_REDIS_URL=server.url, PEERS_KEY_PREFIX=prefix, DJANGO_SETTINGS_MODULE="benchmarks.peer_settings"
        )
        run(server.url, prefix, budget)


def run(redis_url: str, prefix: str, budget: float) -> None:
    from benchmarks._django import setup

    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"Python {sys.version.split()[0]}; best of 5, about {budget:.1f} s per cell\n")
    users = make_users(10_001)
    waffle_setup(users)
    columns = product_columns(users)
    columns += [
        waffle_column(users, "locmem", "waffle (locmem)"),
        waffle_column(users, "redis", "waffle (Redis)"),
        django_flags_column(users),
        *hanoi_columns(users, redis_url, prefix),
    ]
    from benchmarks.engine import floor_check  # the same floor as the engine benchmark's

    floor = per_call_us(floor_check(), budget)
    results = measure_columns(columns, budget)
    print_table(columns, results, floor)
    redis_mirror_check(redis_url, prefix, users, budget)


def redis_mirror_check(redis_url: str, prefix: str, users: list, budget: float) -> None:
    """The product's check cost does not depend on where the snapshot came from: show it."""
    from django.test import override_settings

    import featureflags
    from featureflags.store import runtime

    settings = {"REDIS_URL": redis_url, "KEY_PREFIX": f"{prefix}:product", "SYNC_THREAD": False}
    with override_settings(FEATUREFLAGS=settings):
        runtime.publish_everything()
        runtime.refresh()
        uid = str(users[0].pk)
        us = per_call_us(lambda: featureflags.is_enabled("p_pct", uid), budget)
        print(f"this product with its Redis mirror, 50 % rollout by id: {us:.2f} µs (status {runtime.status()})")
    runtime.reset()


if __name__ == "__main__":
    main()
