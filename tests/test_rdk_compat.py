"""rdk_config/ works with the RDK CLI: `rdk create-rule-template --rules-only` (offline) yields the
same custom rules, triggers and parameters as our conformance pack."""

from __future__ import annotations

import json
from typing import Any
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rules.catalog.registry import RULES
from transcribe_guard.generate import conformance_pack

ROOT = Path(__file__).resolve().parent.parent


def test_rdk_template_matches_our_pack(tmp_path: Path) -> None:
    for folder in (ROOT / "rdk_config").iterdir():
        shutil.copytree(folder, tmp_path / folder.name)
    rdk = Path(sys.executable).parent / "rdk"
    # No credentials, no reachable endpoint: the template must be built offline.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "none", "AWS_SECRET_ACCESS_KEY": "none", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    result = subprocess.run([str(rdk), "create-rule-template", "--rules-only", "-a", "-o", "rdk.json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rdk_rules = {r["Properties"]["ConfigRuleName"]: r["Properties"]
                 for r in json.loads((tmp_path / "rdk.json").read_text())["Resources"].values()
                 if r["Type"] == "AWS::Config::ConfigRule"}
    ours = {r["Properties"]["ConfigRuleName"]: r["Properties"] for r in conformance_pack()["Resources"].values()
            if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["Owner"] == "CUSTOM_LAMBDA"}
    assert set(rdk_rules) == set(ours) == set(RULES)
    parameters = conformance_pack()["Parameters"]

    def resolved(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Our pack's frequency may be a parameter (JobRulesFrequency): its default is the rule's."""
        return [{k: parameters[v["Ref"]]["Default"] if isinstance(v, dict) else v for k, v in d.items()}
                for d in details]

    for name, theirs in rdk_rules.items():
        assert theirs["Source"]["Owner"] == "CUSTOM_LAMBDA"
        assert theirs["Source"]["SourceDetails"] == resolved(ours[name]["Source"]["SourceDetails"])
        assert theirs["Description"] == ours[name]["Description"]
        # Our pack adds rdklib's role parameters to every rule; the rule's own parameters match.
        own = set(ours[name]["InputParameters"]) - {"ExecutionRoleName", "AssumeRoleMode"}
        assert set(theirs.get("InputParameters", {})) == own
