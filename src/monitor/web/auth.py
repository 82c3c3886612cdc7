"""Roles of Airflow's logged-in user, for the pages that change data (analysts' corrections).

The user comes from Airflow's own `get_user` (the UI's session cookie or a bearer token, checked by the
api-server's auth manager), the same dependency that guards every page of the app. Its role is read
as the auth managers of Airflow 3 expose it: `SimpleAuthManagerUser.role` ("viewer", "user", "op",
"admin", as configured in `simple_auth_manager_users`), or the names of `user.roles` (the FAB auth
manager). Role names compare case-insensitively.
"""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status


def user_roles(user: Any) -> set[str]:
    """The lower-cased role names of an Airflow user (empty when it has none)."""
    role = getattr(user, "role", None)
    if isinstance(role, str) and role:
        return {role.lower()}
    names = set()
    for r in getattr(user, "roles", None) or ():
        name = r if isinstance(r, str) else getattr(r, "name", None)
        if name:
            names.add(str(name).lower())
    return names


def user_name(user: Any) -> str:
    """The name Airflow knows the user by (what corrections are recorded under)."""
    get_name = getattr(user, "get_name", None)
    return str(get_name() if callable(get_name) else user)


def holds(user: Any, roles: tuple[str, ...]) -> bool:
    """Whether `user` holds one of `roles`: a page shows its forms only to those who may send them
    (the handler checks again with `require_role`)."""
    return bool(user_roles(user) & {r.lower() for r in roles})


def require_role(*roles: str) -> Callable[..., Any]:
    """A FastAPI dependency that gives the logged-in user when they hold one of `roles`, and refuses
    with 403 and a message naming the roles otherwise (no user at all: Airflow's 401 first)."""
    allowed = {r.lower() for r in roles}

    def dependency(user: Annotated[Any, Depends(get_user)]) -> Any:
        held = user_roles(user)
        if not held & allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=(
                    f"user {user_name(user)!r} (role {', '.join(sorted(held)) or 'none'}) may not do this: "
                    f"it needs the role {' or '.join(roles)}"
                ),
            )
        return user

    return dependency


def same_origin(request: Request) -> None:
    """Refuse (403) a state-changing request that another site's page made a logged-in browser send:
    its Origin (or, without one, its Referer) must name the host the request was sent to. The
    session cookie alone proves nothing, since the browser sends it whoever made the page."""
    host = (request.headers.get("host") or "").lower()
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    if not claimed or claimed == "null":
        raise HTTPException(status_code=403, detail="refused: the request names no Origin or Referer")
    if urlsplit(claimed).netloc.lower() != host:
        raise HTTPException(
            status_code=403, detail=f"refused: a cross-site request (from {claimed!r} to {host!r})"
        )
