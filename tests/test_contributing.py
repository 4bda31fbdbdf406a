"""Adding a rule the way CONTRIBUTING.md says touches only the rule module, its test module and
generated files; the registry's discovery fails loudly on a module that breaks its contract; and the
meta-checks (transcribe_guard/rule_checks.py) report each kind of incomplete rule.

The end-to-end test copies the project into a temporary directory, writes the example rule and test
module from CONTRIBUTING.md's code blocks (renamed to transcribe-zz-example), and runs the checks,
the generator, the example's tests and the meta-tests in subprocesses there, so that ``rules`` is
the copy's."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.catalog.registry import RULES, RegistryError, discover
from transcribe_guard import rule_checks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ("transcribe-vocabulary-ready", "transcribe_vocabulary_ready", "TranscribeVocabularyReady",
           "TRANSCRIBE_VOCABULARY_READY")
THROWAWAY = ("transcribe-zz-example", "transcribe_zz_example", "TranscribeZzExample", "TRANSCRIBE_ZZ_EXAMPLE")
RULE_FILE = f"rules/{THROWAWAY[1]}.py"
TEST_FILE = f"tests/test_{THROWAWAY[1]}.py"
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "build", "*.egg-info", ".mypy_cache",
                                     ".ruff_cache", ".pytest_cache", ".hypothesis")


def contributing_examples() -> tuple[str, str]:
    """CONTRIBUTING.md's example rule module and test module, renamed to the throwaway rule, its
    ``order`` the next free one."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"),
                        flags=re.DOTALL | re.MULTILINE)
    rule = next(b for b in blocks if "def lambda_handler" in b)
    test = next(b for b in blocks if "def test_scenario1" in b)
    next_order = max(cls.METADATA["order"] for cls in RULES.values()) + 1
    rule = re.sub(r'"order": \d+', f'"order": {next_order}', rule, count=1)
    for old, new in zip(EXAMPLE, THROWAWAY):
        rule, test = rule.replace(old, new), test.replace(old, new)
    return rule, test


def snapshot(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


def run_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def checks(root: Path, *args: str) -> tuple[int, list[str]]:
    result = run_in(root, "-m", "transcribe_guard.rule_checks", *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, result.stdout.splitlines()


def is_generated_file_problem(line: str) -> bool:
    return line.endswith(f"stale or missing generated file; {rule_checks.BUILD_HINT}.")


def test_a_rule_added_by_following_contributing_touches_only_its_module_its_test_module_and_generated_files(
        tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
    before = snapshot(root)
    rule_source, test_source = contributing_examples()

    # The rule module alone: no test module, not in the pack, generated files stale.
    (root / RULE_FILE).write_text(rule_source, encoding="utf-8")
    code, found = checks(root, "--no-iam")
    assert code == 1
    assert f"{TEST_FILE}: missing; every rule has its own test module." in found
    assert f"conformance-pack.yaml: no ConfigRule {THROWAWAY[0]}; {rule_checks.BUILD_HINT}." in found
    for generated in ("conformance-pack.yaml", f"rdk_config/{THROWAWAY[0]}/parameters.json",
                      "transcribe_guard/templates/functions.yaml"):
        assert f"{generated}: stale or missing generated file; {rule_checks.BUILD_HINT}." in found, found
    assert [line for line in found if THROWAWAY[0] not in line and THROWAWAY[1] not in line
            and not is_generated_file_problem(line)] == [], "only the new rule is incomplete"

    # With its test module only the generated files are left.
    (root / TEST_FILE).write_text(test_source, encoding="utf-8")
    code, found = checks(root, "--no-iam")
    assert code == 1 and found and all(
        is_generated_file_problem(line) or line.startswith(("conformance-pack.yaml: no ConfigRule",
                                                            f"rdk_config/{THROWAWAY[0]}/parameters.json: missing"))
        for line in found), found

    built = run_in(root, "-m", "transcribe_guard.cli", "build")
    assert built.returncode == 0, built.stdout + built.stderr
    assert checks(root, "--no-iam") == (0, [f"ok: {len(RULES) + 1} rule(s) complete."])
    # The example's own tests, and the project's meta-tests for the new rule (least privilege included).
    tested = run_in(root, "-m", "pytest", "-v", "-p", "no:cacheprovider", TEST_FILE, "tests/test_registry.py",
                    "tests/test_least_privilege.py", "-k", "zz or up_to_date")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    for test in (f"{TEST_FILE}::test_scenario1", "tests/test_registry.py::test_generated_files_are_up_to_date",
                 f"tests/test_registry.py::test_rule_module_has_scenarios_handler_and_test_module[{THROWAWAY[0]}]",
                 f"tests/test_registry.py::test_rule_is_in_the_pack_and_rdk_config[{THROWAWAY[0]}]",
                 f"tests/test_least_privilege.py::test_observed_actions_equal_declared_actions[{THROWAWAY[0]}]"):
        assert re.search(rf"^{re.escape(test)}\S* PASSED", tested.stdout, flags=re.MULTILINE), (test, tested.stdout)

    listed = run_in(root, "-c", "from pathlib import Path; from transcribe_guard.generate import generated_files; "
                                "root = Path.cwd(); print('\\n'.join(p.relative_to(root).as_posix() "
                                "for p in generated_files(root)))")
    assert listed.returncode == 0, listed.stderr
    generated = set(listed.stdout.split())
    after = snapshot(root)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert set(before) <= set(after), "nothing was deleted"
    assert {RULE_FILE, TEST_FILE, "conformance-pack.yaml", f"rdk_config/{THROWAWAY[0]}/parameters.json",
            "transcribe_guard/templates/functions.yaml"} <= changed
    assert changed - {RULE_FILE, TEST_FILE} <= generated, changed - {RULE_FILE, TEST_FILE} - generated

    # The next free order puts the new rule after every other custom rule in the pack.
    pack = yaml.safe_load((root / "conformance-pack.yaml").read_text(encoding="utf-8"))
    custom = [r["Properties"]["ConfigRuleName"] for r in pack["Resources"].values()
              if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["Owner"] == "CUSTOM_LAMBDA"]
    assert custom == [*RULES, THROWAWAY[0]]


# --- discovery ---------------------------------------------------------------------------------

RULE_TEMPLATE = '''
from rules.engine.base import TranscribeGuardRule


class {cls}(TranscribeGuardRule):
    METADATA = {{"name": "{name}", "order": {order}}}
'''


def fake_package(tmp_path: Path, monkeypatch: Any, modules: dict[str, str]) -> str:
    """A throwaway package of rule modules, under a fresh name so no earlier import is reused."""
    package = f"fakerules_{uuid.uuid4().hex}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    for name, text in modules.items():
        (tmp_path / package / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def rule(cls: str, name: str, order: Any) -> str:
    return RULE_TEMPLATE.format(cls=cls, name=name, order=order)


def test_discovery_finds_every_rule_module_in_order_and_ignores_the_rest(tmp_path: Path, monkeypatch: Any) -> None:
    package = fake_package(tmp_path, monkeypatch, {
        "transcribe_b": rule("B", "transcribe-b", 1),
        "transcribe_a": rule("A", "transcribe-a", 2) + "\nfrom rules.engine.base import TranscribeGuardRule as Base\n",
        "helpers": "X = 1\n",  # not a rule module: not imported, not a rule
    })
    (tmp_path / package / "transcribe_sub").mkdir()  # a sub-package is never a rule
    (tmp_path / package / "transcribe_sub" / "__init__.py").write_text("", encoding="utf-8")
    assert [cls.METADATA["name"] for cls in discover(package)] == ["transcribe-b", "transcribe-a"]
    assert f"{package}.helpers" not in sys.modules


def test_the_real_registry_holds_one_rule_per_rule_module() -> None:
    modules = {path.stem for path in (ROOT / "rules").glob("transcribe_*.py")}
    assert {cls.__module__ for cls in RULES.values()} == {f"rules.{name}" for name in modules}
    assert [cls.METADATA["order"] for cls in RULES.values()] == sorted(cls.METADATA["order"] for cls in RULES.values())


@pytest.mark.parametrize("modules, message", [
    pytest.param({"transcribe_a": "X = 1\n"}, r"\.transcribe_a \(.*transcribe_a\.py\): a rule module defines exactly "
                 r"one TranscribeGuardRule subclass with METADATA; found 0 \(none\)", id="no-rule-class"),
    pytest.param({"transcribe_a": rule("A", "transcribe-a", 1) + rule("A2", "transcribe-a", 2)},
                 r"\.transcribe_a .*found 2 \(A, A2\)", id="two-rule-classes"),
    pytest.param({"transcribe_a": rule("A", "transcribe-b", 1)},
                 r"\.transcribe_a .*METADATA name 'transcribe-b' does not match the module; expected 'transcribe-a'",
                 id="name-not-the-module"),
    pytest.param({"transcribe_a": rule("A", "transcribe-a", 1), "transcribe_b": rule("B", "transcribe-b", 1)},
                 r"\.transcribe_a, .*\.transcribe_b: METADATA order 1 is used more than once; the next free one is 2",
                 id="order-taken"),
    pytest.param({"transcribe_a": rule("A", "transcribe-a", 4), "transcribe_b": rule("B", "transcribe-b", "'x'")},
                 r"\.transcribe_b: METADATA 'order' must be a positive integer .*not 'x'; the next free one is 5",
                 id="order-not-a-number"),
])
def test_discovery_fails_loudly_naming_the_module(tmp_path: Path, monkeypatch: Any, modules: dict[str, str],
                                                   message: str) -> None:
    package = fake_package(tmp_path, monkeypatch, modules)
    with pytest.raises(RegistryError, match=message):
        discover(package)


def test_the_checks_report_a_registry_that_cannot_be_built(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
    (root / RULE_FILE).write_text('"""transcribe-zz-example"""\n', encoding="utf-8")
    code, found = checks(root, "--no-iam")
    assert code == 1 and len(found) == 1 and found[0].startswith("registry: RegistryError: rules.transcribe_zz_example ")


# --- the meta-checks, one kind of incompleteness at a time ---------------------------------------

GOOD_DOC = """transcribe-fake

Scenarios:
    1. Given nothing, then nothing.
    2. Given something, then COMPLIANT.
"""
GOOD_SOURCE = "def lambda_handler(event, context):\n    return []  # Scenario 1\n"
GOOD_TEST = "def test_scenario1_nothing():\n    pass\n"


@pytest.mark.parametrize("doc, source, handler, test, expected", [
    pytest.param(GOOD_DOC, GOOD_SOURCE, True, GOOD_TEST, [], id="complete"),
    pytest.param(GOOD_DOC.replace("transcribe-fake", "Fake rule"), GOOD_SOURCE, True, GOOD_TEST,
                 ["the module docstring must start with the rule name"], id="docstring-not-named"),
    pytest.param(GOOD_DOC.replace("2. Given", "3. Given"), GOOD_SOURCE, True, GOOD_TEST,
                 ["scenarios must be numbered 1..N as '    1. Given ...' (found ['1', '3'])"], id="scenario-numbering"),
    pytest.param(GOOD_DOC.split("Scenarios:")[0], GOOD_SOURCE, True, GOOD_TEST,
                 ["(found none)"], id="no-scenarios"),
    pytest.param(GOOD_DOC, GOOD_SOURCE, False, GOOD_TEST, ["no lambda_handler function"], id="no-handler"),
    pytest.param(GOOD_DOC, GOOD_SOURCE.replace("# Scenario 1", ""), True, GOOD_TEST,
                 ["must mark where each scenario is decided"], id="no-scenario-marks"),
    pytest.param(GOOD_DOC, GOOD_SOURCE, True, None, ["tests/test_transcribe_fake.py: missing"], id="no-test-module"),
    pytest.param(GOOD_DOC, GOOD_SOURCE, True, "def test_it():\n    pass\n",
                 ["tests/test_transcribe_fake.py: no test_scenario"], id="no-scenario-tests"),
])
def test_module_problems_name_what_is_missing(tmp_path: Path, monkeypatch: Any, doc: str, source: str, handler: bool,
                                              test: str | None, expected: list[str]) -> None:
    module_file = tmp_path / "rules" / "transcribe_fake.py"
    module_file.parent.mkdir()
    module_file.write_text(source, encoding="utf-8")
    module = types.ModuleType("rules.transcribe_fake", doc)
    module.__file__ = str(module_file)
    if handler:
        module.lambda_handler = lambda event, context: []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rules.transcribe_fake", module)
    if test is not None:
        (tmp_path / "tests").mkdir()
        (tmp_path / "tests" / "test_transcribe_fake.py").write_text(test, encoding="utf-8")
    found = rule_checks.module_problems(tmp_path, ["transcribe-fake"])
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found)), found


def test_metadata_and_pack_problems_name_the_rule(tmp_path: Path, monkeypatch: Any) -> None:
    name = next(iter(RULES))
    broken = type("Broken", (RULES[name],), {"METADATA": {**RULES[name].METADATA, "practice": 9}})
    monkeypatch.setattr(rule_checks, "_registry", lambda: {name: broken})
    assert rule_checks.metadata_problems() == [f"{name}: METADATA practice: 9 is greater than the maximum of 7"]
    (tmp_path / "conformance-pack.yaml").write_text("Resources: {}\n", encoding="utf-8")
    assert rule_checks.pack_problems(tmp_path) == [
        f"conformance-pack.yaml: no ConfigRule {name}; {rule_checks.BUILD_HINT}.",
        f"rdk_config/{name}/parameters.json: missing; {rule_checks.BUILD_HINT}."]
    assert rule_checks.location_problems(tmp_path) == [
        f"rules is imported from {(ROOT / 'rules').resolve()}, not {(tmp_path / 'rules').resolve()}: run from {tmp_path}."]
    assert rule_checks.location_problems(ROOT) == []


def test_iam_action_problems_report_undeclared_and_unused_actions(monkeypatch: Any) -> None:
    name = "transcribe-ai-opt-out"  # calls organizations:DescribeEffectivePolicy only
    wrong = type("Wrong", (RULES[name],), {"METADATA": {**RULES[name].METADATA, "iam_actions": ["kms:DescribeKey"]}})
    monkeypatch.setattr(rule_checks, "_registry", lambda: {name: wrong})
    assert rule_checks.iam_action_problems() == [
        f"{name}: calls actions missing from METADATA iam_actions: ['organizations:DescribeEffectivePolicy'].",
        f"{name}: declares iam_actions it never called on the demo account: ['kms:DescribeKey']."]
