"""The flag API: every write goes through ``featureflags.services`` with source ``api``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Q
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from featureflags import services
from featureflags.engine.definition import is_valid_key
from featureflags.models import AuditEntry, Flag, FlagUser, Source
from featureflags.serialization import EDITABLE_FIELDS, flag_state, user_count, with_relations

from . import serializers as s
from .base import FlagsAPIView
from .evaluation import context_from_data, decisions
from .models import ApiToken, Scope
from .parsers import CsvIdsParser, IdLines, PlainTextIdsParser
from .permissions import actor_of
from .public import client_decisions, public_context
from .throttling import PUBLIC_THROTTLES, is_public_caller

ID_PARSERS = [JSONParser, PlainTextIdsParser, CsvIdsParser, FormParser, MultiPartParser]


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 10_000


def _flag_or_404(key: str) -> Flag:
    if not is_valid_key(key):  # e.g. a NUL byte, which PostgreSQL refuses to even compare
        raise services.FlagNotFound(key)
    try:
        return with_relations(Flag.objects).get(key=key)
    except Flag.DoesNotExist:
        raise services.FlagNotFound(key) from None


def _represent(flag: Flag, users: int | None = None, excluded: int | None = None) -> dict[str, Any]:
    state = flag_state(flag)
    state["user_count"] = user_count(flag) if users is None else users
    state["excluded_count"] = user_count(flag, excluded=True) if excluded is None else excluded
    return state


def _validated(serializer_class, data: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """The body checked for shape; unknown fields are refused by name."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return {name: value for name, value in serializer.validated_data.items() if name in data}


def _write(request) -> dict[str, Any]:
    return {"actor": actor_of(request), "source": Source.API}


def _bool_param(request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise ValidationError({name: ["true or false."]})


class FlagListView(FlagsAPIView):
    """List flags (filter by enabled, kind, tag, owner, search; ``archived=true``: the archived ones) or create one."""

    actions = {"POST": "create"}

    @extend_schema(
        parameters=[
            OpenApiParameter("enabled", bool),
            OpenApiParameter("kind", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("owner", str),
            OpenApiParameter("search", str, description="Part of the key or description."),
            OpenApiParameter("archived", bool, description="The archived (deleted, not yet purged) flags instead."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.FlagSerializer(many=True),
    )
    def get(self, request):
        archived = _bool_param(request, "archived")
        flags = (
            with_relations(Flag.all_objects.filter(archived_at__isnull=not archived))
            .annotate(
                n_users=Count("user_entries", filter=Q(user_entries__excluded=False)),
                n_excluded=Count("user_entries", filter=Q(user_entries__excluded=True)),
            )
            .order_by("key")
        )
        enabled = _bool_param(request, "enabled")
        if enabled is not None:
            flags = flags.filter(enabled=enabled)
        for name in ("kind", "owner"):
            if request.query_params.get(name):
                flags = flags.filter(**{name: request.query_params[name]})
        search = request.query_params.get("search")
        if search:
            flags = flags.filter(Q(key__icontains=search) | Q(description__icontains=search))
        tag = request.query_params.get("tag")
        paginator = Pages()
        if tag:  # tags are a JSON list: filtered here, which works on every database
            flags = [f for f in flags if tag in (f.tags or [])]
        page = paginator.paginate_queryset(flags, request, view=self)
        return paginator.get_paginated_response([_represent(f, f.n_users, f.n_excluded) for f in page])

    @extend_schema(request=s.FlagCreateSerializer, responses={201: s.FlagSerializer, 400: s.ErrorSerializer})
    def post(self, request):
        fields = _validated(s.FlagCreateSerializer, request.data, ("key",) + EDITABLE_FIELDS)
        key = fields.pop("key")
        services.create_flag(key, **_write(request), **fields)
        return Response(_represent(_flag_or_404(key)), status=status.HTTP_201_CREATED)


class FlagDetailView(FlagsAPIView):
    """Read, update (naming the version you read: a stale one gets 409) or delete (archive) one flag."""

    actions = {"DELETE": "delete"}

    @extend_schema(responses={200: s.FlagSerializer, 404: s.ErrorSerializer})
    def get(self, request, key: str):
        return Response(_represent(_flag_or_404(key)))

    @extend_schema(
        request=s.FlagUpdateSerializer,
        responses={200: s.FlagSerializer, 400: s.ErrorSerializer, 404: s.ErrorSerializer, 409: s.ErrorSerializer},
    )
    def patch(self, request, key: str):
        fields = _validated(s.FlagUpdateSerializer, request.data, ("version",) + EDITABLE_FIELDS)
        if "version" not in fields:
            raise ValidationError({"version": ["Send the version you read (optimistic concurrency)."]})
        version = fields.pop("version")
        services.update_flag(key, fields, expected_version=version, **_write(request))
        return Response(_represent(_flag_or_404(key)))

    put = patch

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="Refuse (409) unless the flag is at it.")],
        responses={204: None, 404: s.ErrorSerializer, 409: s.ErrorSerializer},
    )
    def delete(self, request, key: str):
        version = request.query_params.get("version")
        if version is not None and (not version.isdigit() or len(version) > 10):
            raise ValidationError({"version": ["A whole number."]})
        services.delete_flag(key, expected_version=int(version) if version else None, **_write(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlagRestoreView(FlagsAPIView):
    """Bring back a deleted (archived) flag with its user lists, switched off."""

    actions = {"POST": "restore"}

    @extend_schema(request=None, responses={200: s.FlagSerializer, 404: s.ErrorSerializer})
    def post(self, request, key: str):
        services.restore_flag(key, **_write(request))
        return Response(_represent(_flag_or_404(key)))


class FlagFieldView(FlagsAPIView):
    """One list field of a flag (``rules``, ``variants``, ``constraints``): read it, or replace it whole."""

    field = ""
    serializer: type[serializers.Serializer] = s.ListFieldWriteSerializer

    def get(self, request, key: str):
        state = flag_state(_flag_or_404(key))
        return Response({"version": state["version"], self.field: state[self.field]})

    def put(self, request, key: str):
        data = _validated(self.serializer, request.data, ("version", self.field))
        if self.field not in data or "version" not in data:
            missing = [n for n in ("version", self.field) if n not in data]
            raise ValidationError({n: ["This field is required."] for n in missing})
        services.update_flag(key, {self.field: data[self.field]}, expected_version=data["version"], **_write(request))
        return self.get(request, key)


def _field_view(name: str, child: serializers.Field) -> type[FlagFieldView]:
    write = type(f"{name.title()}WriteSerializer", (s.ListFieldWriteSerializer,), {name: child})
    read = inline_serializer(f"{name.title()}Read", {"version": serializers.IntegerField(), name: child})
    view = type(f"Flag{name.title()}View", (FlagFieldView,), {"field": name, "serializer": write})
    view.get = extend_schema(responses={200: read, 404: s.ErrorSerializer})(view.get)
    view.put = extend_schema(request=write, responses={200: read, 400: s.ErrorSerializer, 409: s.ErrorSerializer})(
        view.put
    )
    return view


RulesView = _field_view("rules", serializers.ListField(child=serializers.CharField(max_length=1000)))
VariantsView = _field_view("variants", s.VariantSerializer(many=True))
ConstraintsView = _field_view("constraints", s.ConstraintSerializer(many=True))


def _ids_from_request(request) -> tuple[Iterator[str] | list[str], bool]:
    """The ids of a users write: streamed line by line from a text body, or a JSON list."""
    data = request.data
    if isinstance(data, IdLines):
        return iter(data), _bool_param(request, "excluded") or False
    data = _validated(s.UsersWriteSerializer, data, ("users", "excluded"))
    if "users" not in data:
        raise ValidationError({"users": ["This field is required."]})
    return data["users"], data.get("excluded", False)


_USERS_PARAMS = [OpenApiParameter("excluded", bool, description="The excluded list instead of the users list.")]
_USERS_WRITE = inline_serializer(
    "UsersChanged", {"changed": serializers.IntegerField(), "count": serializers.IntegerField()}
)


class FlagUsersView(FlagsAPIView):
    """A flag's user list: paged ids; add (POST), replace (PUT).

    Send a JSON body ``{"users": [...], "excluded": false}``, or a ``text/plain``
    body of one id per line (streamed: up to a million ids in one request, with a token
    or a session).
    """

    parser_classes = ID_PARSERS

    @extend_schema(
        parameters=_USERS_PARAMS + [OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=inline_serializer(
            "UserPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request, key: str):
        flag = _flag_or_404(key)
        excluded = _bool_param(request, "excluded") or False
        ids = FlagUser.objects.filter(flag=flag, excluded=excluded).order_by("user_id")
        ids = ids.values_list("user_id", flat=True)
        paginator = Pages()
        page = paginator.paginate_queryset(ids, request, view=self)
        return paginator.get_paginated_response(list(page))

    @extend_schema(request=s.UsersWriteSerializer, parameters=_USERS_PARAMS, responses={200: _USERS_WRITE})
    def post(self, request, key: str):
        return _change_users(request, key, services.add_users)

    @extend_schema(request=s.UsersWriteSerializer, parameters=_USERS_PARAMS, responses={200: _USERS_WRITE})
    def put(self, request, key: str):
        return _change_users(request, key, services.replace_users)


class FlagUsersRemoveView(FlagsAPIView):
    """Remove ids from a flag's list (same bodies as adding)."""

    parser_classes = ID_PARSERS

    @extend_schema(request=s.UsersWriteSerializer, parameters=_USERS_PARAMS, responses={200: _USERS_WRITE})
    def post(self, request, key: str):
        return _change_users(request, key, services.remove_users)


class FlagUsersCountView(FlagsAPIView):
    @extend_schema(
        responses=inline_serializer(
            "UserCounts", {"users": serializers.IntegerField(), "excluded_users": serializers.IntegerField()}
        )
    )
    def get(self, request, key: str):
        flag = _flag_or_404(key)
        return Response({"users": user_count(flag), "excluded_users": user_count(flag, excluded=True)})


def _change_users(request, key: str, change) -> Response:
    ids, excluded = _ids_from_request(request)
    changed = change(key, ids, excluded=excluded, **_write(request))
    count = FlagUser.objects.filter(flag__key=key, excluded=excluded).count()
    return Response({"changed": changed, "count": count})


class AuditView(FlagsAPIView):
    """The audit log, newest first; filter by flag, actor, source, action and time."""

    @extend_schema(
        parameters=[
            OpenApiParameter("flag", str),
            OpenApiParameter("actor", str),
            OpenApiParameter("source", str),
            OpenApiParameter("action", str),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.AuditEntrySerializer(many=True),
    )
    def get(self, request):
        entries = AuditEntry.objects.all()
        for param, lookup in (("flag", "flag_key"), ("actor", "actor"), ("source", "source"), ("action", "action")):
            if request.query_params.get(param):
                entries = entries.filter(**{lookup: request.query_params[param]})
        for param, lookup in (("since", "at__gte"), ("until", "at__lt")):
            raw = request.query_params.get(param)
            if raw:
                try:
                    when = parse_datetime(raw)
                except ValueError:
                    when = None
                if when is None:
                    raise ValidationError({param: ["An ISO 8601 date and time."]})
                entries = entries.filter(**{lookup: when})
        paginator = Pages()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(s.AuditEntrySerializer(page, many=True).data)


class EvaluateView(FlagsAPIView):
    """Decisions for a context: with reasons, for every flag, for server-side callers (read and
    write tokens, staff); an evaluate-scope key gets client-side flags only, without reasons, for
    the user its backend signed (``context.user_hash``) and its allowed attributes."""

    scope = Scope.EVALUATE
    session_scope = Scope.READ  # a signed-in user asks about themselves through the client endpoint
    actions = {"POST": "view"}  # staff who may view flags may ask about any context
    throttle_classes = PUBLIC_THROTTLES

    @extend_schema(request=s.EvaluateSerializer, responses={200: s.EvaluateResponseSerializer, 400: s.ErrorSerializer})
    def post(self, request):
        data = _validated(s.EvaluateSerializer, request.data, ("keys", "context"))
        if isinstance(request.auth, ApiToken) and is_public_caller(request):
            claimed = data.get("context") or {}
            context = public_context(
                request,
                user_id=claimed.get("user_id"),
                user_hash=claimed.get("user_hash"),
                anonymous_id=claimed.get("anonymous_id"),
                attributes=claimed.get("attributes") or {},
            )
            version, flags = client_decisions(data.get("keys"), context)
            return Response({"version": version, "flags": flags})
        context = context_from_data({k: v for k, v in (data.get("context") or {}).items() if k != "user_hash"})
        version, results = decisions(data.get("keys"), context)
        flags = {k: d.as_dict(with_value=True) for k, d in results.items()}  # with the value and the rule's id
        return Response({"version": version, "flags": flags})
