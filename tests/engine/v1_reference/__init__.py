"""The version-1 evaluator as it was before version 2 (our own code, kept as the reference).

tests/engine/test_migration.py holds the version-2 engine to it: every random version-1 flag,
migrated by featureflags/engine/v1.py, decides as this evaluator does (reasons mapped as the
spec says). It shares the engine's leaf modules (constraints, hashing, id sets, RE2 rules);
``flag``, ``snapshot`` and ``by_id`` are the version-1 ones, unchanged but for their imports.
"""

from .flag import CompiledFlag
from .snapshot import Snapshot

__all__ = ["CompiledFlag", "Snapshot"]
