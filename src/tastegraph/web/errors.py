"""Every error the web app returns, as RFC 9457 problem+json, mapped in this one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tastegraph.accounts import errors as accounts
from tastegraph.ads import errors as ads
from tastegraph.audiences import errors as audiences
from tastegraph.catalog import errors as catalog
from tastegraph.errors import TastegraphError
from tastegraph.ingest import errors as ingest
from tastegraph.insights import errors as insights
from tastegraph.recs import errors as recs
from tastegraph.social import errors as social
from tastegraph.stats import errors as stats
from tastegraph.storage import errors as storage

_log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[TastegraphError], int] = {
    accounts.NotAuthenticated: 401,
    accounts.InvalidCredentials: 401,
    accounts.PermissionDenied: 403,
    accounts.UserNotFound: 404,
    accounts.NameTaken: 409,
    accounts.InvalidAccountData: 422,
    accounts.TokenNotFound: 404,
    catalog.ItemNotFound: 404,
    catalog.InvalidItemReference: 422,
    catalog.MergeRefused: 409,
    catalog.InvalidRights: 422,
    catalog.RightsNotFound: 404,
    catalog.BlackoutNotFound: 404,
    catalog.TerritoryGroupNotFound: 404,
    catalog.TerritoryGroupInUse: 409,
    catalog.RightsSheetRejected: 422,
    ingest.BatchTooLarge: 413,
    ingest.NoValidPlays: 422,
    ingest.InvalidPlay: 422,
    ingest.MalformedBody: 400,
    ingest.PayloadTooLarge: 413,
    ingest.PlayNotFound: 404,
    ingest.ProgressTooLow: 422,
    ingest.AlreadyScrobbled: 409,
    ingest.CheckinActive: 409,
    ingest.PlaybackNotFound: 404,
    social.AlreadyFriends: 409,
    social.FriendRequestNotFound: 404,
    social.InvalidSocialAction: 422,
    social.GroupNotFound: 404,
    social.MembersOnly: 404,
    social.GroupNameTaken: 409,
    social.AlreadyMember: 409,
    social.InvitationNotFound: 404,
    social.LastOwner: 409,
    social.TopicNotFound: 404,
    social.ShoutNotFound: 404,
    social.InvalidShout: 422,
    social.ShoutRateLimited: 429,
    social.ReportNotFound: 404,
    social.NotificationNotFound: 404,
    storage.DatabaseNotMigrated: 503,
    stats.InvalidPeriod: 422,
    stats.UnsupportedLevel: 422,
    recs.InvalidRecsRequest: 422,
    recs.ModelNotTrained: 503,
    recs.StationNotFound: 404,
    recs.ArtifactError: 503,
    recs.DatasetError: 422,
    audiences.InvalidRule: 422,
    audiences.SegmentNotFound: 404,
    audiences.SegmentForbidden: 403,
    audiences.InvalidConsent: 422,
    audiences.InvalidLookalike: 422,
    ads.AdvertiserNotFound: 404,
    ads.CampaignNotFound: 404,
    ads.LineItemNotFound: 404,
    ads.CreativeNotFound: 404,
    ads.PlacementNotFound: 404,
    ads.PlacementKeyTaken: 409,
    ads.NotAnAdvertiser: 403,
    ads.InvalidAdData: 422,
    ads.InvalidReport: 422,
    ads.InvalidBidRequest: 400,
    ads.AdTokenInvalid: 404,
    ads.AdTokenExpired: 410,
    insights.InvalidInsightsRequest: 422,
    insights.CostNotFound: 404,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def status_for(error: TastegraphError) -> int:
    for cls in type(error).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 400


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://tastegraph.org/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="tastegraph"'} if status == 401 else None
    if status == 429 and "retry_after" in extra:
        headers = {"Retry-After": str(extra["retry_after"])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TastegraphError)
    return problem(status_for(exc), exc.code, exc.title, exc.detail, **exc.extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or None,
            "code": err.get("type"),
            "message": err.get("msg"),
        }
        for err in exc.errors()
    ]
    malformed = any(err.get("type") == "json_invalid" for err in exc.errors())
    if malformed:
        return problem(
            400, "malformed_json", "Malformed JSON", "The body is not valid JSON.", errors=errors
        )
    return problem(
        422, "validation_failed", "Invalid request", "The request does not validate.", errors=errors
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = str(exc.detail)
    return problem(exc.status_code, code, detail, detail)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500, "internal_error", "Internal server error", "Something went wrong on our side."
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(TastegraphError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
