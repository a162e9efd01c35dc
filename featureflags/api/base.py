"""What every view of the API shares: hostile query strings and URL parts refused by name."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from featureflags.input_checks import hostile_params


class FlagsAPIView(APIView):
    """``actions`` maps an HTTP method to an action of ``featureflags.permissions`` (a session
    user needs its permission); methods not named are ``view`` when safe, ``change`` otherwise."""

    actions: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        # Before authentication: a NUL byte would otherwise reach a database lookup (PostgreSQL: a 500).
        problems = hostile_params(request._request, kwargs, form=False)  # DRF parses bodies
        if problems:
            raise ValidationError({name: [message] for name, message in problems.items()})
        super().initial(request, *args, **kwargs)
