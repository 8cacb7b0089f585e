"""Social: friendships (and, later, follows, groups, shouts and feeds)."""
