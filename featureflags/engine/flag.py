"""A flag compiled for fast evaluation: version 2, or version 1 through engine/v1.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import Context
from .definition import BUCKETING, DefinitionError, InvalidDefinition, validate_definition
from .schema import check_flag, is_v2
from .targeting import CompiledTargeting, CompiledVariants, FlagBasics, compile_targeting
from .v1 import to_v2, unlisted_targeting

_NOT_COMPILED = object()


class CompiledFlag:
    """A flag's fields and, per environment, its compiled targeting (each compiled on first use).

    Accepts a version-2 definition (engine/schema.py) or a version-1 one, converted as
    engine/v1.py says; a version-1 flag has a targeting in every environment (switched off
    outside its list), so it never decides ``ENVIRONMENT``.
    """

    __slots__ = (
        "_constraint_specs",
        "_environments",
        "_strict",
        "_unlisted",
        "basics",
        "bucketing",
        "client_side",
        "enabled",
        "key",
        "percentage",
        "prerequisites",
        "schema",
        "stickiness",
        "targetings",
        "value_type",
        "variant_names",
        "variants",
    )

    def __init__(self, definition: Mapping[str, Any], validate: bool = True) -> None:
        """Compile ``definition``; ``validate=False`` for definitions validated when written
        (the store's), which then only fail on what cannot be compiled at all."""
        if is_v2(definition):
            if validate:
                check_flag(definition)
            self.schema = 2
            flag = definition
            unlisted = None
        else:
            if validate:
                errors = validate_definition(definition)
                if errors:
                    raise InvalidDefinition(errors)
            else:
                _check_shape(definition)
            self.schema = 1
            flag = to_v2(definition, ())
            unlisted = unlisted_targeting(definition, flag)
        self.basics = basics = FlagBasics(flag)
        self.key: str = basics.key
        self.client_side: bool = definition.get("client_side") is True  # the client endpoint shows only these
        self.bucketing: str = basics.bucketing
        self.stickiness: str = basics.stickiness
        self.value_type: str = basics.value_type
        self.variants: CompiledVariants | None = basics.variants
        self.variant_names: tuple[str, ...] = () if basics.variants is None else basics.variants.names
        self.prerequisites: tuple[tuple[str, bool, frozenset[str] | None], ...] = tuple(
            (p["flag"], p.get("enabled", True) is not False, frozenset(p.get("variants") or ()) or None)
            for p in flag.get("prerequisites") or ()
        )
        # Raw targetings, compiled on first use; the deployment's is let go once compiled (release()).
        self._environments: dict[str, Mapping[str, Any] | None] = dict(flag.get("environments") or {})
        self._unlisted = unlisted
        self._constraint_specs: tuple[dict[str, Any], ...] | None = None
        self._strict = validate
        # Compiled targetings by environment (None: no targeting there), filled on first use.
        self.targetings: dict[str | None, Any] = {}
        # What the rest of the product reads of a flag: the switch and the percentage (version 1's;
        # for version 2: on in any environment, and no single percentage).
        if self.schema == 1:
            self.enabled: bool = definition.get("enabled") is True
            percentage = definition.get("percentage")
            self.percentage: float | None = 100 if percentage is None else percentage
        else:
            self.enabled = any(isinstance(t, Mapping) and t.get("enabled") is True for t in self._environments.values())
            self.percentage = None

    def targeting(self, environment: str) -> CompiledTargeting | None:
        """The compiled targeting of ``environment``; None when the flag has none there."""
        compiled = self.targetings.get(environment, _NOT_COMPILED)
        if compiled is _NOT_COMPILED:
            definition = self._environments.get(environment, self._unlisted)
            if definition is None and environment in self._environments:  # released, then evicted: cannot be
                raise LookupError(f"the targeting of {environment!r} was released")
            compiled = None if definition is None else compile_targeting(definition, self.basics, self._strict)
            if len(self.targetings) < 64 or environment in self._environments:  # bounded: callers may invent names
                self.targetings[environment] = compiled
        return compiled

    def release(self, environment: str) -> None:
        """Keep only the compiled form of ``environment``'s targeting: a snapshot compiles its
        deployment's environment in, and 10,000 raw targetings are tens of MiB."""
        if environment in self.targetings and self._environments.get(environment) is not None:
            self._environments[environment] = None

    @property
    def constraint_specs(self) -> tuple[dict[str, Any], ...]:
        """Every rule's constraints, in every environment (a version-1 flag: its constraints)."""
        if self._constraint_specs is None:
            self._constraint_specs = self._all_constraint_specs()
        return self._constraint_specs

    def _all_constraint_specs(self) -> tuple[dict[str, Any], ...]:
        targetings = [t for t in self._environments.values() if isinstance(t, Mapping)]
        if self._unlisted is not None:
            targetings.append(self._unlisted)
        specs = [spec for t in targetings for rule in t.get("rules") or () for spec in rule.get("constraints") or ()]
        specs += [
            spec for t in self.targetings.values() if t is not None for r in t.rules for spec in r.constraint_specs
        ]
        found = {}
        for spec in specs:
            if isinstance(spec, Mapping):
                found.setdefault(repr(sorted(spec.items(), key=str)), dict(spec))
        return tuple(found.values())

    @property
    def environments(self) -> tuple[str, ...]:
        """The environments this flag has a targeting in (a version-1 flag: also every other one)."""
        return tuple(self._environments)

    def sticky_value(self, context: Context) -> str | None:
        """The value the flag's own variants hash for ``context``, or None."""
        return None if self.variants is None else self.variants.sticky(context)

    def __repr__(self) -> str:
        return f"<CompiledFlag {self.key!r} schema={self.schema} enabled={self.enabled}>"


_LIST_TYPES = (list, tuple, type(None))
_BUCKETINGS = frozenset((None, *BUCKETING))


def _check_shape(definition: Mapping[str, Any]) -> None:
    """The types evaluation relies on, for definitions compiled without validation: a wrong one
    would raise inside every check (a text percentage) or mean something else ("prod" as
    environments: p, r, o, d). Other fields of a wrong type fail to compile, or fail closed."""
    get = definition.get
    percentage = get("percentage")
    if (
        (percentage is None or (type(percentage) is int and 0 <= percentage <= 100))
        and type(get("environments")) in _LIST_TYPES
        and type(get("rules")) in _LIST_TYPES
        and get("bucketing") in _BUCKETINGS
        and not isinstance(get("users"), (str, bytes, Mapping))
        and not isinstance(get("excluded_users"), (str, bytes, Mapping))
    ):
        return  # the usual case, kept to a few lookups: every process compiles all flags at start
    wrong = {
        "percentage": not (percentage is None or (type(percentage) is int and 0 <= percentage <= 100)),
        "environments": type(get("environments")) not in _LIST_TYPES,
        "rules": type(get("rules")) not in _LIST_TYPES,
        "bucketing": get("bucketing") not in _BUCKETINGS,
        "users": isinstance(get("users"), (str, bytes, Mapping)),
        "excluded_users": isinstance(get("excluded_users"), (str, bytes, Mapping)),
    }
    key = str(get("key"))
    raise InvalidDefinition(
        [
            DefinitionError(key, name, f"{get(name)!r} is not what this field holds.")
            for name, bad in wrong.items()
            if bad
        ]
    )
