"""Social errors.

SocialError
└── AlreadyFriends
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class SocialError(TastegraphError):
    code = "social_error"


class AlreadyFriends(SocialError):
    code = "already_friends"
    title = "Already friends"
