"""Pages of the demo site."""

from django.shortcuts import render

import featureflags
from featureflags.decorators import flag_required
from featureflags.store import runtime


def home(request):
    snapshot = runtime.current()
    flags = [
        {
            "key": key,
            "decision": featureflags.evaluate(key, request),
        }
        for key in sorted(snapshot.flags)
    ]
    return render(request, "home.html", {"flags": flags, "mirror": runtime.status()})


# -- demo pages of the Django integration ---------------------------------------------


@flag_required("cdc_on")
def demo_cdc(request):
    """Behind ``cdc_on`` (the hanoi README's flag) via the decorator: a 404 when it is off for you."""
    return render(request, "demo/cdc.html", {"decision": featureflags.evaluate("cdc_on", request)})


def demo_template(request):
    """``{% if_feature %}`` and ``{% variant %}`` in a template."""
    return render(request, "demo/template.html")


def demo_sticky(request):
    """An anonymous visitor's rollout: the signed cookie keeps the same answer on every visit."""
    key = request.GET.get("flag") or "new_ui"
    return render(
        request,
        "demo/sticky.html",
        {
            "key": key,
            "context": request.flags.context,
            "explanation": featureflags.explain(key, request),
        },
    )
