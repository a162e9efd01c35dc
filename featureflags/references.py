"""Where flag keys are named in a project's code and templates.

Used by the system check ``featureflags.W001`` (flags used but not defined) and by
``manage.py flags references``. It reads files only: nothing is imported or run.

    from featureflags.references import find_references
    for ref in find_references(["myapp", "templates"]):
        print(ref.path, ref.line, ref.key, ref.kind)
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

# Public API functions whose first argument (or ``key=``) is a flag key.
PYTHON_CALLS = frozenset(
    {
        "is_enabled",
        "variant",
        "evaluate",
        "explain",
        "flag_required",
        "variant_view",
        "check",
        "choose",
        "override_flag",
        "flagged_path",
        "report_error",  # guardrails
        "monitor",
    }
)
# Names distinctive enough to count as the API when called as a method of any object
# (``rollout.is_enabled("cdc_on", user)``); the others count only when imported from featureflags.
UNAMBIGUOUS_CALLS = frozenset({"is_enabled", "flag_required", "variant_view", "override_flag", "flagged_path"})
# Class attributes naming a flag (FlagRequiredMixin).
CLASS_ATTRIBUTES = frozenset({"flag_key"})
# ``request.flags.<name>`` attributes that are methods, not flag keys.
FLAGS_METHODS = frozenset({"variant", "get", "evaluate", "context", "items", "keys"})
TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".xml", ".jinja", ".jinja2", ".j2", ".svg", ".js")
SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", ".tox", "node_modules", "__pycache__", "migrations", "site-packages"}
)

_DJANGO_TAG = re.compile(r"""\{%-?\s*(if_feature|variant|feature_flags_json)\s+((?:["'][^"']+["']\s*)+)""")
_JINJA_CALL = re.compile(r"""\b(is_enabled|variant)\(\s*["']([^"']+)["']""")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


class Reference(NamedTuple):
    """A flag key named at ``path:line``; ``kind`` is how (``is_enabled``, ``if_feature``, ``request.flags``...)."""

    key: str
    path: str
    line: int
    kind: str


def find_references(paths: Iterable[str | os.PathLike]) -> list[Reference]:
    """Every flag key named in the Python files and templates under ``paths``, sorted by place.

    >>> find_references(["templates"])
    [Reference(key='new_ui', path='templates/home.html', line=3, kind='if_feature')]
    """
    found: list[Reference] = []
    for file in _files(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if file.suffix == ".py":
            found.extend(python_references(text, str(file)))
        else:
            found.extend(template_references(text, str(file)))
    return sorted(found, key=lambda r: (r.path, r.line, r.key))


def template_references(text: str, path: str = "<template>") -> list[Reference]:
    """Keys named by ``{% if_feature %}``, ``{% variant %}``, ``{% feature_flags_json %}`` and Jinja2 calls."""
    found = []
    for match in _DJANGO_TAG.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        keys = _QUOTED.findall(match.group(2))
        if match.group(1) != "feature_flags_json":
            keys = keys[:1]
        found.extend(Reference(key, path, line, match.group(1)) for key in keys)
    for match in _JINJA_CALL.finditer(text):
        found.append(Reference(match.group(2), path, text.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def python_references(text: str, path: str = "<python>") -> list[Reference]:
    """Keys passed as literals to the public API, decorators, test kit and ``request.flags``."""
    if "featureflags" not in text and "flags" not in text:
        return []  # the common case: a module that never touches flags
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError):
        return []
    uses_api = "featureflags" in text
    functions, modules = _featureflags_imports(tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and uses_api:
            name = _api_name(node.func, functions, modules)
            if name is not None:
                key = _key_argument(node)
                if key is not None:
                    found.append(Reference(key, path, node.lineno, name))
        elif isinstance(node, ast.Subscript) and _is_request_flags(node.value):
            key = _literal(node.slice)
            if key is not None:
                found.append(Reference(key, path, node.lineno, "request.flags"))
        elif isinstance(node, ast.Attribute) and _is_request_flags(node.value) and id(node) not in called:
            if node.attr not in FLAGS_METHODS and not node.attr.startswith("_"):
                found.append(Reference(node.attr, path, node.lineno, "request.flags"))
        elif isinstance(node, ast.ClassDef) and uses_api:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in CLASS_ATTRIBUTES for t in statement.targets
                ):
                    key = _literal(statement.value)
                    if key is not None:
                        found.append(Reference(key, path, statement.lineno, "FlagRequiredMixin"))
    return found


def _files(paths: Iterable[str | os.PathLike]) -> Iterable[Path]:
    for root in paths:
        root = Path(root)
        if root.is_file():
            yield root
            continue
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
            for filename in filenames:
                if filename.endswith(".py") or filename.endswith(TEMPLATE_SUFFIXES):
                    yield Path(directory) / filename


def _featureflags_imports(tree: ast.AST) -> tuple[dict[str, str], set[str]]:
    """Local names bound to featureflags functions (local -> real name), and to featureflags modules."""
    functions: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "featureflags":
            for alias in node.names:
                if alias.name in PYTHON_CALLS:
                    functions[alias.asname or alias.name] = alias.name
                else:
                    modules.add(alias.asname or alias.name)  # a submodule (from featureflags import testing)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "featureflags":
                    modules.add(alias.asname or alias.name.split(".")[0])
    return functions, modules


def _api_name(func: ast.expr, functions: dict[str, str], modules: set[str]) -> str | None:
    """The API function a call names, or None when it is some other function."""
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    if isinstance(func, ast.Attribute) and func.attr in PYTHON_CALLS:
        base = func.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and base.id in modules:
            return func.attr  # featureflags.is_enabled(...), ff.decorators.check(...)
        if func.attr in UNAMBIGUOUS_CALLS:
            return func.attr  # rollout.is_enabled(...), a wrapper's method
    return None


def _key_argument(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg in ("key", "flag", "name"):
            return _literal(keyword.value)
    return _literal(call.args[0]) if call.args else None


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_request_flags(node: ast.expr) -> bool:
    """``request.flags`` or ``<something>.request.flags`` (a class-based view's ``self.request``)."""
    if not (isinstance(node, ast.Attribute) and node.attr == "flags"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "request") or (
        isinstance(owner, ast.Attribute) and owner.attr == "request"
    )
