"""The meta-checks: is every rule complete? Each function returns a list of problems (empty when
all is well), one line each, naming the rule and what to fix; the tests assert them for the project
(tests/test_registry.py, tests/test_least_privilege.py) and CONTRIBUTING.md sends rule authors here:

    python -m transcribe_guard.rule_checks [--root DIR] [--rule NAME ...]

They judge the ``rules`` package that Python imports (run from the root checked, so that it is the
root's) and the files under ``root``: the committed pack, rdk_config/, tests/ and the generated files.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, TextIO

BUILD_HINT = "run `python -m transcribe_guard.cli build`"


def _registry() -> dict[str, Any]:
    from rules.catalog.registry import RULES

    return dict(RULES)


def _selected(names: Iterable[str] | None) -> list[str]:
    rules = _registry()
    return sorted(rules) if names is None else list(names)


def location_problems(root: Path) -> list[str]:
    """The imported ``rules`` package must be root's own, or every other check judges another tree."""
    import rules

    imported = Path(rules.__file__).resolve().parent
    expected = (root / "rules").resolve()
    return [] if imported == expected else [f"rules is imported from {imported}, not {expected}: run from {root}."]


def metadata_problems(names: Iterable[str] | None = None) -> list[str]:
    """Each rule's METADATA validates against rules/catalog/registry.schema.json."""
    import jsonschema

    from rules.catalog.registry import metadata_schema

    rules, schema, found = _registry(), metadata_schema(), []
    for name in _selected(names):
        if name not in rules:
            found.append(f"{name}: no such rule in the registry.")
            continue
        for error in jsonschema.Draft202012Validator(schema).iter_errors(rules[name].METADATA):
            where = "/".join(map(str, error.absolute_path)) or "<root>"
            found.append(f"{name}: METADATA {where}: {error.message}")
        if rules[name].METADATA.get("name") != name:
            found.append(f"{name}: METADATA name is {rules[name].METADATA.get('name')!r}.")
    return found


SCENARIO = re.compile(r"^\s+(\d+)\. Given ", flags=re.MULTILINE)


def module_problems(root: Path, names: Iterable[str] | None = None) -> list[str]:
    """The rule module opens with its scenario docstring (first line its name, scenarios numbered
    1..N), marks where each scenario is decided, has a lambda_handler, and has a test module with
    test_scenario tests."""
    from rules.catalog.registry import module_name

    found = []
    for name in _selected(names):
        module = importlib.import_module(f"rules.{module_name(name)}")
        where = f"rules/{module_name(name)}.py"
        doc = module.__doc__ or ""
        if not doc.strip() or doc.splitlines()[0].strip() != name:
            found.append(f"{where}: the module docstring must start with the rule name {name!r}.")
        scenarios = SCENARIO.findall(doc)
        if not scenarios or scenarios != [str(i) for i in range(1, len(scenarios) + 1)]:
            found.append(f"{where}: the docstring's scenarios must be numbered 1..N as '    1. Given ...' "
                         f"(found {scenarios or 'none'}).")
        if not callable(getattr(module, "lambda_handler", None)):
            found.append(f"{where}: no lambda_handler function.")
        if "# Scenario" not in Path(str(module.__file__)).read_text(encoding="utf-8"):
            found.append(f"{where}: the code must mark where each scenario is decided with '# Scenario N'.")
        test_module = root / "tests" / f"test_{module_name(name)}.py"
        if not test_module.exists():
            found.append(f"tests/{test_module.name}: missing; every rule has its own test module.")
        elif "def test_scenario" not in test_module.read_text(encoding="utf-8"):
            found.append(f"tests/{test_module.name}: no test_scenario<N>_... tests citing the scenarios.")
    return found


def pack_problems(root: Path, names: Iterable[str] | None = None) -> list[str]:
    """Each rule is in the committed conformance-pack.yaml and has rdk_config/<name>/parameters.json."""
    import yaml

    pack_path, found = root / "conformance-pack.yaml", []
    pack = yaml.safe_load(pack_path.read_text(encoding="utf-8")) if pack_path.exists() else {}
    in_pack = {r["Properties"]["ConfigRuleName"] for r in (pack or {}).get("Resources", {}).values()
               if r.get("Type") == "AWS::Config::ConfigRule"}
    for name in _selected(names):
        if name not in in_pack:
            found.append(f"conformance-pack.yaml: no ConfigRule {name}; {BUILD_HINT}.")
        if not (root / "rdk_config" / name / "parameters.json").exists():
            found.append(f"rdk_config/{name}/parameters.json: missing; {BUILD_HINT}.")
    return found


def generated_problems(root: Path) -> list[str]:
    """Every generated file matches what the registry gives (transcribe_guard/generate.py)."""
    from transcribe_guard import generate  # it imports the registry: not before main() has reported on it

    return [f"{path.relative_to(root).as_posix()}: stale or missing generated file; {BUILD_HINT}."
            for path in generate.stale_files(root)]


def observed_actions(rule_class: Any, parameter_sets: Sequence[Mapping[str, str]]) -> set[str]:
    """The IAM actions of every AWS call the rule makes on the simulated demo account, one run per
    parameter set (a botocore event hook records them)."""
    from rdklib import ClientFactory

    from transcribe_guard.iam_actions import recording
    from transcribe_guard.simulator import Simulator

    actions: set[str] = set()
    for parameters in parameter_sets:
        with Simulator(seed="demo"):
            rule = rule_class()
            valid = rule.evaluate_parameters(dict(parameters))
            with recording() as recorder:
                rule.evaluate_periodic({"accountId": "123456789012"}, ClientFactory(None, assume_role_mode=False), valid)
            actions |= recorder.actions
    return actions


def iam_action_problems(names: Iterable[str] | None = None,
                        exercise: Mapping[str, Sequence[Mapping[str, str]]] | None = None) -> list[str]:
    """Least privilege: the actions a rule calls on the demo account equal its declared iam_actions.
    ``exercise``: parameter sets per rule (default: one run without parameters)."""
    rules, found = _registry(), []
    for name in _selected(names):
        declared = set(rules[name].METADATA["iam_actions"])
        observed = observed_actions(rules[name], (exercise or {}).get(name, [{}]))
        if observed - declared:
            found.append(f"{name}: calls actions missing from METADATA iam_actions: {sorted(observed - declared)}.")
        if declared - observed:
            found.append(f"{name}: declares iam_actions it never called on the demo account: "
                         f"{sorted(declared - observed)}.")
    return found


def problems(root: Path, names: Iterable[str] | None = None, iam: bool = True) -> list[str]:
    """All of the above: per-rule checks for ``names`` (default every rule), generated files for all."""
    selected = _selected(names)
    found = location_problems(root)
    if found:
        return found
    found += metadata_problems(selected)
    if found:  # later checks read METADATA
        return found
    found += module_problems(root, selected) + pack_problems(root, selected) + generated_problems(root)
    if iam:
        found += iam_action_problems(selected)
    return found


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m transcribe_guard.rule_checks",
                                     description="Check that every rule (or the named ones) is complete.")
    parser.add_argument("--root", default=".", help="repository root (default: current directory)")
    parser.add_argument("--rule", action="append", metavar="NAME", help="check only this rule (repeatable)")
    parser.add_argument("--no-iam", action="store_true", help="skip the least-privilege run on the simulator")
    args = parser.parse_args(argv)
    try:
        importlib.import_module("rules.catalog.registry")  # discovery imports every rule module
    except Exception as error:  # RegistryError names the module; a broken rule module fails here too
        out.write(f"registry: {type(error).__name__}: {error}\n")
        return 1
    found = problems(Path(args.root), args.rule, iam=not args.no_iam)
    for problem in found:
        out.write(f"{problem}\n")
    if not found:
        out.write(f"ok: {len(args.rule or _registry())} rule(s) complete.\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
