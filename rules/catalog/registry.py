"""The one registry of rules. The conformance pack, the RDK metadata, the Lambda role policy and
the rule reference are all generated from it.

Rules are discovered, not listed: every ``rules/transcribe_*.py`` module is a rule module and must
define exactly one TranscribeGuardRule subclass carrying METADATA whose name is the module's name in
kebab-case. Discovery imports the modules itself (registration is never an import side effect) and
fails loudly, naming the module, when one breaks that contract. Order: METADATA["order"].
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from importlib import resources
from typing import Any

from rules.engine.base import TranscribeGuardRule

RULE_MODULE_PREFIX = "transcribe_"


class RegistryError(RuntimeError):
    """A rule module that breaks the registry's contract; the message names the module."""


def module_name(rule_name: str) -> str:
    """Rule names are kebab-case; their modules are the same words in snake_case."""
    return rule_name.replace("-", "_")


def _rule_class(module_path: str) -> type[TranscribeGuardRule]:
    module = importlib.import_module(module_path)
    where = f"{module_path} ({module.__file__})"
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, TranscribeGuardRule) and obj.__module__ == module.__name__
             and "METADATA" in vars(obj)]
    if len(found) != 1:
        classes = ", ".join(sorted(cls.__name__ for cls in found)) or "none"
        raise RegistryError(f"{where}: a rule module defines exactly one TranscribeGuardRule subclass with "
                            f"METADATA; found {len(found)} ({classes}).")
    cls = found[0]
    name = cls.METADATA.get("name") if isinstance(cls.METADATA, dict) else None
    expected = module_path.rsplit(".", 1)[1].replace("_", "-")
    if name != expected:
        raise RegistryError(f"{where}: METADATA name {name!r} does not match the module; expected {expected!r}.")
    return cls


def discover(package: str = "rules") -> tuple[type[TranscribeGuardRule], ...]:
    """The rule classes of every ``<package>/transcribe_*.py`` module, ordered by METADATA["order"]."""
    root = importlib.import_module(package)
    modules = sorted(info.name for info in pkgutil.iter_modules(root.__path__)
                     if not info.ispkg and info.name.startswith(RULE_MODULE_PREFIX))
    classes = [_rule_class(f"{package}.{name}") for name in modules]

    orders = {cls: cls.METADATA.get("order") for cls in classes}
    valid = {cls: order for cls, order in orders.items()
             if isinstance(order, int) and not isinstance(order, bool) and order >= 1}
    next_free = max(valid.values(), default=0) + 1
    for cls, order in orders.items():
        if cls not in valid:
            raise RegistryError(f"{cls.__module__}: METADATA 'order' must be a positive integer (the rule's place "
                                f"in the pack), not {order!r}; the next free one is {next_free}.")
        users = [other.__module__ for other, taken in valid.items() if taken == order]
        if len(users) > 1:
            raise RegistryError(f"{', '.join(users)}: METADATA order {order} is used more than once; "
                                f"the next free one is {next_free}.")
    return tuple(sorted(classes, key=valid.__getitem__))


RULE_CLASSES: tuple[type[TranscribeGuardRule], ...] = discover()

RULES: dict[str, type[TranscribeGuardRule]] = {cls.METADATA["name"]: cls for cls in RULE_CLASSES}


def metadata_schema() -> dict[str, Any]:
    """The JSON Schema every METADATA record must satisfy (checked by tests and `build`)."""
    text = resources.files("rules.catalog").joinpath("registry.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
