"""What the community pages share: shouts as the templates show them (safe HTML, reactions,
what the viewer may do with each), the page address of a shout's place, posting a shout
from a form, and the labels of reactions, report reasons, roles and privacies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.runtime import Services
from tastegraph.social.errors import InvalidShout, ShoutRateLimited, TooManyLinks
from tastegraph.social.events import EVENT_KINDS
from tastegraph.social.models import (
    Group,
    GroupPrivacy,
    GroupRole,
    ReportReason,
    Shout,
    ShoutTarget,
    Topic,
)
from tastegraph.social.rendering import render_html
from tastegraph.social.shouts import Place, Reaction, ShoutView
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageError

REACTIONS: tuple[tuple[Reaction, str, str], ...] = (
    (Reaction.LIKE, "👍", N_("Like")),
    (Reaction.LOVE, "❤️", N_("Love")),
    (Reaction.LAUGH, "😂", N_("Laugh")),
    (Reaction.WOW, "😮", N_("Wow")),
    (Reaction.SAD, "😢", N_("Sad")),
    (Reaction.FIRE, "🔥", N_("Fire")),
    (Reaction.CLAP, "👏", N_("Clap")),
    (Reaction.GOAL, "⚽", N_("Goal")),
)
REPORT_REASONS: tuple[tuple[ReportReason, str], ...] = (
    (ReportReason.SPAM, N_("Spam")),
    (ReportReason.ABUSE, N_("Abuse")),
    (ReportReason.HARASSMENT, N_("Harassment")),
    (ReportReason.HATE, N_("Hate")),
    (ReportReason.OTHER, N_("Something else")),
)
ROLES: dict[GroupRole, str] = {
    GroupRole.OWNER: N_("Owner"),
    GroupRole.MODERATOR: N_("Moderator"),
    GroupRole.MEMBER: N_("Member"),
}
PRIVACIES: dict[GroupPrivacy, tuple[str, str]] = {
    GroupPrivacy.PUBLIC: (
        N_("Public"),
        N_("Everyone sees the group and its talk; anyone may join."),
    ),
    GroupPrivacy.PRIVATE: (
        N_("Private"),
        N_(
            "Everyone sees its name and description; members, talk and charts are for members. "
            "Joining is a request that an owner or moderator approves."
        ),
    ),
    GroupPrivacy.INVITE_ONLY: (
        N_("Invite only"),
        N_("Hidden from everyone but members and invited people; joining by invitation only."),
    ),
}


@dataclass(frozen=True)
class ReactionCount:
    code: str
    emoji: str
    label: str
    count: int
    mine: bool


@dataclass
class ShoutCard:
    """One shout as a page shows it."""

    id: int
    author: User
    html: Markup
    """The text escaped by ``social.rendering`` (only http(s) links), never raw."""
    created_at: datetime
    reactions: list[ReactionCount]
    can_delete: bool
    can_report: bool
    is_reply: bool
    replies: list[ShoutCard] = field(default_factory=list)
    reply_count: int = 0

    @property
    def shown_reactions(self) -> list[ReactionCount]:
        """Reactions someone gave: shown outright; the others wait behind "React"."""
        return [r for r in self.reactions if r.count or r.mine]

    @property
    def other_reactions(self) -> list[ReactionCount]:
        return [r for r in self.reactions if not (r.count or r.mine)]


def shout_cards(
    svc: Services, viewer: User | None, place: Place, views: Sequence[ShoutView]
) -> list[ShoutCard]:
    """``views`` (with their replies) as cards: what the viewer may do is decided here, by
    the shout service's own rules."""

    def card(view: ShoutView) -> ShoutCard:
        shout = view.shout
        return ShoutCard(
            id=shout.id,
            author=view.author,
            html=Markup(render_html(shout.body)),  # noqa: S704 - escaped by render_html
            created_at=shout.created_at,
            reactions=[
                ReactionCount(
                    code=code.value,
                    emoji=emoji,
                    label=label,
                    count=view.reactions.get(code.value, 0),
                    mine=code.value in view.mine,
                )
                for code, emoji, label in REACTIONS
            ],
            can_delete=viewer is not None and svc.shouts.can_delete(viewer, shout, place),
            can_report=viewer is not None and view.author.id != viewer.id,
            is_reply=shout.parent_id is not None,
            replies=[card(reply) for reply in view.replies],
            reply_count=view.reply_count,
        )

    return [card(view) for view in views]


def shout_urls(svc: Services, shouts: Iterable[Shout]) -> dict[int, str]:
    """The page of each shout, with its anchor (a query per kind of place at most)."""
    wanted: dict[ShoutTarget, set[int]] = {}
    listed = list(shouts)
    for shout in listed:
        wanted.setdefault(shout.target_kind, set()).add(shout.target_id)
    pages: dict[tuple[ShoutTarget, int], str] = {}
    for kind, ids in wanted.items():
        if kind is ShoutTarget.USER:
            for user_id, name in svc.session.execute(
                select(User.id, User.name).where(User.id.in_(ids))
            ):
                pages[(kind, user_id)] = f"/user/{name}/shouts"
        elif kind is ShoutTarget.GROUP:
            for group_id, slug in svc.session.execute(
                select(Group.id, Group.slug).where(Group.id.in_(ids))
            ):
                pages[(kind, group_id)] = f"/groups/{slug}"
        elif kind is ShoutTarget.TOPIC:
            for topic_id, slug in svc.session.execute(
                select(Topic.id, Group.slug)
                .join(Group, Group.id == Topic.group_id)
                .where(Topic.id.in_(ids))
            ):
                pages[(kind, topic_id)] = f"/groups/{slug}/topics/{topic_id}"
        else:
            # An event's shouts are its live room; any other item's are on its page.
            for item_id, item_kind in svc.session.execute(
                select(Item.id, Item.kind).where(Item.id.in_(ids))
            ):
                room = item_kind in EVENT_KINDS
                pages[(kind, item_id)] = f"/live/{item_id}" if room else f"/items/{item_id}"
    out = {}
    for shout in listed:
        base = pages.get((shout.target_kind, shout.target_id))
        if base is not None:
            out[shout.id] = f"{base}#shout-{shout.parent_id or shout.id}"
    return out


def post_shout(
    page: Page,
    svc: Services,
    user: User,
    kind: ShoutTarget,
    target_id: int,
    body: str,
    parent_id: int | None,
) -> Shout:
    """Post from a form; the shout service's refusals become messages in the page's language."""
    place = svc.shouts.open_for_posting(user, kind, target_id)
    try:
        return svc.shouts.post(user, place, body, parent_id=parent_id)
    except TooManyLinks as exc:
        raise PageError(
            422,
            page.gettext(
                "A shout may carry at most %(max)s links.", max=exc.extra.get("max_links", 2)
            ),
        ) from None
    except ShoutRateLimited:
        raise PageError(
            429, page.gettext("You have shouted a lot in a short while. Wait a minute.")
        ) from None
    except InvalidShout:
        raise PageError(
            422,
            page.gettext("A shout needs some text, at most 1,000 characters."),
        ) from None


def parent_of(value: str) -> int | None:
    """The ``parent_id`` field of a reply form ("" for a new thread)."""
    return int(value) if value.strip().isdigit() else None
