"""Seeds for the simulated account. Each seed creates resources through plain boto3 calls, as a
user's pipeline would, so seeding exercises the same API the rules read."""

from __future__ import annotations

from typing import Any, Callable

ClientFactory = Callable[..., Any]


def empty(client: ClientFactory) -> None:
    """Nothing: a fresh account."""


SEEDS: dict[str, Callable[[ClientFactory], None]] = {"empty": empty}
