"""Placeholder: replaced by the generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tastegraph.runtime import Runtime

DEMO_USER = "demo"
DEMO_PASSWORD = "tastegraph-demo"  # noqa: S105 - a published demo login


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 2011
    users: int = 2400


def load(runtime: Runtime, config: DemoConfig, log: Callable[..., Any] = print) -> str:
    from tastegraph.accounts.schemas import UserCreate

    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        svc.accounts.register(UserCreate(name=DEMO_USER, password=DEMO_PASSWORD, country="DE"))
    return "1 user"
