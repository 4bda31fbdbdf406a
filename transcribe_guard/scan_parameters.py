"""Which rules a scan runs and with which parameters: the ``--rule`` names, a ``--parameters`` file
read and validated by each rule's own ``evaluate_parameters``, and the demo account's policy.
``scan`` and ``evidence --from scan`` both come here; errors are ``UsageError`` (exit 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from transcribe_guard.scan import UsageError

# The demo account's policy for rules whose parameters are required (its seed tags resources with
# DataClassification and CostCenter); a --parameters file overrides it.
DEMO_PARAMETERS: dict[str, dict[str, str]] = {
    "transcribe-resource-tagged": {"RequiredTags": "DataClassification=confidential|restricted,CostCenter"},
}


@dataclass
class ScanSelection:
    parameters: dict[str, dict[str, Any]]  # rule name -> validated parameters, in run order
    skipped: list[str]  # one notice per rule left out for want of required parameters

    @property
    def rule_names(self) -> list[str]:
        return list(self.parameters)


def select_rules(names: Sequence[str] | None) -> list[str]:
    """The rules named (each once, in the order given), or all of them."""
    from rules.catalog.registry import RULES

    chosen = list(dict.fromkeys(names or RULES))
    for name in chosen:
        if name not in RULES:
            raise UsageError(f"--rule {name}: unknown rule; known rules: {', '.join(RULES)}.")
    return chosen


def missing_required(name: str, given: dict[str, Any]) -> list[str]:
    from rules.catalog.registry import RULES
    return [p for p in RULES[name].METADATA["parameters"].get("required", []) if not str(given.get(p) or "").strip()]


def load_parameters(path: str | None, rule_names: Sequence[str], defaults: dict[str, dict[str, str]] | None = None,
                    skip_unconfigured: bool = False) -> dict[str, dict[str, Any]]:
    """Read and validate a parameters file: {"rule-name": {"ParamName": "value"}}, over ``defaults``.
    With ``skip_unconfigured``, a rule the file does not name and whose required parameters have
    no value is left out of the result instead of being a usage error."""
    from rdklib import InvalidParametersError

    from rules.catalog.registry import RULES

    raw: Any = {}
    if path:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise UsageError(f"--parameters {path}: cannot read the file ({error.strerror}).") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise UsageError(f"--parameters {path}: not valid JSON ({error}).") from None
        if not isinstance(raw, dict):
            raise UsageError(f"--parameters {path}: expected a JSON object of rule names to parameter objects.")
    validated: dict[str, dict[str, Any]] = {}
    for name in raw:
        if name not in RULES:
            raise UsageError(f"--parameters {path}: unknown rule {name!r}; known rules: {', '.join(RULES)}.")
        if not isinstance(raw[name], dict):
            raise UsageError(f"--parameters {path}: rule {name}: expected an object of parameter names to strings.")
    for name in rule_names:
        given = {**(defaults or {}).get(name, {}), **raw.get(name, {})}
        if skip_unconfigured and name not in raw and missing_required(name, given):
            continue
        try:
            validated[name] = RULES[name]().evaluate_parameters(given)
        except InvalidParametersError as error:
            raise UsageError(f"{f'--parameters {path}' if path else 'no --parameters'}: rule {name}: {error}") from None
    return validated


def scan_selection(rules: Sequence[str] | None, path: str | None, demo: bool) -> ScanSelection:
    """The rules to run and their parameters. Scanning all rules skips those that need parameters
    nobody gave (with a notice); a rule named in ``rules`` is run or refused."""
    names = select_rules(rules)
    parameters = load_parameters(path, names, DEMO_PARAMETERS if demo else None, skip_unconfigured=not rules)
    skipped = [f"skipped {name}: set {', '.join(missing_required(name, {}))} with --parameters."
               for name in names if name not in parameters]
    return ScanSelection(parameters, skipped)
