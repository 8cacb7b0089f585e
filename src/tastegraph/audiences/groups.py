"""Group membership rules, over the social area's groups.

Only *public* groups may be targeted: who belongs to a private or invite-only group is visible to
its members only, so selling it would reveal it. Groups whose name, description or item carry a
special category (a faith community, a patients' group) are refused like sensitive tags.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.audiences.rules import GroupRule
from tastegraph.audiences.sensitive import is_sensitive_tag
from tastegraph.catalog.models import ItemTag, Tag
from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus


def group_condition(rule: GroupRule) -> ColumnElement[bool]:
    """Members (not invitees or applicants) of any of the rule's public groups."""
    return User.id.in_(
        select(GroupMember.user_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(
            GroupMember.group_id.in_(rule.groups),
            GroupMember.status == MembershipStatus.MEMBER,
            Group.privacy == GroupPrivacy.PUBLIC,
        )
    )


def group_problems(session: Session, rule: GroupRule, path: str) -> list[dict[str, str]]:
    rows = {
        group.id: group for group in session.scalars(select(Group).where(Group.id.in_(rule.groups)))
    }
    problems = []
    for index, group_id in enumerate(rule.groups):
        where = f"{path}.groups[{index}]"
        group = rows.get(group_id)
        if group is None:
            problems.append(
                {"path": where, "code": "group_not_found", "message": f"no group {group_id}"}
            )
        elif group.privacy != GroupPrivacy.PUBLIC:
            problems.append(
                {
                    "path": where,
                    "code": "group_not_public",
                    "message": f"group {group_id} is not public; its members cannot be targeted",
                }
            )
        elif _sensitive_group(session, group):
            problems.append(
                {
                    "path": where,
                    "code": "sensitive_category",
                    "message": f"group {group_id} is about a special category and can never be "
                    "used for targeting",
                }
            )
    return problems


def _sensitive_group(session: Session, group: Group) -> bool:
    words = f"{group.name} {group.description or ''}".replace(",", " ").split()
    if is_sensitive_tag(group.name) or any(is_sensitive_tag(w) for w in words):
        return True
    if group.item_id is None:
        return False
    keys = session.scalars(
        select(Tag.key)
        .join(ItemTag, ItemTag.tag_id == Tag.id)
        .where(ItemTag.item_id == group.item_id)
    )
    return any(is_sensitive_tag(k) for k in keys)
