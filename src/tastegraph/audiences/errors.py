"""Audience errors.

AudienceError
├── InvalidRule             a malformed or disallowed segment rule (with the JSON path)
├── RuleUnavailable         a rule type this installation cannot evaluate (no groups, no model)
├── SegmentNotFound
├── SegmentForbidden        not an advertiser or operator, or not the segment's owner
├── InvalidConsent          a consent change that cannot be applied
└── InvalidLookalike        a lookalike request that cannot be met
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class AudienceError(TastegraphError):
    code = "audience_error"


class InvalidRule(AudienceError):
    code = "invalid_rule"
    title = "Invalid segment rule"


class RuleUnavailable(InvalidRule):
    code = "rule_unavailable"
    title = "Rule type not available"


class SegmentNotFound(AudienceError):
    code = "segment_not_found"
    title = "No such segment"


class SegmentForbidden(AudienceError):
    code = "permission_denied"
    title = "Not allowed"


class InvalidConsent(AudienceError):
    code = "invalid_consent"
    title = "Invalid consent change"


class InvalidLookalike(AudienceError):
    code = "invalid_lookalike"
    title = "Invalid lookalike request"
