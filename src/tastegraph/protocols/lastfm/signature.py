"""``api_sig``: md5 over the sorted parameters and the API key's secret.

    sig = md5(name1 + value1 + name2 + value2 + ... + secret)

Names sort in code-point order (so ``artist[10]`` comes before ``artist[1]``), values are the
decoded strings, and ``api_sig``, ``format`` and ``callback`` are left out. Every parameter
counts wherever it travelled, query string or body: pylast signs ``username`` and sends it in
the query string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

UNSIGNED = frozenset({"api_sig", "format", "callback"})


def signature(
    params: Mapping[str, str], secret: str, *, unsigned: frozenset[str] = UNSIGNED
) -> str:
    text = "".join(name + params[name] for name in sorted(params) if name.lower() not in unsigned)
    data = (text + secret).encode("utf-8", "surrogateescape")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify(params: Mapping[str, str], sent: str, secret: str) -> bool:
    """Whether ``sent`` (hex, any case) signs ``params`` with ``secret``.

    Some clients sign ``format`` too, against the documentation; a signature that covers it
    proves the secret just as well, so it is accepted.
    """
    sent = sent.strip().lower()
    expected = (
        signature(params, secret),
        signature(params, secret, unsigned=frozenset({"api_sig", "callback"})),
    )
    return any(hmac.compare_digest(sent, candidate) for candidate in expected)
