"""/api/v1/scrobble: progress scrobbling (start / pause / stop), check-ins, live audiences
(to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["progress"])
