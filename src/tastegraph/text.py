"""Text that is safe to store: valid Unicode, no control characters, bounded length."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str) -> str:
    if _SURROGATE.search(value):
        raise ValueError("contains invalid Unicode (a lone surrogate or undecodable bytes)")
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=512),
    AfterValidator(check_text),
]
"""A name or title from a player: 1 to 512 characters after trimming."""

LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20_000),
    AfterValidator(check_text),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    AfterValidator(check_text),
]
