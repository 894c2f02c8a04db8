"""Role checks for views. Object-level checks live as can_* helpers on the models of each feature."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from ..enums import Role
from ..extensions import login_manager


def roles_required(*roles: Role):
    """Anonymous → the login page (with next); logged in without any of the roles → 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        wrapped.required_roles = roles  # read by the route access-matrix test
        return wrapped
    return decorator


founder_required = roles_required(Role.FOUNDER)
judge_required = roles_required(Role.JUDGE)
manager_required = roles_required(Role.MANAGER)
