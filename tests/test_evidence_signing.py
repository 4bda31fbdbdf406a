"""Signed evidence bundles, what ran, and periods (issue 18, items 1-3), against the simulator's
KMS, Config and Lambda: a forged bundle (evidence.json changed, every hash and manifest_sha256
recomputed) fails `verify --public-key` and `--kms-key`; a genuine one passes; an unsigned bundle
never prints the verified line; the manifest names who collected and the deployed functions'
code; a saved scan keeps its scan time and a period with no result fails."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from cryptography.hazmat.primitives import serialization

from rules.catalog.registry import RULES
from transcribe_guard import cli, deploy, evidence, evidence_signing, render, scan, templates
from transcribe_guard.scan_parameters import DEMO_PARAMETERS, load_parameters
from transcribe_guard.simulator import Simulator
from transcribe_guard.templates import signing_key_template

from .test_deploy import required_pack_parameters

COLLECTOR = "arn:aws:iam::123456789012:role/evidence-collector"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo account with an ECC and an RSA signing key, the pack deployed, a saved scan, and
    signed and unsigned bundles; the simulator stays up for --kms-key checks."""
    root = tmp_path_factory.mktemp("signed")
    with Simulator(seed="demo") as sim:
        kms = sim.client("kms")
        keys = {spec: kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["Arn"]
                for spec in ("ECC_NIST_P256", "RSA_2048")}
        kms.create_alias(AliasName="alias/transcribe-guard-evidence", TargetKeyId=keys["ECC_NIST_P256"])
        encrypting = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="RSA_2048")["KeyMetadata"]["Arn"]
        public = {spec: kms.get_public_key(KeyId=arn)["PublicKey"] for spec, arn in keys.items()}
        (root / "ecc.der").write_bytes(public["ECC_NIST_P256"])
        (root / "ecc.pem").write_bytes(serialization.load_der_public_key(public["ECC_NIST_P256"]).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        (root / "rsa.der").write_bytes(public["RSA_2048"])
        rules = list(RULES)
        results = scan.run_scan(rules, load_parameters(None, rules, DEMO_PARAMETERS))
        (root / "scan.json").write_text(render.render(results, "json", rules), encoding="utf-8")
        assert run("evidence", "--from", str(root / "scan.json"), "--output", str(root / "signed"), "--quiet",
                   "--sign-key", "alias/transcribe-guard-evidence")[0] == cli.EXIT_NON_COMPLIANT
        assert run("evidence", "--from", str(root / "scan.json"), "--output", str(root / "unsigned"),
                   "--quiet")[0] == cli.EXIT_NON_COMPLIANT
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        deploy.start_evaluation(sim.client("config"), done.pack_name)
        code, summary, err = run("evidence", "--from", "config", "--output", str(root / "config"), "--zip", "--quiet",
                                 "--sign-key", keys["RSA_2048"], "--framework", "hipaa")
        assert code == cli.EXIT_NON_COMPLIANT, err
        yield {"root": root, "keys": keys, "public": public, "encrypting": encrypting, "sim": sim,
               "pack": done.pack_name, "results": results, "config_summary": summary}


def forge(bundle: Path, target: Path) -> Path:
    """Every result COMPLIANT in evidence.json, every file hash and manifest_sha256 recomputed."""
    forged = Path(shutil.copytree(bundle, target))
    document = json.loads((forged / "evidence.json").read_text(encoding="utf-8"))
    for row in document["results"]:
        row["compliance"] = "COMPLIANT"
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    (forged / "evidence.json").write_bytes(data)
    manifest = json.loads((forged / evidence.MANIFEST).read_bytes())
    for item in manifest["files"]:
        if item["name"] == "evidence.json":
            item.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    manifest["manifest_sha256"] = evidence._manifest_hash(manifest)
    (forged / evidence.MANIFEST).write_bytes(evidence._canonical(manifest))
    return forged


def test_a_genuine_signed_bundle_verifies_offline_and_with_kms(signed: dict[str, Any]) -> None:
    bundle = signed["root"] / "signed"
    for key_file in ("ecc.pem", "ecc.der"):
        code, out, _ = run("evidence", "verify", str(bundle), "--public-key", str(signed["root"] / key_file))
        assert code == cli.EXIT_OK, out
        assert out.splitlines()[-1] == f"Verified: {bundle} is unchanged and signed by the trusted key."
        assert f"OK {evidence_signing.SIGNATURE_FILE}  signed by key {signed['keys']['ECC_NIST_P256']}, ECDSA_SHA_256" in out
    code, out, _ = run("evidence", "verify", str(bundle), "--kms-key", "alias/transcribe-guard-evidence")
    assert code == cli.EXIT_OK and out.splitlines()[-1].startswith("Verified:"), out
    signature = json.loads((bundle / evidence_signing.SIGNATURE_FILE).read_text())
    manifest = json.loads((bundle / evidence.MANIFEST).read_text())
    fingerprint = hashlib.sha256(signed["public"]["ECC_NIST_P256"]).hexdigest()
    assert manifest["signature"] == {"file": "manifest.sig", "key_arn": signed["keys"]["ECC_NIST_P256"],
                                     "signing_algorithm": "ECDSA_SHA_256", "public_key_sha256": fingerprint}
    assert signature["message_type"] == "RAW"  # a scan bundle's manifest is under 4096 bytes
    assert signature["signed_sha256"] == hashlib.sha256((bundle / evidence.MANIFEST).read_bytes()).hexdigest()


def test_a_forged_bundle_with_every_hash_recomputed_fails_verify(signed: dict[str, Any], tmp_path: Path) -> None:
    forged = forge(signed["root"] / "signed", tmp_path / "forged")
    # Against itself it is intact: exactly the attack the signature is for.
    code, out, _ = run("evidence", "verify", str(forged))
    assert code == cli.EXIT_UNAUTHENTICATED and "INTEGRITY ONLY" in out.splitlines()[-1]
    assert "NOT CHECKED" in out and "Verified" not in out
    for anchor in (["--public-key", str(signed["root"] / "ecc.pem")], ["--kms-key", signed["keys"]["ECC_NIST_P256"]]):
        code, out, _ = run("evidence", "verify", str(forged), *anchor)
        assert code == cli.EXIT_FAILED, out
        assert "CHANGED manifest.sig (the signature does not match manifest.json" in out
        assert out.splitlines()[-1].startswith("FAILED:")


def test_unsigned_never_prints_the_verified_line(signed: dict[str, Any]) -> None:
    bundle = signed["root"] / "unsigned"
    code, out, _ = run("evidence", "verify", str(bundle))
    assert code == cli.EXIT_UNAUTHENTICATED == 4
    assert out.splitlines()[-1].startswith(f"INTEGRITY ONLY: {bundle} matches its own manifest, but its origin is NOT "
                                           "authenticated (it is not signed)")
    assert "Verified" not in out
    code, out, _ = run("evidence", "verify", str(bundle), "--public-key", str(signed["root"] / "ecc.pem"))
    assert code == cli.EXIT_FAILED and "MISSING manifest.sig (the bundle is not signed" in out


def test_stripped_swapped_or_wrong_key_signatures_fail(signed: dict[str, Any], tmp_path: Path) -> None:
    stripped = Path(shutil.copytree(signed["root"] / "signed", tmp_path / "stripped"))
    (stripped / evidence_signing.SIGNATURE_FILE).unlink()
    code, out, _ = run("evidence", "verify", str(stripped))
    assert code == cli.EXIT_FAILED and "MISSING manifest.sig (it names a signing key)" in out
    # The signature file added to an unsigned bundle: its manifest names no key.
    grafted = Path(shutil.copytree(signed["root"] / "unsigned", tmp_path / "grafted"))
    shutil.copy(signed["root"] / "signed" / evidence_signing.SIGNATURE_FILE, grafted)
    assert run("evidence", "verify", str(grafted))[0] == cli.EXIT_FAILED
    # Another key's public key: named as not the signer before any signature check.
    code, out, _ = run("evidence", "verify", str(signed["root"] / "signed"), "--public-key",
                       str(signed["root"] / "rsa.der"))
    assert code == cli.EXIT_FAILED and "CHANGED manifest.sig (signed by public key sha256" in out
    code, out, _ = run("evidence", "verify", str(signed["root"] / "signed"), "--kms-key", signed["keys"]["RSA_2048"])
    assert code == cli.EXIT_FAILED, out


@pytest.mark.parametrize("content", [b"not json", b"[]", b'{"signature": "%%%"}', b'{"signature": "AAAA"}',
                                     "\u202e".encode()])
def test_a_hostile_signature_file_fails_with_a_reason_never_an_error(signed: dict[str, Any], tmp_path: Path,
                                                                     content: bytes) -> None:
    bundle = Path(shutil.copytree(signed["root"] / "signed", tmp_path / "b"))
    (bundle / evidence_signing.SIGNATURE_FILE).write_bytes(content)
    for anchor in ([], ["--public-key", str(signed["root"] / "ecc.pem")]):
        code, out, _ = run("evidence", "verify", str(bundle), *anchor)
        assert code == cli.EXIT_FAILED and "CHANGED manifest.sig (" in out, out


def test_config_bundle_is_signed_as_a_digest_and_names_what_ran(signed: dict[str, Any]) -> None:
    archive = signed["root"] / "config.zip"
    code, out, _ = run("evidence", "verify", str(archive), "--public-key", str(signed["root"] / "rsa.der"))
    assert code == cli.EXIT_OK, out
    with zipfile.ZipFile(archive) as opened:
        files = {i.filename.split("/", 1)[1]: opened.read(i) for i in opened.infolist()}
    assert list(files) == ["evidence.json", "evidence.csv", "report.html", "report.pdf", "manifest.json", "manifest.sig"]
    assert len(files["manifest.json"]) > evidence_signing.MAX_RAW_MESSAGE_BYTES
    assert json.loads(files["manifest.sig"])["message_type"] == "DIGEST"
    assert json.loads(files["manifest.sig"])["signing_algorithm"] == "RSASSA_PSS_SHA_256"
    manifest = json.loads(files["manifest.json"])
    assert manifest["collected_by"] == "arn:aws:sts::123456789012:user/moto"  # the simulator's caller
    assert (manifest["accounts"], manifest["regions"]) == (["123456789012"], ["us-east-1"])
    package = base64.b64encode(bytes.fromhex(manifest["rule_code_sha256"])).decode()
    assert [f["rule"] for f in manifest["deployed_functions"]] == sorted(RULES)
    assert {(f["code_sha256"], f["version"], f["matches_package"]) for f in manifest["deployed_functions"]} == {
        (package, "$LATEST", True)}
    assert manifest["code_mismatches"] == [] and "signed with " + signed["keys"]["RSA_2048"] in signed["config_summary"]


def test_a_function_running_other_code_is_a_mismatch_in_bundle_and_report(signed: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    lam = signed["sim"].client("lambda")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("rules/transcribe_ai_opt_out.py", "def lambda_handler(event, context):\n    return None\n")
    lam.update_function_code(FunctionName="transcribe-ai-opt-out", ZipFile=other.getvalue())
    try:
        code, out, err = run("evidence", "--from", "config", "--output", str(tmp_path / "b"), "--quiet",
                             "--framework", "soc2")
    finally:
        lam.update_function_code(FunctionName="transcribe-ai-opt-out", ZipFile=_package())
    assert code == cli.EXIT_NON_COMPLIANT, err
    notice = "CODE MISMATCH: 1 deployed function(s) do not run the rule code package (rule_code_sha256): " \
             "transcribe-ai-opt-out."
    assert out.splitlines()[0] == notice
    document = json.loads((tmp_path / "b" / "evidence.json").read_text())
    assert document["collection"]["code_mismatches"] == ["transcribe-ai-opt-out"]
    wrong = next(f for f in document["collection"]["deployed_functions"] if f["rule"] == "transcribe-ai-opt-out")
    assert wrong["code_sha256"] == base64.b64encode(hashlib.sha256(other.getvalue()).digest()).decode()
    assert not wrong["matches_package"] and wrong["problem"]
    manifest = json.loads((tmp_path / "b" / evidence.MANIFEST).read_text())
    assert manifest["code_mismatches"] == ["transcribe-ai-opt-out"]
    page = (tmp_path / "b" / "report.html").read_text()
    body = page.split("<body>", 1)[1].lstrip()
    assert body.startswith(f'<p class="notice" role="alert">{notice}</p>')


def _package() -> bytes:
    from transcribe_guard.package import build_zip
    return build_zip()


def test_saved_scan_keeps_its_scan_time_and_an_empty_period_fails(signed: dict[str, Any], tmp_path: Path) -> None:
    saved = signed["root"] / "scan.json"
    times = [r["evaluated_at"] for r in signed["results"]]
    document = json.loads((signed["root"] / "signed" / "evidence.json").read_text())
    assert sorted(r["recorded_at"] for r in document["results"]) == sorted(times)
    assert document["collection"]["collected_by"] is None
    assert document["collection"]["deployed_functions"] is None
    assert document["collection"]["deployed_functions_note"].startswith("--from a saved scan: no deployed function ran")
    day = min(times)[:10]
    code, _, _ = run("evidence", "--from", str(saved), "--period", f"{day}..{day}", "--output", str(tmp_path / "in"),
                     "--quiet")
    assert code == cli.EXIT_NON_COMPLIANT
    assert len(json.loads((tmp_path / "in" / "evidence.json").read_text())["results"]) == len(times)
    code, out, err = run("evidence", "--from", str(saved), "--period", "2026-01-01..2026-03-31", "--output",
                         str(tmp_path / "empty"), "--quiet")
    assert code == cli.EXIT_USAGE and not (tmp_path / "empty").exists()
    assert err == (f"transcribe-guard: --period 2026-01-01..2026-03-31: no result of saved scan scan.json was recorded "
                   f"in the period ({len(times)} results outside it); give --allow-empty to write an empty bundle "
                   "anyway.\n")
    code, out, err = run("evidence", "--from", str(saved), "--period", "2026-01-01..2026-03-31", "--allow-empty",
                         "--output", str(tmp_path / "empty"), "--quiet")
    assert code == cli.EXIT_OK, err
    assert out.startswith("EMPTY: no result was recorded in the period 2026-01-01..2026-03-31")
    body = (tmp_path / "empty" / "report.html").read_text().split("<body>", 1)[1].lstrip()
    assert body.startswith('<p class="notice" role="alert">EMPTY: no result was recorded in the period')


def test_a_saved_scan_without_scan_times_is_refused(tmp_path: Path) -> None:
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"evaluations": [{"rule": "transcribe-ai-opt-out", "resource_type": "AWS::::Account",
                                                  "resource_id": "123456789012", "compliance": "COMPLIANT"}]}))
    code, _, err = run("evidence", "--from", str(saved), "--output", str(tmp_path / "b"), "--quiet")
    assert code == cli.EXIT_USAGE and "evaluations[0] has no scan time (evaluated_at" in err
    assert len(err.strip().splitlines()) == 1


def test_sign_key_must_be_an_asymmetric_signing_key(signed: dict[str, Any], tmp_path: Path) -> None:
    code, _, err = run("evidence", "--from", str(signed["root"] / "scan.json"), "--output", str(tmp_path / "b"),
                       "--quiet", "--sign-key", signed["encrypting"])
    assert code == cli.EXIT_USAGE and "its key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY" in err
    code, _, err = run("evidence", "verify", str(signed["root"] / "signed"), "--public-key", str(signed["root"] / "scan.json"))
    assert code == cli.EXIT_USAGE and "not a PEM or DER public key" in err


def test_signing_and_kms_verify_need_only_the_documented_actions(signed: dict[str, Any]) -> None:
    from transcribe_guard.iam_actions import recording

    manifest = (signed["root"] / "signed" / evidence.MANIFEST).read_bytes()
    with recording() as recorder:
        signature = evidence_signing.signer(boto3._get_default_session(), signed["keys"]["RSA_2048"]).sign(manifest)
    assert recorder.actions == set(evidence_signing.SIGN_ACTIONS)
    with recording() as recorder:  # clients made while recording are recorded
        anchor = evidence_signing.TrustAnchor(kms=boto3.client("kms"), kms_key_id=signed["keys"]["RSA_2048"])
        lines, authenticated = evidence_signing.check_signature(
            {"signature": {**json.loads(signature), "file": "manifest.sig"}}, manifest, signature, anchor)
    assert authenticated and recorder.actions == set(evidence_signing.VERIFY_ACTIONS), lines


def test_verify_with_an_unknown_kms_key_or_two_anchors_fails_clearly(signed: dict[str, Any]) -> None:
    bundle = str(signed["root"] / "signed")
    code, out, err = run("evidence", "verify", bundle, "--kms-key", "alias/no-such-key")
    assert code == cli.EXIT_FAILED and "could not verify with --kms-key alias/no-such-key" in err and "Verified" not in out
    code, _, err = run("evidence", "verify", bundle, "--kms-key", "alias/transcribe-guard-evidence", "--public-key",
                       str(signed["root"] / "ecc.pem"))
    assert code == cli.EXIT_USAGE and "not allowed with argument" in err


def test_simulated_kms_signs_digests_and_refuses_bad_signatures_as_aws_does(signed: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    kms = signed["sim"].client("kms")
    key = signed["keys"]["ECC_NIST_P256"]
    message = b"x" * 5000
    digest = hashlib.sha256(message).digest()
    answer = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert answer["KeyId"] == key
    assert evidence_signing._offline_valid(signed["public"]["ECC_NIST_P256"], "ECDSA_SHA_256", answer["Signature"],
                                           message)
    with pytest.raises(ClientError, match="KMSInvalidSignatureException"):
        kms.verify(KeyId=key, Message=hashlib.sha256(b"other").digest(), MessageType="DIGEST",
                   Signature=answer["Signature"], SigningAlgorithm="ECDSA_SHA_256")
    assert kms.get_public_key(KeyId="alias/transcribe-guard-evidence")["KeyId"] == key  # the key ARN, as in AWS


def test_signing_key_template_lets_only_the_collector_sign() -> None:
    key = signing_key_template()["Resources"]["EvidenceSigningKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    allowed_sign = [s for s in statements.values() if s["Effect"] == "Allow" and "kms:Sign" in s["Action"]]
    assert [s["Principal"] for s in allowed_sign] == [{"AWS": {"Ref": "CollectorRoleArn"}}]
    assert statements["NoOneElseSigns"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Ref": "CollectorRoleArn"}}}
    account = statements["AccountReadsThePublicKeyAndVerifies"]
    assert sorted(account["Action"]) == ["kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"]
    admin = statements["AdministratorsManageTheKey"]["Action"]
    assert not {"kms:Sign", "kms:Verify", "kms:CreateGrant", "kms:*"} & set(admin)


def test_a_function_that_cannot_be_read_is_a_mismatch_not_a_pass() -> None:
    """Fail closed: GetFunction refused (or the function gone) is never taken for the package."""
    from botocore.exceptions import ClientError

    from transcribe_guard import evidence_provenance

    package = hashlib.sha256(b"package").hexdigest()

    class Config:
        def describe_config_rules(self, **request: Any) -> dict[str, Any]:
            assert len(request["ConfigRuleNames"]) <= 25
            return {"ConfigRules": [
                {"ConfigRuleName": name, "Source": {"Owner": "CUSTOM_LAMBDA" if "managed" not in name else "AWS",
                                                    "SourceIdentifier": f"arn:aws:lambda:us-east-1:123456789012:function:{name}"}}
                for name in request["ConfigRuleNames"]]}

    class Lambda:
        def get_function(self, FunctionName: str) -> dict[str, Any]:
            if FunctionName.endswith("gone"):
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": ""}}, "GetFunction")
            rule = FunctionName.rsplit(":", 1)[1].removesuffix("-pack")
            return {"Configuration": {"Version": "$LATEST", "Handler": templates.handler(rule),
                                      "CodeSha256": base64.b64encode(hashlib.sha256(b"package").digest()).decode()}}

    class Session:
        def client(self, name: str) -> Any:
            return {"config": Config(), "lambda": Lambda()}[name]

    names = {f"rule-{i:02d}": f"rule-{i:02d}-pack" for i in range(30)} | {"gone": "gone", "managed": "managed"}
    records = evidence_provenance.deployed_functions(Session(), names, package)
    assert len(records) == 31  # past one DescribeConfigRules batch of 25; the managed rule runs no function
    gone = next(r for r in records if r["rule"] == "gone")
    assert gone["problem"] == "Could not read the function: ResourceNotFoundException" and not gone["matches_package"]
    assert evidence_provenance.mismatches(records) == ["gone"]


def test_a_pack_custom_rule_that_runs_no_function_of_ours_is_a_mismatch() -> None:
    """Fail closed: a registry custom rule whose Config rule is a Guard policy (CUSTOM_POLICY) or an
    AWS managed rule, or that DescribeConfigRules does not return, runs none of the package's code;
    skipping it would let the bundle say every deployed function matched."""
    from transcribe_guard import evidence_provenance

    package = hashlib.sha256(b"package").hexdigest()
    owners = {"transcribe-ai-opt-out-pack": "CUSTOM_POLICY", "transcribe-bucket-encrypted-pack": "AWS",
              "transcribe-bucket-tls-enforced-pack": "CUSTOM_LAMBDA", "managed-pack": "AWS"}

    class Config:
        def describe_config_rules(self, **request: Any) -> dict[str, Any]:
            return {"ConfigRules": [
                {"ConfigRuleName": name, "Source": {"Owner": owners[name], "SourceIdentifier": f"fn-{name}"}}
                for name in request["ConfigRuleNames"] if name in owners]}  # the last rule is not returned

    class Lambda:
        def get_function(self, FunctionName: str) -> dict[str, Any]:
            return {"Configuration": {"Version": "$LATEST", "Handler": templates.handler(FunctionName[3:-5]),
                                      "CodeSha256": base64.b64encode(hashlib.sha256(b"package").digest()).decode()}}

    class Session:
        def client(self, name: str) -> Any:
            return {"config": Config(), "lambda": Lambda()}[name]

    names = {"transcribe-ai-opt-out": "transcribe-ai-opt-out-pack",
             "transcribe-bucket-encrypted": "transcribe-bucket-encrypted-pack",
             "transcribe-bucket-tls-enforced": "transcribe-bucket-tls-enforced-pack",
             "transcribe-resource-tagged": "transcribe-resource-tagged-pack",
             "managed": "managed-pack"}  # not a registry custom rule: an AWS managed entry of the pack
    records = {r["rule"]: r for r in evidence_provenance.deployed_functions(Session(), names, package)}
    assert sorted(records) == ["transcribe-ai-opt-out", "transcribe-bucket-encrypted",
                               "transcribe-bucket-tls-enforced", "transcribe-resource-tagged"]
    assert evidence_provenance.mismatches(records.values()) == [
        "transcribe-ai-opt-out", "transcribe-bucket-encrypted", "transcribe-resource-tagged"]
    assert records["transcribe-ai-opt-out"]["problem"] == (
        "Its Config rule runs no Lambda function (Source.Owner CUSTOM_POLICY), not the rule code package.")
    assert records["transcribe-resource-tagged"]["problem"] == (
        "DescribeConfigRules did not return its Config rule transcribe-resource-tagged-pack.")
    assert records["transcribe-bucket-tls-enforced"]["matches_package"]


def test_a_function_with_the_package_but_another_handler_or_a_layer_is_a_mismatch() -> None:
    """The package holds every rule: a function for one rule whose Handler names another rule's
    module (or that a layer could shadow) runs code other than its rule's, whatever its CodeSha256."""
    from transcribe_guard import evidence_provenance

    package = hashlib.sha256(b"package").hexdigest()
    code = base64.b64encode(hashlib.sha256(b"package").digest()).decode()
    configurations = {
        "fn-transcribe-ai-opt-out": {"Handler": "rules.transcribe_ai_opt_out.lambda_handler"},
        "fn-transcribe-bucket-encrypted": {"Handler": "rules.transcribe_ai_opt_out.lambda_handler"},
        "fn-transcribe-bucket-tls-enforced": {"Handler": "rules.transcribe_bucket_tls_enforced.lambda_handler",
                                              "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:x:1",
                                                          "CodeSize": 10}]},
    }

    class Config:
        def describe_config_rules(self, **request: Any) -> dict[str, Any]:
            return {"ConfigRules": [{"ConfigRuleName": name, "Source": {"Owner": "CUSTOM_LAMBDA",
                                                                       "SourceIdentifier": f"fn-{name}"}}
                                    for name in request["ConfigRuleNames"]]}

    class Lambda:
        def get_function(self, FunctionName: str) -> dict[str, Any]:
            return {"Configuration": {"Version": "$LATEST", "CodeSha256": code, **configurations[FunctionName]}}

    class Session:
        def client(self, name: str) -> Any:
            return {"config": Config(), "lambda": Lambda()}[name]

    names = {name[3:]: name[3:] for name in configurations}
    records = {r["rule"]: r for r in evidence_provenance.deployed_functions(Session(), names, package)}
    assert records["transcribe-ai-opt-out"]["matches_package"] and records["transcribe-ai-opt-out"]["problem"] is None
    assert evidence_provenance.mismatches(records.values()) == ["transcribe-bucket-encrypted",
                                                                "transcribe-bucket-tls-enforced"]
    assert records["transcribe-bucket-encrypted"]["problem"] == (
        "Its Handler is rules.transcribe_ai_opt_out.lambda_handler, not rules.transcribe_bucket_encrypted.lambda_handler.")
    assert records["transcribe-bucket-tls-enforced"]["problem"] == (
        "It has Lambda layers (arn:aws:lambda:us-east-1:123456789012:layer:x:1), which the package's functions never have.")


def test_two_config_rules_with_one_rules_name_in_the_pack_are_refused() -> None:
    """A pack holding a second Config rule whose name also strips to transcribe-ai-opt-out would put
    its results under that rule while provenance checked only one of the two functions: refused,
    naming both, before anything is collected."""
    calls: list[str] = []

    class Config:
        def describe_conformance_pack_compliance(self, **request: Any) -> dict[str, Any]:
            calls.append("DescribeConformancePackCompliance")
            return {"ConformancePackRuleComplianceList": [
                {"ConfigRuleName": "transcribe-ai-opt-out-conformance-pack-abc12345"},
                {"ConfigRuleName": "transcribe-ai-opt-out-conformance-pack-x-conformance-pack-def67890"},
                {"ConfigRuleName": "transcribe-bucket-encrypted-conformance-pack-abc12345"}]}

        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} called after the pack's rules were found ambiguous")

    class Sts:
        def get_caller_identity(self) -> dict[str, str]:
            return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/collector"}

    class Session:
        region_name = "us-east-1"

        def client(self, name: str) -> Any:
            return {"config": Config(), "sts": Sts()}[name]

    with pytest.raises(evidence.EvidenceError) as raised:
        evidence.collect_from_config(Session(), "transcribe-guard")
    assert str(raised.value) == (
        "conformance pack transcribe-guard: Config rules transcribe-ai-opt-out-conformance-pack-abc12345 and "
        "transcribe-ai-opt-out-conformance-pack-x-conformance-pack-def67890 are both transcribe-ai-opt-out; "
        "cannot tell which one's results are the pack's.")
    assert calls == ["DescribeConformancePackCompliance"]
