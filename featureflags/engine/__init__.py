"""The flag engine: pure Python, no Django. Compile definitions into a
:class:`Snapshot`, then ``snapshot.evaluate(key, context)``."""

from .context import Context
from .decision import Decision, Explanation, Step
from .definition import DefinitionError, InvalidDefinition, validate_definition, validate_definitions
from .flag import CompiledFlag
from .reasons import Reason
from .snapshot import Snapshot

__all__ = [
    "CompiledFlag",
    "Context",
    "Decision",
    "DefinitionError",
    "Explanation",
    "InvalidDefinition",
    "Reason",
    "Snapshot",
    "Step",
    "validate_definition",
    "validate_definitions",
]
