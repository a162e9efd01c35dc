"""Hypothesis strategies for hostile input, and the "nothing half-written" probe."""

from __future__ import annotations

from hypothesis import strategies as st

from featureflags.serialization import EDITABLE_FIELDS

# Strings that have broken parsers, templates, shells and databases before.
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "'; DROP TABLE featureflags_flag; --",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% debug %}",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "%s%s%s%n",
    "\u202eevil",
    "\ud7ff\ue000\uffff",
    "👩‍👩‍👧‍👦" * 10,
    "ß" * 300,
    "a" * 100_000,
    "(a+)+$",
    "[",
    "\\",
    "NaN",
    "-0",
    "1e309",
]

text = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=50))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(text, st.sampled_from(EDITABLE_FIELDS)), children, max_size=5),
    ),
    max_leaves=15,
)
field_names = st.one_of(st.sampled_from(EDITABLE_FIELDS), text)
flag_fields = st.dictionaries(field_names, json_values, max_size=6)
flag_keys = st.one_of(st.sampled_from(["ok_flag", "ok.flag-2", "x" * 100, "x" * 101]), text)
user_ids = st.one_of(text, st.integers(), st.none(), st.floats())


def database_state() -> tuple:
    """Everything a failed write could have half-written."""
    from featureflags.models import AuditEntry, Flag, FlagUser

    flags = tuple(Flag.objects.order_by("key").values_list("key", "version", "users_version"))
    return flags, AuditEntry.objects.count(), FlagUser.objects.count()
