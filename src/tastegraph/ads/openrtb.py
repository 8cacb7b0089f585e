"""OpenRTB 2.6: reading a BidRequest into ad contexts and answering with a BidResponse.

Only what the decision needs is read (adtech.md §2.1); unknown fields are accepted and
ignored, as the spec asks. Personalised (segment) targeting needs consent: with
``regs.gdpr`` = 1 — or absent, which this server treats as "GDPR applies" (Prebid Server asks
operators to choose a default; a European operator's is 1) — the TCF v2.2 string in
``user.consent`` must be a version-2 string of policy version 4 or later that gives purposes
3 and 4; ``regs.coppa`` = 1 never allows it. Without that, ``user.data`` is ignored and only
contextual signals (content, country, language, device, time) count.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from html import escape
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tastegraph.ads.decision import AdContext, Decision
from tastegraph.ads.index import AdIndex
from tastegraph.ads.models import CreativeFormat
from tastegraph.ads.schemas import MICROS
from tastegraph.ads.taxonomy import DEVICE_TYPES, country_from_alpha3

AUDIENCE_TAXONOMY = 4
"""AdCOM category taxonomy 4: IAB Audience Taxonomy 1.1 (``segtax`` 4)."""
CONTENT_TAXONOMIES = frozenset({7, 9})
"""Content Taxonomy 3.0 and 3.1."""


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_text), Field(max_length=256)]


class _Object(BaseModel):
    model_config = ConfigDict(extra="allow")


class Format(_Object):
    w: int | None = Field(default=None, ge=0)
    h: int | None = Field(default=None, ge=0)


class Banner(_Object):
    format: list[Format] | None = None
    w: int | None = Field(default=None, ge=0)
    h: int | None = Field(default=None, ge=0)


class Video(_Object):
    mimes: list[str] = Field(min_length=1)
    minduration: int | None = Field(default=None, ge=0)
    maxduration: int | None = Field(default=None, ge=0)
    rqddurs: list[int] | None = None
    w: int | None = Field(default=None, ge=0)
    h: int | None = Field(default=None, ge=0)


class Imp(_Object):
    id: Id = Field(min_length=1)
    banner: Banner | None = None
    video: Video | None = None
    audio: dict[str, Any] | None = None
    native: dict[str, Any] | None = None
    tagid: Id | None = None
    bidfloor: float = Field(default=0.0, ge=0, le=1_000_000)
    bidfloorcur: str = "USD"

    @model_validator(mode="after")
    def _one_format(self) -> Imp:
        if not (self.banner or self.video or self.audio or self.native):
            raise ValueError("an imp needs one of banner, video, audio or native")
        return self


class SegmentObject(_Object):
    id: Id | None = None
    name: str | None = None


class DataExt(_Object):
    segtax: int | None = None


class Data(_Object):
    id: Id | None = None
    name: str | None = None
    segment: list[SegmentObject] = Field(default_factory=list)
    ext: DataExt | None = None


class Content(_Object):
    id: Id | None = None
    language: str | None = None
    cat: list[Id] | None = None
    cattax: int | None = None
    genres: list[Id] | None = None
    gtax: int = 9
    livestream: int | None = None
    realtime: int | None = None
    data: list[Data] = Field(default_factory=list)


class SiteOrApp(_Object):
    id: Id | None = None
    cat: list[Id] | None = None
    cattax: int | None = None
    content: Content | None = None


class Geo(_Object):
    country: str | None = None
    utcoffset: int | None = Field(default=None, ge=-1440, le=1440)


class Device(_Object):
    devicetype: int | None = None
    language: str | None = None
    ifa: Id | None = None
    lmt: int | None = None
    geo: Geo | None = None


class UserObject(_Object):
    id: Id | None = None
    consent: str | None = None
    data: list[Data] = Field(default_factory=list)
    geo: Geo | None = None


class Regs(_Object):
    gdpr: int | None = None
    coppa: int | None = None


class BidRequest(_Object):
    id: Id = Field(min_length=1)
    imp: list[Imp] = Field(min_length=1, max_length=100)
    site: SiteOrApp | None = None
    app: SiteOrApp | None = None
    device: Device | None = None
    user: UserObject | None = None
    regs: Regs | None = None
    tmax: int | None = Field(default=None, ge=0)
    cur: list[str] | None = None
    at: int = 2
    test: int = 0

    @model_validator(mode="after")
    def _site_or_app(self) -> BidRequest:
        if self.site is not None and self.app is not None:
            raise ValueError("a request has a site or an app, not both")
        return self


# -- consent ------------------------------------------------------------------------------

_PURPOSES_OFFSET = 152
"""Bits before PurposesConsent in a TC string's core segment: Version 6, Created 36,
LastUpdated 36, CmpId 12, CmpVersion 12, ConsentScreen 6, ConsentLanguage 12,
VendorListVersion 12, TcfPolicyVersion 6, IsServiceSpecific 1, UseNonStandardTexts 1,
SpecialFeatureOptIns 12."""
_POLICY_OFFSET = 132


def tcf_purposes(consent: str | None) -> frozenset[int]:
    """The purposes a TCF v2.2 TC string consents to; empty when it is missing, not version 2,
    of a policy version before 4 (invalid since 2023-09-30) or unreadable."""
    if not consent:
        return frozenset()
    core = consent.split(".", 1)[0].strip()
    try:
        raw = base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return frozenset()
    size = len(raw) * 8
    if size < _PURPOSES_OFFSET + 24:
        return frozenset()
    bits = int.from_bytes(raw, "big")

    def read(offset: int, length: int) -> int:
        return (bits >> (size - offset - length)) & ((1 << length) - 1)

    if read(0, 6) != 2 or read(_POLICY_OFFSET, 6) < 4:
        return frozenset()
    purposes = read(_PURPOSES_OFFSET, 24)
    return frozenset(n for n in range(1, 25) if purposes >> (24 - n) & 1)


def encode_tc_string(purposes: set[int], policy_version: int = 4) -> str:
    """A minimal TC string core segment (for tests and examples; not a CMP)."""
    fields = [
        (2, 6),
        (0, 36),
        (0, 36),
        (1, 12),
        (1, 12),
        (1, 6),
        (0, 12),
        (1, 12),
        (policy_version, 6),
        (1, 1),
        (0, 1),
        (0, 12),
        (sum(1 << (24 - p) for p in purposes), 24),
        (0, 24),
        (0, 1),
        (0, 12),
        (0, 16),
        (0, 1),
        (0, 16),
        (0, 1),
        (0, 12),
    ]
    value = 0
    size = 0
    for field, length in fields:
        value = (value << length) | field
        size += length
    padding = -size % 8
    raw = (value << padding).to_bytes((size + padding) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def personalisation_allowed(request: BidRequest) -> bool:
    regs = request.regs
    if regs is not None and regs.coppa == 1:
        return False
    gdpr = 1 if regs is None or regs.gdpr is None else regs.gdpr
    if gdpr == 0:
        return True
    consent = request.user.consent if request.user is not None else None
    return {3, 4} <= tcf_purposes(consent)


# -- request → contexts -------------------------------------------------------------------


def _language(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate:
            primary = candidate.strip().replace("_", "-").split("-")[0].lower()
            if 2 <= len(primary) <= 3 and primary.isalpha():
                return primary
    return None


def _categories(source: SiteOrApp | None) -> frozenset[str]:
    if source is None:
        return frozenset()
    ids: set[str] = set()
    if source.cat and source.cattax in CONTENT_TAXONOMIES:
        ids.update(source.cat)
    content = source.content
    if content is not None:
        if content.cat and content.cattax in CONTENT_TAXONOMIES:
            ids.update(content.cat)
        if content.genres and content.gtax in CONTENT_TAXONOMIES:
            ids.update(content.genres)
        for data in content.data:
            if data.ext is not None and data.ext.segtax in CONTENT_TAXONOMIES:
                ids.update(s.id for s in data.segment if s.id)
    return frozenset(ids)


def _live(source: SiteOrApp | None) -> bool | None:
    content = source.content if source is not None else None
    if content is None:
        return None
    if content.livestream == 1 or content.realtime == 1:
        return True
    if content.livestream == 0:
        return False
    return None


def _request_context(request: BidRequest, index: AdIndex) -> dict[str, Any]:
    """What every imp of a request shares: the viewer, segments (with consent) and context."""
    source = request.site or request.app
    device = request.device
    user = request.user
    segments: set[int] = set()
    if user is not None and personalisation_allowed(request):
        for data in user.data:
            if data.ext is None or data.ext.segtax != AUDIENCE_TAXONOMY:
                continue
            for segment in data.segment:
                segments.update(index.segments_by_iab.get(segment.id or "", ()))
    viewer = None
    if user is not None and user.id:
        viewer = f"o:{user.id}"
    elif device is not None and device.ifa and device.lmt != 1:
        viewer = f"d:{device.ifa}"
    geo = (device.geo if device is not None else None) or (user.geo if user else None)
    content = source.content if source is not None else None
    return {
        "viewer": viewer,
        "segments": frozenset(segments),
        "country": country_from_alpha3(geo.country if geo else None),
        "categories": _categories(source),
        "language": _language(
            content.language if content else None, device.language if device else None
        ),
        "utc_offset_minutes": geo.utcoffset if geo else None,
        "client": DEVICE_TYPES.get(device.devicetype) if device and device.devicetype else None,
        "live": _live(source),
        "house": False,
        "cpc": False,
    }


def _imp_formats(imp: Imp) -> tuple[frozenset[CreativeFormat], frozenset[tuple[int, int]] | None]:
    formats: set[CreativeFormat] = set()
    sizes: set[tuple[int, int]] = set()
    if imp.banner is not None:
        formats.update((CreativeFormat.IMAGE, CreativeFormat.TEXT))
        for fmt in imp.banner.format or ():
            if fmt.w and fmt.h:
                sizes.add((fmt.w, fmt.h))
        if imp.banner.w and imp.banner.h:
            sizes.add((imp.banner.w, imp.banner.h))
    if imp.video is not None:
        formats.add(CreativeFormat.VIDEO)
    return frozenset(formats), frozenset(sizes) or None


def imp_contexts(request: BidRequest, index: AdIndex, currency: str) -> list[tuple[Imp, AdContext]]:
    """The imps this server can bid on (a known ``tagid``, a floor in its currency), each with
    its ad context."""
    if request.cur and currency not in request.cur:
        return []
    base = _request_context(request, index)
    out = []
    for imp in request.imp:
        if not imp.tagid or imp.tagid not in index.placements:
            continue
        if imp.bidfloor > 0 and imp.bidfloorcur.upper() != currency:
            continue
        formats, sizes = _imp_formats(imp)
        video = imp.video
        context = AdContext(
            placement=imp.tagid,
            floor_micros=round(imp.bidfloor * MICROS),
            formats=formats,
            sizes=sizes,
            min_duration=video.minduration if video else None,
            max_duration=video.maxduration if video else None,
            durations=frozenset(video.rqddurs) if video and video.rqddurs else None,
            **base,
        )
        out.append((imp, context))
    return out


# -- response -----------------------------------------------------------------------------


def markup(decision: Decision, impression_url: str, click_url: str) -> str:
    """The ad markup: HTML for banners and text, VAST 4.0 for video."""
    creative = decision.creative
    if creative.format is CreativeFormat.VIDEO:
        seconds = creative.duration_seconds or 0
        duration = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        mime = escape(creative.mime or "video/mp4")
        size = ""
        if creative.width and creative.height:
            size = f' width="{creative.width}" height="{creative.height}"'
        return (
            f'<VAST version="4.0"><Ad id="{creative.id}"><InLine>'
            "<AdSystem>tastegraph</AdSystem>"
            f"<AdTitle>{escape(creative.headline or decision.line_item.name)}</AdTitle>"
            f"<Impression><![CDATA[{impression_url}]]></Impression>"
            f'<Creatives><Creative id="{creative.id}"><Linear>'
            f"<Duration>{duration}</Duration>"
            f"<VideoClicks><ClickThrough><![CDATA[{click_url}]]></ClickThrough></VideoClicks>"
            f'<MediaFiles><MediaFile delivery="progressive" type="{mime}"{size}>'
            f"<![CDATA[{creative.asset_url}]]></MediaFile></MediaFiles>"
            "</Linear></Creative></Creatives></InLine></Ad></VAST>"
        )
    pixel = f'<img src="{escape(impression_url)}" width="1" height="1" alt="" style="display:none">'
    link = f'<a href="{escape(click_url)}" target="_blank" rel="noopener sponsored">'
    if creative.format is CreativeFormat.IMAGE:
        alt = escape(creative.headline or decision.line_item.advertiser_name)
        return (
            f'{link}<img src="{escape(creative.asset_url or "")}" width="{creative.width}" '
            f'height="{creative.height}" alt="{alt}" style="border:0"></a>{pixel}'
        )
    body = f"<p>{escape(creative.body)}</p>" if creative.body else ""
    return f"{link}<strong>{escape(creative.headline or '')}</strong></a>{body}{pixel}"


def bid_response(
    request: BidRequest,
    bids: list[tuple[Imp, Decision]],
    currency: str,
    urls: Callable[[Decision], tuple[str, str, str]],
) -> dict[str, Any]:
    """A BidResponse with one seat (this ad server) and one bid per won imp.

    ``urls(decision)`` gives its impression, click and loss URLs."""
    out = []
    for imp, decision in bids:
        impression_url, click_url, loss_url = urls(decision)
        creative = decision.creative
        bid: dict[str, Any] = {
            "id": decision.ad.token_id,
            "impid": imp.id,
            "price": decision.line_item.bid_micros / MICROS,
            "adm": markup(decision, impression_url, click_url),
            "burl": impression_url,
            "lurl": f"{loss_url}?reason=${{AUCTION_LOSS}}",
            "cid": str(decision.line_item.campaign_id),
            "crid": str(creative.id),
            "mtype": 2 if creative.format is CreativeFormat.VIDEO else 1,
        }
        if decision.line_item.advertiser_domain:
            bid["adomain"] = [decision.line_item.advertiser_domain]
        if creative.width and creative.height:
            bid["w"], bid["h"] = creative.width, creative.height
        if creative.format is CreativeFormat.VIDEO and creative.duration_seconds:
            bid["dur"] = creative.duration_seconds
        out.append(bid)
    return {
        "id": request.id,
        "bidid": bids[0][1].ad.token_id if bids else None,
        "cur": currency,
        "seatbid": [{"seat": "tastegraph", "bid": out}],
    }
