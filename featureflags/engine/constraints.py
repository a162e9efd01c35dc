"""Attribute constraints with the operators and semantics of Unleash's strategy constraints."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import re2

from .context import Context
from .limits import MAX_ATTRIBUTE_LENGTH
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
# Unambiguous (each digit can be matched one way only), so a failed match is linear in the input.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Operators that parse the context's value: a value longer than MAX_ATTRIBUTE_LENGTH makes them false.
PARSING_OPERATORS = frozenset(NUMBER_OPERATORS + DATE_OPERATORS + SEMVER_OPERATORS + ("IN_CIDR",))

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


class _Parts:
    """One constraint ready to run: where its value is read, and a test that never raises."""

    __slots__ = (
        "absent_result",
        "allowed",
        "attribute",
        "case_insensitive",
        "inverted",
        "memo",
        "needles",
        "operator",
        "test",
    )

    def __init__(self, spec: Mapping[str, Any], strict: bool) -> None:
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
        test = _guarded(_value_test(operator, values, case_insensitive, strict))
        if operator in PARSING_OPERATORS:
            test = _capped(test)
        self.memo: dict[str, bool] | None = None
        if operator in MEMOISED_OPERATORS:
            self.memo = {}
            test = _memoised(test, self.memo)
        self.attribute: str = attribute
        self.operator: str = operator
        self.inverted = inverted
        self.absent_result = operator == "NOT_IN"
        # IN/NOT_IN on text: a set lookup the compiled code makes inline.
        self.allowed = frozenset(values) if operator in ("IN", "NOT_IN") else None
        # STR_* on text: str methods the compiled code calls inline.
        self.needles: tuple[str, ...] | None = None
        if operator in STRING_OPERATORS:
            self.needles = tuple(v.lower() for v in values) if case_insensitive else tuple(values)
        self.case_insensitive = case_insensitive
        self.test = test


def _compile(spec: Mapping[str, Any], strict: bool) -> Check:
    parts = _Parts(spec, strict)
    attribute, test, inverted, absent_result = parts.attribute, parts.test, parts.inverted, parts.absent_result
    if attribute in CONTEXT_FIELDS:

        def read(context: Context) -> Any:
            return getattr(context, attribute)

    else:

        def read(context: Context) -> Any:
            return context.attributes.get(attribute)

    def check(context: Context) -> bool:
        value = read(context)
        return (absent_result if value is None else test(value)) != inverted

    return check


def compile_conjunction(specs: Sequence[Mapping[str, Any]], strict: bool = True) -> Check | None:
    """One function ``context -> bool`` that holds when every constraint of ``specs`` holds; None for none.

    The constraints are compiled into the source of a single function (each value read once,
    ``IN`` as an inline set lookup), so ten constraints cost about what one call costs. With
    ``strict=False`` a constraint that cannot be compiled is false, as :func:`compile_constraint`.
    """
    if not specs:
        return None
    namespace: dict[str, Any] = {}
    terms = []
    for index, spec in enumerate(specs):
        try:
            parts = _Parts(spec, strict)
        except ConstraintError:
            if strict:
                raise
            return _never
        terms.append(_term(index, parts, namespace))
    source = "def conjunction(c):\n    a = c.attributes\n    return " + " and ".join(terms) + "\n"
    # Our own source: attribute names and values are bound as data in namespace, never spliced in.
    exec(compile(source, "<constraints>", "exec"), namespace)
    return namespace["conjunction"]


def _term(index: int, parts: _Parts, namespace: dict[str, Any]) -> str:
    """The expression of one constraint; data goes into ``namespace``, never into the source."""
    namespace[f"N{index}"] = parts.attribute
    namespace[f"T{index}"] = parts.test
    read = f"c.{parts.attribute}" if parts.attribute in CONTEXT_FIELDS else f"a.get(N{index})"
    value = f"(v := {read})"
    # Text, the usual case, is tested inline; anything else (lists, numbers) through the test.
    test = f"T{index}(v)"
    if parts.allowed is not None:
        namespace[f"S{index}"] = parts.allowed
        membership = "in" if parts.operator == "IN" else "not in"
        test = f"(v {membership} S{index} if type(v) is str else T{index}(v))"
    elif parts.needles is not None and parts.needles:
        namespace[f"X{index}"] = parts.needles
        text = "v.lower()" if parts.case_insensitive else "v"
        if parts.operator == "STR_STARTS_WITH":
            inline = f"{text}.startswith(X{index})"
        elif parts.operator == "STR_ENDS_WITH":
            inline = f"{text}.endswith(X{index})"
        elif len(parts.needles) == 1:
            inline = f"X{index}[0] in {text}"
        else:
            inline = f"any(n in {text} for n in X{index})"
        test = f"({inline} if type(v) is str else T{index}(v))"
    elif parts.memo is not None:
        namespace[f"M{index}"] = parts.memo
        test = f"(r if type(v) is str and (r := M{index}.get(v)) is not None else T{index}(v))"
    holds_when_absent = parts.absent_result != parts.inverted
    tested = f"not {test}" if parts.inverted else test
    if holds_when_absent:
        return f"({value} is None or {tested})"
    return f"({value} is not None and {tested})"


def _guarded(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``test`` that answers False where it would raise (a value that does not parse)."""

    def guarded(value: Any) -> bool:
        try:
            return test(value)
        except (ValueError, TypeError, OverflowError):
            return False

    return guarded


def _capped(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``test``, false for text longer than any number, date, version or address: parsing stays bounded."""

    def capped(value: Any) -> bool:
        if type(value) is str and len(value) > MAX_ATTRIBUTE_LENGTH:
            return False
        return test(value)

    return capped


def _memoised(test: Callable[[Any], bool], results: dict[str, bool]) -> Callable[[Any], bool]:
    """Remember the last results for text values: parsing a version or a date each check costs more."""

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
        # As Unleash: an entry that is no address or range is ignored, on write as at evaluation.
        networks = _valid_entries(values, _parse_network, strict=False)

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
