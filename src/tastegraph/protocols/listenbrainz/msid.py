"""``recording_msid``: ListenBrainz's id for "the recording a listen names", for our items.

ListenBrainz derives a MessyBrainz id from the submitted text; clients get it back in listens
and send it to ``/1/delete-listen`` (with ``listened_at``) and to recording feedback. Ours
encodes the catalogue item id in a UUID version 8 (RFC 9562's layout for ids of one's own):

    74617374-6567-8000-8000-00000000002a   <- item 42
    "tasteg"       v8   variant + 62 bits of item id

so it is stable, needs no table, and reads back without a search. Together with
``listened_at`` it names exactly one play, since a play is unique per user, item and second.
After a catalogue merge an old msid still resolves: it names the merged item, whose id the
catalogue maps to the surviving one.
"""

from __future__ import annotations

import uuid

_TAG = 0x74617374_6567_8000  # "tasteg" in ASCII, then version 8 and 12 zero bits
_VARIANT = 0b10 << 62
_ID_BITS = (1 << 62) - 1


def recording_msid(item_id: int) -> str:
    return str(uuid.UUID(int=(_TAG << 64) | _VARIANT | (item_id & _ID_BITS)))


def item_of_msid(msid: str) -> int | None:
    """The item id an msid of ours encodes; None for any other UUID (or a non-UUID)."""
    try:
        value = uuid.UUID(msid).int
    except (ValueError, AttributeError, TypeError):
        return None
    if value >> 64 != _TAG or (value >> 62) & 0b11 != 0b10:
        return None
    item_id = value & _ID_BITS
    return item_id or None
