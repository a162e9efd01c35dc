"""Who may do what to flags: the one table every surface asks (dashboard, session API, admin).

A person is allowed an action when they are active staff (superusers included) and hold one
of the Django permissions listed for it. API tokens are judged by scope instead
(``featureflags.api.permissions``): ``write`` may do every action here, ``read`` only
``view``, ``evaluate`` none. The command line runs as the operator of the server: no check.

========  =====================================  ==========================================
action    needs one of                           what it is
========  =====================================  ==========================================
view      view_flag, change_flag                 see flags, lists, history, the audit log
change    change_flag                            edit a flag, its lists, switch it on
create    add_flag                               create a flag
delete    delete_flag                            archive a flag (deleting is archiving)
restore   delete_flag                            bring an archived flag back
purge     delete_flag                            remove an archived flag and its lists for good
kill      kill_flag, change_flag                 the kill switch (off for everyone)
========  =====================================  ==========================================
"""

from __future__ import annotations

from typing import Any

VIEW = "featureflags.view_flag"
CHANGE = "featureflags.change_flag"
ADD = "featureflags.add_flag"
DELETE = "featureflags.delete_flag"
KILL = "featureflags.kill_flag"

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "view": (VIEW, CHANGE),
    "change": (CHANGE,),
    "create": (ADD,),
    "delete": (DELETE,),
    "restore": (DELETE,),
    "purge": (DELETE,),
    "kill": (KILL, CHANGE),
}
ACTIONS = tuple(PERMISSIONS)


def is_operator(user: Any) -> bool:
    """Signed in, active and staff: the only people any action is open to."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
    )


def allowed(user: Any, action: str) -> bool:
    """May ``user`` (a Django user) do ``action`` (one of :data:`ACTIONS`) to flags?

    >>> allowed(request.user, "kill")
    """
    if action not in PERMISSIONS:
        raise ValueError(f"Unknown action {action!r}; one of {', '.join(ACTIONS)}.")
    if not is_operator(user):
        return False
    return any(user.has_perm(perm) for perm in PERMISSIONS[action])


def allowed_actions(user: Any) -> dict[str, bool]:
    """``{"can_view": ..., "can_change": ..., ...}`` for templates."""
    return {f"can_{'add' if action == 'create' else action}": allowed(user, action) for action in ACTIONS}
