"""Feature flags for Django: evaluated in memory, mirrored through Redis.

import featureflags

if featureflags.is_enabled("new_ui", request):
    ...
featureflags.variant("checkout", request.user)
featureflags.value("checkout_layout", request, default="single_page")
featureflags.explain("new_ui", 42, region="US").steps
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Context", "Decision", "Reason", "evaluate", "explain", "is_enabled", "monitor", "report_error", "variant"]
__all__ += ["value"]  # typed values (spec/evaluation.md, version 2)
__all__ += ["feedback", "track"]  # featureflags.experiments
__all__ += ["warm_up"]  # featureflags.warmup
__all__ += ["status"]  # featureflags.store.runtime: propagation, for monitors (see docs/propagation.md)
__all__ += ["secure_hash"]  # featureflags.secure_mode

_LAZY = {
    "is_enabled": "featureflags.decisions",
    "variant": "featureflags.decisions",
    "value": "featureflags.decisions",
    "evaluate": "featureflags.decisions",
    "explain": "featureflags.decisions",
    "Context": "featureflags.engine",
    "Decision": "featureflags.engine",
    "Reason": "featureflags.engine",
    "report_error": "featureflags.guardrails",
    "monitor": "featureflags.guardrails",
    "track": "featureflags.experiments.goals",
    "feedback": "featureflags.experiments.feedback",
    "warm_up": "featureflags.warmup",
    "status": "featureflags.store.runtime",
    "secure_hash": "featureflags.secure_mode",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that importing the package does not import Django models before apps load.
    module_path = _LAZY.get(name)
    if module_path is None:
        raise AttributeError(f"module 'featureflags' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_path), name)
    globals()[name] = value
    return value
