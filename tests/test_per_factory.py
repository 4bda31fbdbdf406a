"""rules.engine.per_factory: a run's inventories and lookups are shared while its client factory
lives and are collected with it (they used to outlive every run: a WeakKeyDictionary whose values
kept their own key alive)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from rdklib import ClientFactory

import rules.engine.base as base
import rules.inventory.discovery as discovery
import rules.inventory.iam as iam
import rules.inventory.s3_kms as s3_kms
from rules.catalog.registry import RULES
from rules.engine.per_factory import PerFactory
from tests.data_buckets import make_bucket, start_job
from tests.helpers import ACCOUNT, REGION, evaluate_periodic


def _registries(factory: Any) -> dict[str, Any]:
    return {"transcribe inventory": base._INVENTORIES.get(factory), "iam inventory": iam._INVENTORIES.get(factory),
            "s3/kms lookups": s3_kms._LOOKUPS.get(factory), "discovery": discovery._DISCOVERIES.get(factory)}


def test_a_released_factory_takes_its_inventories_with_it(sim: Any) -> None:
    make_bucket(sim, "audio-in")
    start_job(sim, "job", "audio-in", "audio-in")
    sim.client("iam").create_user(UserName="analyst")
    factory = base.fail_closed(ClientFactory(None, assume_role_mode=False))
    # one rule per registry: the Transcribe inventory (every rule), discovery and S3/KMS lookups
    # (a bucket rule), the IAM inventory (an IAM rule); a scan shares them all through one factory
    for name in ("transcribe-bucket-encrypted", "transcribe-iam-user-no-access"):
        assert evaluate_periodic(RULES[name](), factory=factory), name
    held = _registries(factory)
    assert all(value is not None for value in held.values()), held
    assert base.inventory_for(factory, ACCOUNT) is held["transcribe inventory"]  # shared while the factory lives
    assert s3_kms.lookups_for(factory, ACCOUNT, REGION) is held["s3/kms lookups"]
    assert held["transcribe inventory"].calls  # it holds what it read
    refs = {name: weakref.ref(value) for name, value in held.items()}
    refs["factory"] = weakref.ref(factory)
    del factory, held
    gc.collect()
    assert {name: ref() is not None for name, ref in refs.items()} == dict.fromkeys(refs, False)


def test_each_factory_has_its_own() -> None:
    registry: PerFactory[list[str]] = PerFactory("test_own")
    first, second = ClientFactory(None, assume_role_mode=False), ClientFactory(None, assume_role_mode=False)
    registry[first] = ["first"]
    assert registry[first] == ["first"] and first in registry
    assert registry.get(second) is None and second not in registry
    with pytest.raises(KeyError):
        registry[second]


class _SlotsFactory:
    __slots__ = ("name", "__weakref__")  # no __dict__: it takes no attributes

    def __init__(self, name: str):
        self.name = name


def test_a_factory_without_attributes_keeps_only_the_latest() -> None:
    registry: PerFactory[list[str]] = PerFactory("test_slots")
    first, second = _SlotsFactory("first"), _SlotsFactory("second")
    registry[first] = ["first"]
    assert registry[first] == ["first"]  # shared while that factory is in use
    registry[second] = ["second"]
    assert registry[second] == ["second"]
    assert registry.get(first) is None  # the earlier one is no longer held: at most one outlives its run
    value = registry[second]
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None and registry[second] is value
