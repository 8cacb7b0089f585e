"""Social: friends, follows, blocks and who may see what; groups, shouts, live rooms, the
activity feed and notifications. See docs/social.md."""
