"""Shout text: counted links, mentions, and the HTML it is shown as.

Shouts are stored exactly as written and never as HTML. The HTML is made here on the way out:
every character is escaped (markupsafe), and only ``http://`` and ``https://`` addresses
become links, with ``rel="nofollow ugc noopener"``. ``<script>`` arrives as text, and a
``javascript:`` address is never a link.
"""

from __future__ import annotations

import re

from markupsafe import escape

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_LINKISH = re.compile(r"(?:\bhttps?://|\bwww\.)\S+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_MENTION = re.compile(r"(?<![\w@/.])@([^\W_][\w.-]{1,31})", re.UNICODE)
LINK_REL = "nofollow ugc noopener"


def count_links(text: str) -> int:
    """Addresses in the text, linked or not (``www.`` counts too): what spam limits count."""
    return len(_LINKISH.findall(text))


def mentioned_names(text: str) -> list[str]:
    """The ``@names`` in the text, in order, each once (trailing dots are punctuation)."""
    seen: dict[str, str] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".-")
        if len(name) >= 2:
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


def render_html(text: str) -> str:
    """Escaped HTML with http(s) addresses linked and line breaks kept."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        stripped = url
        while stripped and stripped[-1] in _TRAILING:
            # A closing parenthesis belongs to the address when it opened one (Wikipedia).
            if stripped[-1] == ")" and stripped.count("(") >= stripped.count(")"):
                break
            stripped = stripped[:-1]
        end = match.start() + len(stripped)
        parts.append(str(escape(text[position : match.start()])))
        if len(stripped) > len("https://"):
            href = escape(stripped)
            parts.append(f'<a href="{href}" rel="{LINK_REL}">{href}</a>')
        else:
            parts.append(str(escape(stripped)))
        position = end
    parts.append(str(escape(text[position:])))
    return "".join(parts).replace("\r\n", "\n").replace("\n", "<br>\n")
