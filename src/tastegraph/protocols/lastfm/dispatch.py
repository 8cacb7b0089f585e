"""From parameters to a response payload: the method table, the key policy, signatures and
sessions, and how domain errors become Last.fm error codes.

Checks run in the order Last.fm's clients expect to hear about problems: the method (3), the
API key (10, 26), the signature (13), the session key (9), then the method's own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

from tastegraph.accounts.errors import NotAuthenticated, UserNotFound
from tastegraph.accounts.models import TokenKind
from tastegraph.catalog.errors import ItemNotFound
from tastegraph.errors import TastegraphError
from tastegraph.protocols.lastfm import auth, read_catalog, read_charts, read_user, write
from tastegraph.protocols.lastfm.context import Call, Method, user_not_found
from tastegraph.protocols.lastfm.errors import Code, LastfmError, invalid, missing
from tastegraph.protocols.lastfm.params import Params
from tastegraph.protocols.lastfm.render import El
from tastegraph.protocols.lastfm.signature import verify
from tastegraph.protocols.models import LastfmApiKey
from tastegraph.runtime import Runtime
from tastegraph.storage.base import utcnow

METHODS: dict[str, Method] = {
    method.name: method
    for module in (auth, write, read_user, read_catalog, read_charts)
    for method in module.METHODS
}
"""Every method, by its lower-cased name: clients spell them in every case."""


@dataclass(frozen=True)
class Incoming:
    params: Params
    http_method: str
    base_url: str


def find_method(params: Params) -> Method:
    name = params.text("method")
    if name is None:
        raise missing("method")
    method = METHODS.get(name.lower())
    if method is None:
        raise LastfmError(Code.INVALID_METHOD)
    return method


def dispatch(runtime: Runtime, incoming: Incoming) -> list[El]:
    """Run one call in its own unit of work (rolled back if it fails)."""
    method = find_method(incoming.params)
    if method.post_only and incoming.http_method != "POST":
        raise invalid(f"Invalid parameters - {method.name} must be sent as POST")
    try:
        with runtime.db.unit_of_work(write=method.writes) as session:
            call = Call(
                params=incoming.params,
                svc=runtime.services(session),
                settings=runtime.settings,
                base_url=incoming.base_url,
                now=utcnow(),
            )
            check_key(call, method)
            check_session(call, method)
            return method.handler(call)
    except LastfmError:
        raise
    except UserNotFound:
        raise user_not_found() from None
    except ItemNotFound as exc:
        raise LastfmError(Code.INVALID_PARAMETERS, exc.detail) from None
    except TastegraphError as exc:
        raise invalid(f"Invalid parameters - {exc.detail}") from None
    except OperationalError:
        # A locked or unreachable database: the client keeps its scrobbles and retries.
        raise LastfmError(Code.TEMPORARILY_UNAVAILABLE, retry_after=5) from None


def check_key(call: Call, method: Method) -> None:
    """Registered keys are verified; unknown ones follow ``lastfm_unknown_keys``.

    Players ship with their own Last.fm key and secret, which this server cannot know, so by
    default an unknown key is accepted without a signature check (as ListenBrainz and GNU FM
    do). Keys created with ``tastegraph apikeys create`` get the full check.
    """
    api_key = call.params.text("api_key")
    call.api_key = api_key
    row = call.svc.session.get(LastfmApiKey, api_key) if api_key and len(api_key) <= 32 else None
    if row is not None and row.revoked_at is not None:
        raise LastfmError(Code.API_KEY_SUSPENDED)
    if row is None:
        if call.settings.lastfm_unknown_keys == "reject" or (api_key and len(api_key) > 64):
            raise LastfmError(Code.INVALID_API_KEY)
        return
    call.key = row
    sent = call.params.text("api_sig")
    if sent is None:
        if method.signed:
            raise LastfmError(
                Code.INVALID_SIGNATURE, "Invalid method signature supplied - api_sig is missing"
            )
        return
    if not verify(call.params.raw, sent, row.secret):
        raise LastfmError(Code.INVALID_SIGNATURE)


def check_session(call: Call, method: Method) -> None:
    if method.auth:
        return
    sk = call.params.text("sk")
    if sk is None:
        if method.session:
            raise missing("sk")
        return
    try:
        call.user = call.svc.accounts.authenticate_token(sk, kinds=(TokenKind.LASTFM_SESSION,))
    except NotAuthenticated:
        raise LastfmError(Code.INVALID_SESSION) from None
