"""What the social endpoints take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tastegraph.catalog.schemas import ItemBrief
from tastegraph.social.feed import FeedKind
from tastegraph.social.models import (
    GroupPrivacy,
    GroupRole,
    MembershipStatus,
    NotificationKind,
    ReportReason,
    ReportStatus,
    ShoutTarget,
)
from tastegraph.social.shouts import ModerationAction
from tastegraph.text import check_text

_strict = ConfigDict(extra="forbid")

GroupName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=100),
    AfterValidator(check_text),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(check_text)
]
TopicTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_text),
]

# -- in -----------------------------------------------------------------------------------------


class NameIn(BaseModel):
    model_config = _strict

    name: str = Field(max_length=64, description="A user name.")


class GroupIn(BaseModel):
    model_config = _strict

    name: GroupName
    description: Description | None = None
    privacy: GroupPrivacy = GroupPrivacy.PUBLIC
    item_id: int | None = Field(
        default=None, description="The item the group is about (a show, a team ...)."
    )


class GroupUpdate(BaseModel):
    model_config = _strict

    name: GroupName | None = None
    description: Description | None = None
    privacy: GroupPrivacy | None = None


class RoleIn(BaseModel):
    model_config = _strict

    role: GroupRole


class ShoutIn(BaseModel):
    model_config = _strict

    body: str = Field(max_length=10_000, description="Plain text, up to 1,000 characters.")
    parent_id: int | None = Field(default=None, description="The shout this replies to.")


class TopicIn(BaseModel):
    model_config = _strict

    title: TopicTitle
    body: str = Field(max_length=10_000, description="The first post.")


class ReportIn(BaseModel):
    model_config = _strict

    reason: ReportReason
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ResolveIn(BaseModel):
    model_config = _strict

    action: ModerationAction


class ReadIn(BaseModel):
    model_config = _strict

    ids: list[int] | None = Field(default=None, max_length=1000)
    up_to: int | None = Field(default=None, description="Every notification up to this id.")
    all: bool = False


# -- out ----------------------------------------------------------------------------------------


class UserRef(BaseModel):
    name: str
    display_name: str | None
    url: str


class PeopleOut(BaseModel):
    people: list[UserRef]


class FriendshipOut(BaseModel):
    user: UserRef
    status: Literal["pending", "accepted"]
    since: datetime


class FriendRequestOut(BaseModel):
    user: UserRef
    direction: Literal["incoming", "outgoing"]
    created_at: datetime


class FriendRequestsOut(BaseModel):
    requests: list[FriendRequestOut]


class RelationshipOut(BaseModel):
    user: UserRef
    friends: bool
    request: Literal["incoming", "outgoing"] | None
    following: bool
    followed_by: bool
    blocked: bool


class SuggestionOut(BaseModel):
    user: UserRef
    score: float
    mutual_friends: int
    mutual_names: list[str] = Field(description="Up to three friends you share.")
    shared_items: list[ItemBrief] = Field(description="Up to three of your top items they play.")
    similarity: float | None = Field(description="From the recommender, when one is running.")


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]


class MembershipOut(BaseModel):
    status: MembershipStatus
    role: GroupRole
    joined_at: datetime | None


class GroupBrief(BaseModel):
    slug: str
    name: str
    privacy: GroupPrivacy
    url: str


class GroupOut(GroupBrief):
    description: str | None
    item: ItemBrief | None
    members: int
    created_at: datetime
    membership: MembershipOut | None = Field(description="Yours, when signed in.")


class GroupPage(BaseModel):
    groups: list[GroupOut]
    next: str | None


class MemberOut(BaseModel):
    user: UserRef
    role: GroupRole
    status: MembershipStatus
    joined_at: datetime | None


class MembersOut(BaseModel):
    members: list[MemberOut]
    next: str | None


class EventOut(BaseModel):
    item: ItemBrief
    starts_at: datetime | None
    ends_at: datetime | None
    live: bool
    watching: int


class GroupEventsOut(BaseModel):
    live: list[EventOut]
    upcoming: list[EventOut]


class GroupPickOut(BaseModel):
    item: ItemBrief
    lovers: int = Field(description="Members who love it.")
    listeners: int = Field(description="Members who played it in the last 90 days.")
    score: float


class GroupPicksOut(BaseModel):
    recommendations: list[GroupPickOut]


class TargetOut(BaseModel):
    kind: ShoutTarget
    id: int
    url: str


class ShoutOut(BaseModel):
    id: int
    author: UserRef
    body: str = Field(description="The text as written: show it as plain text.")
    html: str = Field(
        description="The text as safe HTML: escaped, with http(s) addresses linked "
        '(rel="nofollow ugc noopener") and line breaks as <br>.'
    )
    mentions: list[str]
    created_at: datetime
    parent_id: int | None
    target: TargetOut
    reactions: dict[str, int]
    mine: list[str] = Field(description="Your reactions.")
    reply_count: int
    replies: list[ShoutOut]
    url: str


class ShoutPage(BaseModel):
    shouts: list[ShoutOut]
    next: str | None = Field(description="Older shouts.")
    latest: int = Field(description="Poll with since=latest for newer shouts.")


class TopicOut(BaseModel):
    id: int
    title: str
    author: UserRef | None
    created_at: datetime
    last_post_at: datetime
    posts: int
    url: str


class TopicPage(BaseModel):
    topics: list[TopicOut]
    next: str | None


class TopicDetail(BaseModel):
    topic: TopicOut
    group: GroupBrief
    posts: ShoutPage


class AudienceCount(BaseModel):
    country: str | None
    watching: int


class WatchingFriend(BaseModel):
    user: UserRef
    since: datetime
    progress: float | None


class LiveRoomOut(BaseModel):
    item: ItemBrief
    event: EventOut
    watching: int
    countries: list[AudienceCount]
    friends: list[WatchingFriend] | None = Field(description="Signed-in callers only.")
    shouts: list[ShoutOut] = Field(description="The newest shouts, oldest first.")
    latest: int = Field(description="Poll /items/{id}/shouts?since=latest for newer shouts.")


class ReportOut(BaseModel):
    id: int
    reason: ReportReason
    note: str | None
    status: ReportStatus
    created_at: datetime
    resolved_at: datetime | None
    reporter: UserRef
    shout_id: int
    shout_author: UserRef
    shout_body: str
    shout_html: str
    shout_deleted: bool
    target: TargetOut


class ReportsOut(BaseModel):
    reports: list[ReportOut]
    next: str | None


class FeedEventOut(BaseModel):
    kind: FeedKind
    at: datetime
    user: UserRef
    summary: str = Field(description="'watched 3 episodes of Borgen' (after the user's name).")
    subject: ItemBrief | None
    items: list[ItemBrief]
    count: int
    first_at: datetime | None
    group: GroupBrief | None
    shout: ShoutOut | None
    milestone: int | None


class FeedOut(BaseModel):
    events: list[FeedEventOut]
    next: str | None


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    created_at: datetime
    read: bool
    actor: UserRef | None
    text: str
    shout_id: int | None
    excerpt: str | None
    target: TargetOut | None
    group: GroupBrief | None


class NotificationsOut(BaseModel):
    notifications: list[NotificationOut]
    unread: int
    next: str | None


class UnreadOut(BaseModel):
    unread: int
