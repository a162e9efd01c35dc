"""Cost of ``{% if_feature %}`` per tag, and of the middleware per request.

    python -m benchmarks.templatetag [--quick]

Baselines measured in the same run: the same template with ``{% if True %}`` in
place of each ``{% if_feature %}`` (the per-tag figure is the difference divided
by the number of tags), and the same view called without the middleware.
"""

from __future__ import annotations

import argparse
import timeit

from benchmarks._django import setup

setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from featureflags.context import ANONYMOUS_COOKIE_SALT  # noqa: E402
from featureflags.engine import Snapshot  # noqa: E402
from featureflags.middleware import FeatureFlagsMiddleware  # noqa: E402
from featureflags.store import runtime  # noqa: E402

TAGS = 10
BUDGET_US = 3.0


def per_call_us(func, number: int) -> float:
    """Best of five runs, in microseconds per call."""
    return min(timeit.Timer(func).repeat(repeat=5, number=number)) / number * 1e6


def interleaved_us(first, second, number: int, rounds: int = 7) -> tuple[float, float]:
    """Best per-call time of each, measured in alternation so that load on the machine hits both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for index, func in enumerate((first, second)):
            best[index] = min(best[index], timeit.Timer(func).timeit(number) / number * 1e6)
    return best[0], best[1]


def install_flags() -> None:
    runtime.install(
        Snapshot.from_definitions(
            [{"key": f"flag_{i}", "enabled": True, "percentage": 10 * i} for i in range(TAGS)], version=1
        )
    )


def visitor_request():
    """A returning anonymous visitor: the signed cookie is there, as on every request but the first."""
    cookie = HttpResponse()
    cookie.set_signed_cookie("featureflags_aid", "0123456789abcdef", salt=ANONYMOUS_COOKIE_SALT)
    request = RequestFactory().get("/", HTTP_COOKIE=f"featureflags_aid={cookie.cookies['featureflags_aid'].value}")
    request.user = AnonymousUser()
    return request


def template_costs(number: int) -> tuple[float, float]:
    django_engine = engines["django"]
    flagged = django_engine.from_string(
        "{% load featureflags %}"
        + "".join(f'{{% if_feature "flag_{i}" %}}on{{% else %}}off{{% endif_feature %}}' for i in range(TAGS))
    )
    plain = django_engine.from_string("".join("{% if True %}on{% else %}off{% endif %}" for _ in range(TAGS)))
    request = visitor_request()
    FeatureFlagsMiddleware.start(request)
    flagged.render({}, request)  # the request's context is built once, on the first check
    # As a view's render(request, ...) does: a RequestContext with the context processors.
    return interleaved_us(lambda: flagged.render({}, request), lambda: plain.render({}, request), number)


def middleware_costs(number: int) -> dict[str, float]:
    def view(request):
        return HttpResponse("ok")

    def view_with_checks(request):
        flags = request.flags
        for i in range(TAGS):
            flags[f"flag_{i}"]
        return HttpResponse("ok")

    middleware = FeatureFlagsMiddleware(view)
    checking = FeatureFlagsMiddleware(view_with_checks)

    def fresh():
        return visitor_request()

    rounds = 7
    pool = iter([fresh() for _ in range(number * rounds * 4 + 10)])  # each request is served once
    bare, wrapped = interleaved_us(lambda: view(next(pool)), lambda: middleware(next(pool)), number, rounds)
    _, with_checks = interleaved_us(lambda: view(next(pool)), lambda: checking(next(pool)), number, rounds)
    return {"bare": bare, "middleware": wrapped, "middleware_10_checks": with_checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a rough figure in a second)")
    args = parser.parse_args()
    number = 1_000 if args.quick else 5_000
    install_flags()

    with_flags, baseline = template_costs(number)
    per_tag = (with_flags - baseline) / TAGS
    print(f"template, {TAGS} x {{% if True %}}      : {baseline:8.2f} µs per render (baseline)")
    print(f"template, {TAGS} x {{% if_feature %}}   : {with_flags:8.2f} µs per render ({with_flags / baseline:.2f}x)")
    verdict = "within" if per_tag <= BUDGET_US else "OVER"
    print(f"cost per {{% if_feature %}} tag        : {per_tag:8.2f} µs ({verdict} the {BUDGET_US} µs budget)")

    costs = middleware_costs(max(number // 4, 500))
    extra = costs["middleware"] - costs["bare"]
    print(f"view without middleware             : {costs['bare']:8.2f} µs per request (baseline)")
    print(f"view with middleware, no flag check : {costs['middleware']:8.2f} µs per request ({extra:+.2f} µs)")
    checks = costs["middleware_10_checks"] - costs["bare"]
    print(
        f"view with middleware, {TAGS} checks     : {costs['middleware_10_checks']:8.2f} µs per request "
        f"({checks:+.2f} µs, context built once + {TAGS} checks)"
    )


if __name__ == "__main__":
    main()
