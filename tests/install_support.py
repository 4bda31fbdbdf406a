"""What a runtime-only install (`make demo`, `pip install .`) lacks: the modules of the test extras.
tests/test_readme_commands.py runs every documented `transcribe-guard` command with them made
unimportable, so a command that needs a test tool (cfn-lint, mypy, hypothesis, rdk, ...) fails there."""

from __future__ import annotations

import configparser
import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Imported by the runtime too, whatever a test extra also ships.
RUNTIME_MODULES = {"yaml", "jsonschema", "boto3", "botocore", "moto", "rdklib", "transcribe_guard", "rules",
                   "s3transfer", "jmespath", "dateutil", "urllib3", "six"}


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_only_modules() -> list[str]:
    """Top-level modules of the installed distributions of setup.cfg's "test" extras."""
    test_only = requirement_names(setup_cfg()["options.extras_require"]["test"])
    modules = {module for module, dists in metadata.packages_distributions().items()
               if {d.lower().replace("_", "-") for d in dists} & test_only}
    return sorted(modules - RUNTIME_MODULES)


# Run as `python -c BLOCKING_RUNNER MODULES args...`: the CLI with those modules unimportable.
BLOCKING_RUNNER = """
import importlib.abc, runpy, sys
BLOCKED = set(sys.argv.pop(1).split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is a test-only module (setup.cfg extras 'test'): not installed by make demo")
sys.meta_path.insert(0, Block())
sys.argv[0] = "transcribe-guard"
runpy.run_module("transcribe_guard.cli", run_name="__main__", alter_sys=True)
"""
