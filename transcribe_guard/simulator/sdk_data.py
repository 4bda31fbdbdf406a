"""One botocore data loader for every SDK session in a simulated process, and no moto default AMIs.

botocore parses a service's JSON model (and ``endpoints.json``) once per *session*: its
``Loader`` caches what it read, and each session builds its own. Simulated, sessions come thick
and fast: moto swaps in a new boto3 default session whenever a mock starts (so every
``Simulator`` would parse every model its clients use again), moto itself builds sessions to list
Regions, and seeds and tests build their own. Parsing is most of that cost (EC2's model about
0.2 s, ``endpoints.json`` about 0.15 s, each time). Here every session created after ``install``
(and moto's own model reads) gets the same loader per data path: what one parsed, all reuse.
botocore already hands the same parsed model to every client of one session, so sharing it
between sessions changes nothing a client sees.

boto3 adds its own data folder to a session's loader search path each time a boto3 Session is
built; the shared loader's search path ignores an entry it already has, so it stays the same.

moto's EC2 backend also builds its default AMIs (with a snapshot each; 1,301 in us-east-1 from
moto 5.2.5's bundled lists) in every account and Region it builds, unless ``MOTO_EC2_LOAD_DEFAULT_AMIS`` is false. The simulated
account has no use for them (the rules read VPC endpoints, never images), so they are off
unless the environment asks for them.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterable, Optional

import botocore.loaders
import botocore.session

_lock = threading.Lock()
_loaders: dict[Optional[str], botocore.loaders.Loader] = {}
_create_loader = botocore.loaders.create_loader
_installed = False


class _SearchPaths(list):  # type: ignore[type-arg]
    """A loader's search path that keeps each entry once (boto3 appends its data folder per Session)."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)

    def insert(self, index: Any, path: Any) -> None:
        if path not in self:
            super().insert(index, path)

    def extend(self, paths: Iterable[Any]) -> None:
        for path in paths:
            self.append(path)


def shared_loader(search_path_string: Optional[str] = None) -> botocore.loaders.Loader:
    """botocore.loaders.create_loader, one loader per data path (AWS_DATA_PATH) for the whole process."""
    with _lock:
        loader = _loaders.get(search_path_string)
        if loader is None:
            loader = _create_loader(search_path_string)
            loader._search_paths = _SearchPaths(loader._search_paths)
            _loaders[search_path_string] = loader
        return loader


def install() -> None:
    """Idempotent; before the first simulated request (sessions created earlier keep their own loader)."""
    global _installed
    if _installed:
        return
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    botocore.session.create_loader = shared_loader  # what every Session's data_loader component is built by
    import moto.core.utils
    moto.core.utils.create_loader = shared_loader  # moto reads models for its serializers and paginators
    _installed = True
