"""Advertising errors.

AdsError
├── AdvertiserNotFound      missing, or not the caller's
├── CampaignNotFound        missing, or not the caller's
├── LineItemNotFound        missing, or not the caller's
├── CreativeNotFound        missing, or not the caller's
├── PlacementNotFound       no active placement with that key or id
├── PlacementKeyTaken
├── NotAnAdvertiser         the caller works for no advertiser and is no administrator
├── InvalidAdData           a campaign, line item or creative that cannot be stored as sent
├── InvalidReport           a report request that cannot be answered
├── InvalidBidRequest       an OpenRTB BidRequest that is not JSON or not valid (with the path)
├── AdTokenInvalid          a beacon token whose signature does not verify
└── AdTokenExpired          a beacon token older than ads_token_ttl_seconds
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class AdsError(TastegraphError):
    code = "ads_error"


class AdvertiserNotFound(AdsError):
    code = "advertiser_not_found"
    title = "No such advertiser"


class CampaignNotFound(AdsError):
    code = "campaign_not_found"
    title = "No such campaign"


class LineItemNotFound(AdsError):
    code = "line_item_not_found"
    title = "No such line item"


class CreativeNotFound(AdsError):
    code = "creative_not_found"
    title = "No such creative"


class PlacementNotFound(AdsError):
    code = "placement_not_found"
    title = "No such placement"


class PlacementKeyTaken(AdsError):
    code = "placement_key_taken"
    title = "That placement key is taken"


class NotAnAdvertiser(AdsError):
    code = "not_an_advertiser"
    title = "Not an advertiser"


class InvalidAdData(AdsError):
    code = "invalid_ad_data"
    title = "Invalid advertising data"


class InvalidReport(AdsError):
    code = "invalid_report"
    title = "Invalid report request"


class InvalidBidRequest(AdsError):
    code = "invalid_bid_request"
    title = "Invalid OpenRTB BidRequest"


class AdTokenInvalid(AdsError):
    code = "ad_token_invalid"
    title = "Unknown ad token"


class AdTokenExpired(AdsError):
    code = "ad_token_expired"
    title = "Expired ad token"
