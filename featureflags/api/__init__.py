"""The REST API (Django REST framework), as its own app so DRF stays optional.

Add ``"featureflags.api"`` to ``INSTALLED_APPS`` and
``path("api/", include("featureflags.api.urls"))`` to your URLs.
"""
