"""Signed ad tokens and viewer keys.

A decision hands out one token, used in its impression and click URLs. It carries what the
beacons need to count without looking anything up (line item, creative, price, the viewer's
key, the segment bought, the country), signed with HMAC-SHA256 under a key derived from
``TASTEGRAPH_SECRET_KEY``: a beacon cannot be forged or altered, only replayed, and replays
count once (ads/beacons.py).

Viewers are never stored as user ids: a viewer key is a keyed hash of ``u:<user id>`` or
``a:<anonymous id>``, the same in every process that shares the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass

import orjson

from tastegraph.ads.errors import AdTokenInvalid

_VERSION = 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class AdToken:
    token_id: str
    issued_at: int
    """UNIX seconds of the decision."""
    line_item_id: int
    creative_id: int
    campaign_id: int
    advertiser_id: int
    placement_id: int
    price_micros: int
    """The CPM bid (CPM line items) or the price of a click (CPC)."""
    cpc: bool
    viewer: str
    """The viewer key, or '' when the request had none."""
    segment_id: int
    country: str
    mode: str
    day: str
    """The UTC day of the decision, YYYYMMDD: impressions and clicks count for it."""

    @property
    def impression_cost(self) -> int:
        """Micros one impression costs (CPM bids have at most three decimals)."""
        return 0 if self.cpc else self.price_micros // 1000


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        root = hashlib.sha256(f"tastegraph ads\x00{secret_key}".encode()).digest()
        self._sign_key = hmac.new(root, b"token", hashlib.sha256).digest()
        self._viewer_key = hmac.new(root, b"viewer", hashlib.sha256).digest()
        self._prefix = secrets.token_bytes(9)
        self._counter = itertools.count()

    def viewer_key(self, identity: str) -> str:
        """32 hex characters for ``u:<id>`` or ``a:<anonymous id>``."""
        return hmac.new(self._viewer_key, identity.encode(), hashlib.sha256).hexdigest()[:32]

    def new_id(self) -> str:
        """A token id unique across processes: this process's random prefix and a counter
        (ids need to be unique, not secret: the token is signed)."""
        return _b64(self._prefix + next(self._counter).to_bytes(6, "big"))

    def sign(self, token: AdToken) -> str:
        payload = orjson.dumps(
            [
                _VERSION,
                token.token_id,
                token.issued_at,
                token.line_item_id,
                token.creative_id,
                token.campaign_id,
                token.advertiser_id,
                token.placement_id,
                token.price_micros,
                1 if token.cpc else 0,
                token.viewer,
                token.segment_id,
                token.country,
                token.mode,
                token.day,
            ]
        )
        body = _b64(payload)
        return f"{body}.{self._mac(body)}"

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._sign_key, body.encode("ascii"), hashlib.sha256).digest()[:16])

    def verify(self, text: str) -> AdToken:
        body, _, mac = text.partition(".")
        if not body or not mac or len(text) > 1024:
            raise AdTokenInvalid("This ad token is malformed.")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise AdTokenInvalid("This ad token was not issued by this server.")
        try:
            fields = orjson.loads(_unb64(body))
            if fields[0] != _VERSION:
                raise ValueError(fields[0])
            (_v, tid, issued, li, cr, camp, adv, pl, price, cpc, viewer, seg, cc, mode, day) = (
                fields
            )
            return AdToken(
                token_id=str(tid),
                issued_at=int(issued),
                line_item_id=int(li),
                creative_id=int(cr),
                campaign_id=int(camp),
                advertiser_id=int(adv),
                placement_id=int(pl),
                price_micros=int(price),
                cpc=bool(cpc),
                viewer=str(viewer),
                segment_id=int(seg),
                country=str(cc),
                mode=str(mode),
                day=str(day),
            )
        except (ValueError, TypeError, IndexError, binascii.Error, orjson.JSONDecodeError):
            raise AdTokenInvalid("This ad token is malformed.") from None
