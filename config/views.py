"""Pages of the demo site."""

from django.shortcuts import render

import featureflags
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
