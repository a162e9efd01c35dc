"""The flag engine: pure Python, no Django. Compile definitions (version 2, engine/schema.py,
or version 1, converted by engine/v1.py) and segments into a :class:`Snapshot` for the
deployment's environment, then ``snapshot.evaluate(key, context)``."""

from .context import Context
from .decision import Decision, Explanation, Step
from .definition import DefinitionError, InvalidDefinition, validate_definition, validate_definitions
from .flag import CompiledFlag
from .reasons import Reason
from .schema import is_v2, validate_flag, validate_flags, validate_segment
from .snapshot import Snapshot
from .targeting import CompiledSegment
from .v1 import to_v2

__all__ = [
    "CompiledFlag",
    "CompiledSegment",
    "Context",
    "Decision",
    "DefinitionError",
    "Explanation",
    "InvalidDefinition",
    "Reason",
    "Snapshot",
    "Step",
    "is_v2",
    "to_v2",
    "validate_definition",
    "validate_definitions",
    "validate_flag",
    "validate_flags",
    "validate_segment",
]
