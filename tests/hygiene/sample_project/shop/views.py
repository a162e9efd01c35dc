"""A sample project's views: read by the references scanner, never imported."""

import featureflags
from featureflags.decorators import flag_required


def checkout(request):
    if featureflags.is_enabled("new_checkout", request):
        try:
            return new_checkout(request)
        except ValueError:
            featureflags.report_error("ghost_checkout")  # a typo: no such flag
            raise
    return featureflags.variant("pricing_test", request)


@featureflags.monitor("new_search")
def search(request):
    return []


@flag_required("typo_flag")
def beta(request):
    return None


def new_checkout(request):
    return None
