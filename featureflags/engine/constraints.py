"""Attribute constraints with the operators and semantics of Unleash's strategy constraints."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import re2

from .context import Context
from .semver import parse_semver

Check = Callable[[Context], bool]

STRING_OPERATORS = ("STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH")
NUMBER_OPERATORS = ("NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE")
DATE_OPERATORS = ("DATE_AFTER", "DATE_BEFORE")
SEMVER_OPERATORS = ("SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE")
OPERATORS = frozenset(
    ("IN", "NOT_IN", "REGEX", "IN_CIDR") + STRING_OPERATORS + NUMBER_OPERATORS + DATE_OPERATORS + SEMVER_OPERATORS
)
# Operators whose test parses the value: their results are remembered per value.
MEMOISED_OPERATORS = frozenset(NUMBER_OPERATORS + DATE_OPERATORS + SEMVER_OPERATORS + ("REGEX", "IN_CIDR"))
MEMO_SIZE = 256
# Names a constraint may use for the context's own fields rather than an attribute.
CONTEXT_FIELDS = frozenset(("user_id", "anonymous_id", "environment"))
# Operators that compare against one value (the first of ``values``).
SINGLE_VALUE_OPERATORS = frozenset(NUMBER_OPERATORS + DATE_OPERATORS + SEMVER_OPERATORS)
# A decimal number as people write one; float() alone would also take "1_000", "nan" and "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

_COMPARE = {
    "EQ": lambda a, b: a == b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
    "AFTER": lambda a, b: a > b,
    "BEFORE": lambda a, b: a < b,
}


class ConstraintError(ValueError):
    """A constraint that cannot be compiled; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def as_text(value: Any) -> str:
    """Context values compare as strings; booleans as ``true``/``false``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if isinstance(value, str) else str(value)


def compile_constraint(spec: Mapping[str, Any], strict: bool = True) -> Check:
    """A function ``context -> bool`` for one constraint definition.

    ``spec`` has ``attribute``, ``operator``, ``values`` and optionally
    ``inverted`` and ``case_insensitive``. Raises :class:`ConstraintError`;
    with ``strict=False`` (definitions validated when written) it never raises:
    invalid ``IN_CIDR`` and ``REGEX`` entries are ignored, as Unleash does, and a
    constraint that still cannot be compiled (an unknown operator...) is false,
    whatever ``inverted`` says.

    >>> check = compile_constraint({"attribute": "region", "operator": "IN", "values": ["US"]})
    >>> check(Context(attributes={"region": "US"})), check(Context())
    (True, False)
    """
    try:
        return _compile(spec, strict)
    except ConstraintError:
        if strict:
            raise
        return _never


def _never(context: Context) -> bool:
    return False


def _compile(spec: Mapping[str, Any], strict: bool) -> Check:
    attribute = spec.get("attribute")
    if not isinstance(attribute, str) or not attribute:
        raise ConstraintError("attribute", "A constraint needs the name of an attribute.")
    operator = spec.get("operator")
    if operator not in OPERATORS:
        raise ConstraintError("operator", f"Unknown constraint operator {operator!r}.")
    values = spec.get("values") or []
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ConstraintError("values", "Constraint values must be a list.")
    values = [as_text(v) for v in values]
    inverted = bool(spec.get("inverted", False))
    # Unleash: "IN and NOT_IN are always case-sensitive"; the flag only applies to the other text operators.
    case_insensitive = bool(spec.get("case_insensitive", False)) and operator not in ("IN", "NOT_IN")
    test = _value_test(operator, values, case_insensitive, strict)
    absent_result = operator == "NOT_IN"
    if attribute in CONTEXT_FIELDS:

        def read(context: Context) -> Any:
            return getattr(context, attribute)

    else:

        def read(context: Context) -> Any:
            return context.attributes.get(attribute)

    if operator == "IN" and not case_insensitive and not inverted:
        allowed = frozenset(values)

        def check_in(context: Context) -> bool:
            value = read(context)
            if type(value) is str:  # the common case, kept to one set lookup
                return value in allowed
            return value is not None and _safe(test, value)

        return check_in

    if operator in MEMOISED_OPERATORS:
        test = _memoised(test)

    def check(context: Context) -> bool:
        value = read(context)
        if value is None:
            result = absent_result
        else:
            try:
                result = test(value)
            except (ValueError, TypeError, OverflowError):
                result = False
        return result != inverted

    return check


def _memoised(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Remember the last results for text values: parsing a version or a date each check costs more."""
    results: dict[str, bool] = {}

    def cached(value: Any) -> bool:
        if type(value) is not str:
            return test(value)
        result = results.get(value)
        if result is None:
            if len(results) >= MEMO_SIZE:
                results.clear()
            result = results[value] = test(value)
        return result

    return cached


def _safe(test: Callable[[Any], bool], value: Any) -> bool:
    try:
        return test(value)
    except (ValueError, TypeError, OverflowError):
        return False


def _value_test(operator: str, values: list[str], case_insensitive: bool, strict: bool) -> Callable[[Any], bool]:
    if operator in ("IN", "NOT_IN"):
        allowed = frozenset(values)

        def is_in(value: Any) -> bool:
            if isinstance(value, (list, tuple, set, frozenset)):
                return any(is_in(item) for item in value)
            return as_text(value) in allowed

        return is_in if operator == "IN" else (lambda value: not is_in(value))

    if operator in STRING_OPERATORS:
        needles = [v.lower() for v in values] if case_insensitive else values
        method = {"STR_CONTAINS": str.__contains__, "STR_STARTS_WITH": str.startswith, "STR_ENDS_WITH": str.endswith}[
            operator
        ]

        def string_test(value: Any) -> bool:
            text = as_text(value)
            if case_insensitive:
                text = text.lower()
            return any(method(text, needle) for needle in needles)

        return string_test

    if operator == "REGEX":
        patterns = _valid_entries(values, lambda v: _compile_regex(v, case_insensitive), strict)
        return lambda value: any(p.search(as_text(value)) is not None for p in patterns)

    if operator == "IN_CIDR":
        networks = _valid_entries(values, _parse_network, strict)

        def in_cidr(value: Any) -> bool:
            address = ipaddress.ip_address(as_text(value).strip())
            # A dual-stack server sees IPv4 clients as ::ffff:a.b.c.d: match them against IPv4 ranges too.
            mapped = getattr(address, "ipv4_mapped", None)
            return any(address in network or (mapped is not None and mapped in network) for network in networks)

        return in_cidr

    if not values:
        raise ConstraintError("values", f"The operator {operator} needs a value to compare with.")
    compare = _COMPARE[operator.split("_", 1)[1]]

    if operator in NUMBER_OPERATORS:
        target = _parse_number(values[0])
        return lambda value: compare(_number(value), target)

    if operator in DATE_OPERATORS:
        target_date = parse_date(values[0])
        if target_date is None:
            raise ConstraintError("values", f"{values[0]!r} is not an ISO 8601 date.")
        return lambda value: _date_test(value, target_date, compare)

    target_version = parse_semver(values[0])
    if target_version is None:
        raise ConstraintError("values", f"{values[0]!r} is not a SemVer 2.0.0 version.")

    def semver_test(value: Any) -> bool:
        version = parse_semver(as_text(value))
        return version is not None and compare(version, target_version)

    return semver_test


def _compile_regex(pattern: str, case_insensitive: bool):
    try:
        return re2.compile(("(?i)" if case_insensitive else "") + pattern)
    except re2.error as exc:
        raise ConstraintError("values", f"{pattern!r} is not a valid RE2 regular expression: {_message(exc)}") from exc


def _valid_entries(values: list[str], parse: Callable[[str], Any], strict: bool) -> list[Any]:
    """Every value parsed; leniently, the ones that do not parse are left out."""
    if strict:
        return [parse(v) for v in values]
    parsed = []
    for value in values:
        try:
            parsed.append(parse(value))
        except ConstraintError:
            continue
    return parsed


def _parse_network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise ConstraintError("values", f"{text!r} is not an IP address or CIDR range.") from exc


def _parse_number(text: str) -> float:
    try:
        return _number(text)
    except (ValueError, TypeError, OverflowError):
        raise ConstraintError("values", f"{text!r} is not a number.") from None


def _number(value: Any) -> float:
    """A finite float; ValueError for text that is not a decimal number, TypeError for a boolean."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = as_text(value).strip()
        if _NUMBER.fullmatch(text) is None:
            raise ValueError(f"{text!r} is not a number")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def parse_date(value: Any) -> datetime | None:
    """An aware datetime from a datetime, an ISO 8601 string or epoch seconds."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    else:
        text = as_text(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _date_test(value: Any, target: datetime, compare) -> bool:
    parsed = parse_date(value)
    return parsed is not None and compare(parsed, target)


def _message(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
