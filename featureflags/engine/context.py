"""Who is asking: the input of every evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .hashing import hashable

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _id(value: Any) -> str:
    text = str(value)
    return text if text.isascii() else hashable(text)


class Context:
    """A user id, an anonymous id, attributes and an environment.

    ``Context(user_id=42, attributes={"region": "US"})`` normalises the id to
    ``"42"``. Contexts are treated as immutable once built.
    """

    __slots__ = ("anonymous_id", "attributes", "environment", "user_id")

    def __init__(
        self,
        user_id: Any = None,
        attributes: Mapping[str, Any] | None = None,
        anonymous_id: Any = None,
        environment: str | None = None,
    ) -> None:
        # type() checks first: building a context is on the hot path of is_enabled(key, "42").
        # Non-ASCII ids go through hashable(): a lone surrogate (JSON allows one) would crash mmh3.
        if user_id is not None and (type(user_id) is not str or not user_id.isascii()):
            user_id = str(user_id) if type(user_id) is int else _id(user_id)
        if anonymous_id is not None and (type(anonymous_id) is not str or not anonymous_id.isascii()):
            anonymous_id = _id(anonymous_id)
        self.user_id = user_id
        self.anonymous_id = anonymous_id
        self.attributes = attributes if attributes is not None else _EMPTY
        self.environment = environment

    def get(self, name: str) -> Any:
        """The value a constraint or a stickiness setting names."""
        if name == "user_id":
            return self.user_id
        if name == "anonymous_id":
            return self.anonymous_id
        if name == "environment":
            return self.environment
        return self.attributes.get(name)

    def replace(self, **changes: Any) -> Context:
        """A plain Context with some fields changed (subclasses' extra slots are not carried)."""
        fields = {name: getattr(self, name) for name in Context.__slots__}
        fields.update(changes)
        return Context(**fields)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "anonymous_id": self.anonymous_id,
            "attributes": dict(self.attributes),
            "environment": self.environment,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.user_id, self.anonymous_id, self.environment))

    def __repr__(self) -> str:
        return (
            f"Context(user_id={self.user_id!r}, anonymous_id={self.anonymous_id!r}, "
            f"attributes={dict(self.attributes)!r}, environment={self.environment!r})"
        )
