"""The organization path of docs/deployment.md, run as pasted (bash and the AWS CLI) against the
simulator served on loopback: the management account's block, then the delegated
administrator's, then the rules evaluated and read back through the aggregator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from transcribe_guard import deploy
from transcribe_guard.simulator import SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deployment.md"
REGIONS = ["us-east-1", "eu-west-1"]


def block(marker: str) -> str:
    """The ```sh block right after ``<!-- marker ... -->``."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- not-run: " + re.escape(marker) + r"\b[^>]*-->\n```sh\n(.*?)\n```", text, re.S)
    assert match, f"no block {marker} in {DOC}"
    return match.group(1)


def aws_cli_directory() -> str:
    """Where the AWS CLI is; through pyenv's shim each call costs half a second more, so the real one."""
    found = shutil.which("aws")
    assert found, "the AWS CLI (aws) is needed to run the documented commands"
    if "/shims/" in found:
        real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True, check=True).stdout.strip()
        return str(Path(real).parent)
    return str(Path(found).parent)


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The project's CLI from this checkout (never the console script of another one).
    script = script.replace(".venv/bin/transcribe-guard", f"{sys.executable} -m transcribe_guard.cli")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600)


def client(server: SimulatorServer, service: str, credentials: dict[str, str] | None = None,
           region: str = REGIONS[0]) -> Any:
    if credentials is None:
        return server.client(service, region)
    return boto3.client(service, region_name=region, endpoint_url=server.url,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def test_the_documented_organization_path_runs_against_the_simulator(tmp_path: Path) -> None:
    server = SimulatorServer(port=0, seed="empty").start()
    try:
        org = server.client("organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        ous = {name: org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
               for name in ("security", "workloads")}
        accounts = {}
        for name, ou in (("admin", "security"), ("member", "workloads")):
            accounts[name] = org.create_account(AccountName=name, Email=f"{name}@example.com")[
                "CreateAccountStatus"]["AccountId"]
            org.move_account(AccountId=accounts[name], SourceParentId=root, DestinationParentId=ous[ou])
        admin = accounts["admin"]
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        base.update({"AWS_ENDPOINT_URL": server.url, "AWS_DEFAULT_REGION": REGIONS[0], "AWS_CONFIG_FILE": "/dev/null",
                     "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "HOME": str(tmp_path),
                     "PATH": aws_cli_directory() + os.pathsep + os.environ.get("PATH", "")})

        management = run(block("organization-management"),
                         {**base, "ADMIN": admin, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        assert management.returncode == 0, management.stderr
        delegated = org.list_delegated_administrators()["DelegatedAdministrators"]
        assert [a["Id"] for a in delegated] == [admin]

        credentials = server.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{admin}:role/OrganizationAccountAccessRole", RoleSessionName="docs")["Credentials"]
        as_admin = {**base, "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": credentials["SessionToken"]}
        done = run(block("organization-admin"), as_admin)
        assert done.returncode == 0, done.stderr[-3000:]

        # What the commands built: the functions in the administrator account in each Region,
        # the member role in the accounts below the root, the pack in every account and Region.
        for region in REGIONS:
            functions = client(server, "lambda", credentials, region).list_functions()["Functions"]
            assert {"transcribe-job-output-location"} <= {f["FunctionName"] for f in functions}
            assert all(f["Role"] == f"arn:aws:iam::{admin}:role/transcribe-guard-functions" for f in functions)
        iam = client(server, "iam", credentials)
        assert {f"transcribe-guard-{r}" for r in REGIONS} <= set(
            iam.list_role_policies(RoleName="transcribe-guard-functions")["PolicyNames"])
        instances = client(server, "cloudformation", credentials).list_stack_instances(
            StackSetName="transcribe-guard-member-role")["Summaries"]
        assert sorted(i["Account"] for i in instances) == sorted(accounts.values())  # not the management account
        packs = client(server, "config", credentials).get_organization_conformance_pack_detailed_status(
            OrganizationConformancePackName=deploy.PACK_NAME)["OrganizationConformancePackDetailedStatuses"]
        assert {p["AccountId"] for p in packs} == {*accounts.values(), "123456789012"}

        # The rules run (in AWS on their schedule), then the documented view shows them.
        from transcribe_guard.simulator import organization_config
        assert organization_config.evaluate_organization_pack(admin, REGIONS, deploy.PACK_NAME,
                                                              ["transcribe-config-recording"]) == 6
        view = run(".venv/bin/transcribe-guard compliance --aggregator transcribe-guard-organization --format json",
                   as_admin)
        assert view.returncode == 3, view.stderr
        report = json.loads(view.stdout)
        assert {(a["account"], a["region"]) for a in report["accounts"]} == {
            (account, region) for account in (*accounts.values(), "123456789012") for region in REGIONS}
        assert report["rules"]["transcribe-config-recording"] == "NON_COMPLIANT"  # no recorder anywhere
    finally:
        server.stop()
