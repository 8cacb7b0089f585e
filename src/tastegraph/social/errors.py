"""Social errors.

SocialError
├── AlreadyFriends              409
├── FriendRequestNotFound       404  no such request (or friendship) between the two
├── InvalidSocialAction         422  befriending, following or blocking oneself ...
├── GroupNotFound               404  no such group, or one the caller may not see
├── MembersOnly                 404  a private group's members, talk and charts
├── GroupNameTaken              409
├── AlreadyMember               409
├── InvitationNotFound          404
├── LastOwner                   409  the only owner cannot leave or step down
├── TopicNotFound               404
├── ShoutNotFound               404
├── InvalidShout                422  empty, too long, a parent elsewhere
│   └── TooManyLinks            422  more links than a shout may carry
├── ShoutRateLimited            429  too many shouts in a short time (retry_after)
├── ReportNotFound              404
└── NotificationNotFound        404

Hidden things answer as missing: a blocked user is ``accounts.UserNotFound``, a hidden group
``GroupNotFound``. Actions the caller sees but may not take raise ``accounts.PermissionDenied``.
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class SocialError(TastegraphError):
    code = "social_error"


class AlreadyFriends(SocialError):
    code = "already_friends"
    title = "Already friends"


class FriendRequestNotFound(SocialError):
    code = "friend_request_not_found"
    title = "No such friend request"


class InvalidSocialAction(SocialError):
    code = "invalid_social_action"
    title = "That cannot be done"


class GroupNotFound(SocialError):
    code = "group_not_found"
    title = "No such group"


class MembersOnly(SocialError):
    code = "members_only"
    title = "Only members see this"


class GroupNameTaken(SocialError):
    code = "group_name_taken"
    title = "A group with that name exists"


class AlreadyMember(SocialError):
    code = "already_member"
    title = "Already a member"


class InvitationNotFound(SocialError):
    code = "invitation_not_found"
    title = "No such invitation or request"


class LastOwner(SocialError):
    code = "last_owner"
    title = "A group needs an owner"


class TopicNotFound(SocialError):
    code = "topic_not_found"
    title = "No such topic"


class ShoutNotFound(SocialError):
    code = "shout_not_found"
    title = "No such shout"


class InvalidShout(SocialError):
    code = "invalid_shout"
    title = "The shout cannot be posted"


class TooManyLinks(InvalidShout):
    code = "too_many_links"
    title = "Too many links"


class ShoutRateLimited(SocialError):
    code = "shout_rate_limited"
    title = "Slow down"


class ReportNotFound(SocialError):
    code = "report_not_found"
    title = "No such report"


class NotificationNotFound(SocialError):
    code = "notification_not_found"
    title = "No such notification"
