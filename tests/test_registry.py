"""Meta-tests: every rule is complete (metadata, scenarios, tests, handler, pack entry) and the
generated files match the registry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rules.catalog.registry import RULES, metadata_schema
from transcribe_guard import generate, rule_checks

ROOT = Path(__file__).resolve().parent.parent
RULE_NAMES = sorted(RULES)


# The checks live in transcribe_guard/rule_checks.py so that they can judge any tree
# (tests/test_contributing.py runs them over a throwaway rule); here they judge this one.
@pytest.mark.parametrize("name", RULE_NAMES)
def test_metadata_validates_against_the_registry_schema(name: str) -> None:
    assert rule_checks.metadata_problems([name]) == []


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_module_has_scenarios_handler_and_test_module(name: str) -> None:
    assert rule_checks.module_problems(ROOT, [name]) == []


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_is_in_the_pack_and_rdk_config(name: str) -> None:
    assert rule_checks.pack_problems(ROOT, [name]) == []


def test_generated_files_are_up_to_date() -> None:
    assert generate.stale_files(ROOT) == [], "run `transcribe-guard build` and commit the result"


def test_stale_check_notices_a_changed_generated_file(tmp_path: Path) -> None:
    for path, content in generate.generated_files(ROOT).items():
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    assert generate.stale_files(tmp_path) == []
    pack = tmp_path / "conformance-pack.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("TwentyFour_Hours", "Twelve_Hours", 1), encoding="utf-8")
    (tmp_path / "rdk_config" / "transcribe-removed-rule").mkdir()
    assert generate.stale_files(tmp_path) == [pack, tmp_path / "rdk_config" / "transcribe-removed-rule"]


def _mutated(change: Any) -> dict[str, Any]:
    record = copy.deepcopy(RULES[RULE_NAMES[0]].METADATA)
    change(record)
    return record


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: r.pop("iam_actions"), id="missing-iam-actions"),
    pytest.param(lambda r: r.update(practice=8), id="practice-out-of-range"),
    pytest.param(lambda r: r.update(name="Transcribe_Rule"), id="bad-name"),
    pytest.param(lambda r: r["trigger"].update(frequency="Daily"), id="bad-frequency"),
    pytest.param(lambda r: r["parameters"].update(additionalProperties=True), id="open-parameter-schema"),
    pytest.param(lambda r: r["parameters"]["properties"].update(X={"type": "integer", "description": "numbers"}),
                 id="non-string-parameter"),
    pytest.param(lambda r: r["iam_actions"].append("transcribe:*"), id="wildcard-action"),
    pytest.param(lambda r: r.update(severity="urgent"), id="bad-severity"),
])
def test_registry_schema_rejects_mistakes(change: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_mutated(change), metadata_schema())
