"""Finding people by name: the exact name first, then names starting with the words, then
names and display names containing them. Who may be shown is the social area's call
(``SocialService.visible_among``), made by the caller."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.accounts.services import name_key


def search_users(session: Session, query: str, *, limit: int = 20) -> list[User]:
    key = name_key(query.strip())
    if not key:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stages = (
        User.name_key == key,
        User.name_key.like(f"{escaped}%", escape="\\"),
        or_(
            User.name_key.like(f"%{escaped}%", escape="\\"),
            func.lower(User.display_name).like(f"%{escaped}%", escape="\\"),
        ),
    )
    found: list[User] = []
    seen: set[int] = set()
    for condition in stages:
        if len(found) >= limit:
            break
        rows = session.scalars(
            select(User)
            .where(condition)
            .order_by(func.length(User.name_key), User.name_key)
            .limit(limit + len(seen))
        )
        for user in rows:
            if user.id not in seen and len(found) < limit:
                seen.add(user.id)
                found.append(user)
    return found
