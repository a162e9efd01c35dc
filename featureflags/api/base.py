"""The base of every endpoint: its authentication, permissions and error shape are its own,
and hostile query strings and URL parts are refused by name.

A project that adds ``featureflags.api`` and nothing else has Django REST framework's
defaults, which let anyone in (``AllowAny``); these views never depend on them.
"""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from featureflags.input_checks import hostile_params

from .authentication import BearerTokenAuthentication
from .errors import exception_handler
from .permissions import HasScope


class FlagsAPIView(APIView):
    """``actions`` maps an HTTP method to an action of ``featureflags.permissions`` (a session
    user needs its permission); methods not named are ``view`` when safe, ``change`` otherwise."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [HasScope]
    actions: dict[str, str] = {}

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        # Before authentication: a NUL byte would otherwise reach a database lookup (PostgreSQL: a 500).
        problems = hostile_params(request._request, kwargs, form=False)  # DRF parses bodies
        if problems:
            raise ValidationError({name: [message] for name, message in problems.items()})
        super().initial(request, *args, **kwargs)
