"""The base of every endpoint: its authentication, permissions and error shape are its own.

A project that adds ``featureflags.api`` and nothing else has Django REST framework's
defaults, which let anyone in (``AllowAny``); these views never depend on them.
"""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from .authentication import BearerTokenAuthentication
from .errors import exception_handler
from .permissions import HasScope


class FlagsAPIView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [HasScope]

    def get_exception_handler(self):
        return exception_handler
