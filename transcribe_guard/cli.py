"""The ``transcribe-guard`` command line.

Exit codes of scan (docs/scanning.md): 0 clean; 3 findings (something NON_COMPLIANT and not
muted); 4 no findings but something could not be evaluated; 2 usage error (bad flag, parameters or
mutelist file, unknown rule, unwritable output path); 1 the scan could not run (no credentials,
endpoint unreachable), or Security Hub refused a finding (``--security-hub``).
``evidence verify``: 0 unchanged and its signature checked against a trust anchor; 4 unchanged
against its own manifest, but its origin not authenticated (no --public-key or --kms-key); 1 changed.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ContextManager, Sequence, TextIO

from transcribe_guard import findings, render, scan
from transcribe_guard.compliance import FRAMEWORKS
from transcribe_guard.output_paths import check_file, check_folder, check_new_file
from transcribe_guard.output_safety import visible
from transcribe_guard.progress import ProgressBar, ScanProgress
from transcribe_guard.scan import UsageError
from transcribe_guard.scan_parameters import ScanSelection, scan_selection

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NON_COMPLIANT = 0, 1, 2, 3
EXIT_NOT_EVALUATED = 4  # scan: no findings, but something could not be evaluated
EXIT_UNAUTHENTICATED = 4  # evidence verify: intact against its own manifest, origin not authenticated


def _account(demo: bool) -> ContextManager[Any]:
    """The simulated demo account for ``--demo``; otherwise the account the AWS SDK configuration selects."""
    if not demo:
        return nullcontext()
    from transcribe_guard.simulator import Simulator
    return Simulator(seed="demo")


def _note_skipped(selection: ScanSelection, err: TextIO) -> None:
    err.write("".join(f"transcribe-guard: {notice}\n" for notice in selection.skipped))


# --- scan --------------------------------------------------------------------------------------

def _terminal_width(stream: TextIO) -> int | None:
    """The width of ``stream``'s terminal, or None when it is not one (a pipe or a file)."""
    import shutil

    return shutil.get_terminal_size().columns if hasattr(stream, "isatty") and stream.isatty() else None


def exit_status(records: list[dict[str, Any]]) -> int:
    """3 for a finding (NON_COMPLIANT, not muted), else 4 for a result that could not be evaluated, else 0."""
    return exit_status_of({r["status"]: 1 for r in records})


def exit_status_of(by_status: dict[str, int]) -> int:
    """exit_status from counts by status."""
    if by_status.get("NON_COMPLIANT"):
        return EXIT_NON_COMPLIANT
    return EXIT_NOT_EVALUATED if by_status.get("ERROR") else EXIT_OK


# Formats written as the results come (render.stream); the others need every record first.
STREAMED_FORMATS = ("json", "csv")


def cmd_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from datetime import datetime, timezone

    from botocore.exceptions import BotoCoreError, ClientError

    from transcribe_guard import mutelist
    from transcribe_guard.formats.rule_info import FindingInputError

    if args.output:
        check_file("--output", args.output)
    entries: list[mutelist.Entry] = []
    if args.mutelist:
        entries, warnings = mutelist.load(args.mutelist).active(datetime.now(timezone.utc).date())
        err.write("".join(f"transcribe-guard: warning: {visible(w)}\n" for w in warnings))
    selection = scan_selection(args.rule, args.parameters, args.demo)
    names = findings.select_rules(selection.rule_names, args.severity, args.framework)
    if not names:
        raise UsageError("no rule to run matches --severity/--framework (see `transcribe-guard rules`).")
    selection = ScanSelection({name: selection.parameters[name] for name in names}, selection.skipped)
    target = _scan_target(args)
    _note_skipped(selection, err)
    progress = ScanProgress(err, enabled=not args.quiet)
    max_tps = scan.check_max_tps(args.max_tps) if args.max_tps is not None else None
    # Only what the mutelist's tag conditions read is kept, and only when one names tags.
    known_tags = mutelist.TagsKept(entries) if any(entry.tags for entry in entries) else None
    try:
        with _account(args.demo) as simulated:
            if args.demo and args.organization:
                target = _demo_organization_target(simulated, target)
            if args.security_hub and args.demo:  # the simulated demo account, like a real one, needs the hub on
                scan.aws_session().client("securityhub").enable_security_hub()
            results = scan.stream_scan(selection.rule_names, selection.parameters, progress, target=target,
                                       known_tags=known_tags, on_evaluation=progress.evaluated, max_tps=max_tps)
            enriched = (findings.enrich(r, mutelist.reason_for(r, entries, known_tags or {})) for r in results)
            if args.format in STREAMED_FORMATS and not args.security_hub:
                # Written as the results come: nothing per resource is held (README, "Scanning at any size").
                summary = _stream_scan(enriched, args, selection.rule_names, out)
                progress.done()
                return exit_status_of(summary["by_status"])
            records = list(enriched)  # the table, OCSF, ASFF and Security Hub need every record
            progress.done()
            _write_scan(records, args, selection.rule_names, out)
            if args.security_hub:  # every result, whatever --status lists: a finding left out would be archived
                from transcribe_guard.formats import security_hub
                try:
                    with scan.sdk_retries():  # BatchImportFindings is throttled at 10 TPS: retried as the scan is
                        report = security_hub.send(scan.aws_session(args.profile), records, selection.rule_names)
                except (BotoCoreError, ClientError) as error:
                    err.write(f"transcribe-guard: could not send the findings to Security Hub: {visible(error)}\n")
                    return EXIT_FAILED
                if _note_security_hub(report, err):
                    return EXIT_FAILED
    except (BotoCoreError, ClientError) as error:
        progress.done()
        err.write(f"transcribe-guard: the scan could not run: {visible(error)}\n")
        return EXIT_FAILED
    except FindingInputError as error:  # a result no findings format can state: never dropped silently
        err.write(f"transcribe-guard: could not make the findings: {visible(error)}\n")
        return EXIT_FAILED
    return exit_status(records)


def _write_scan(records: list[dict[str, Any]], args: argparse.Namespace, rule_names: Sequence[str],
                out: TextIO) -> None:
    if args.format in ("ocsf", "asff"):
        from transcribe_guard import formats
        text = formats.render([r for r in records if not args.status or r["status"] in args.status], args.format)
    else:
        text = render.render(records, args.format, rule_names, args.status,
                             _terminal_width(out) if args.format == "table" and not args.output else None)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write --output {args.output}: {error.strerror or error}.") from None
    if not args.output or args.format == "table":
        out.write(text)


def _stream_scan(records: Any, args: argparse.Namespace, rule_names: Sequence[str], out: TextIO) -> dict[str, Any]:
    """JSON or CSV written as ``records`` come: to stdout, or to a temporary file beside --output
    that replaces it once complete (a scan that fails leaves no half-written report there)."""
    if not args.output:
        return render.stream(records, args.format, rule_names, args.status, out)
    import os
    import tempfile
    target = Path(args.output)
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent or ".")
    except OSError as error:
        raise UsageError(f"cannot write --output {args.output}: {error.strerror or error}.") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            summary = render.stream(records, args.format, rule_names, args.status, file)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return summary


def _note_security_hub(report: Any, err: TextIO) -> bool:
    """What Security Hub took, on stderr; True when it refused any finding."""
    for failure in report.failed:  # Security Hub's words about our ids: escaped
        err.write(f"transcribe-guard: Security Hub refused finding {visible(failure['Id'])}: "
                  f"{visible(failure['ErrorCode'])}: {visible(failure['ErrorMessage'])}\n")
    for finding_id in report.suppressed_in_hub:  # a lifted mute (or a hub user) keeps it silent there
        err.write(f"transcribe-guard: Security Hub keeps finding {visible(finding_id)} SUPPRESSED although this scan "
                  "found it failing and did not mute it (BatchImportFindings does not change Workflow; set it to NEW "
                  "in Security Hub)\n")
    for rule in report.not_archived_rules:
        err.write(f"transcribe-guard: {visible(rule)} could not evaluate every resource; none of its earlier "
                  "Security Hub findings were archived\n")
    err.write(f"transcribe-guard: Security Hub: {report.created} findings created, {report.updated} updated, "
              f"{report.archived} archived, {len(report.failed)} refused\n")
    return bool(report.failed)


def _scan_target(args: argparse.Namespace) -> scan.ScanTarget:
    """The accounts and Regions the flags name, checked (a bad one is a one-line usage error)."""
    if args.demo and args.profile:
        raise UsageError("--profile cannot be used with --demo (the demo is simulated, no profile is read).")
    target = scan.ScanTarget(regions=tuple(args.region or ()), all_regions=args.all_regions, profile=args.profile,
                             role_name=args.role_name, accounts=tuple(args.account or ()),
                             organization=args.organization, ou=args.ou, external_id=args.external_id,
                             workers=args.workers)
    if not (args.demo and args.organization and not args.role_name):
        target.validate()
    if args.security_hub and (target.several or args.organization):
        # BatchImportFindings takes findings of the caller's own account, into the Region it is called in
        # (Security Hub user guide, finding-update-batchimportfindings): one pair per run.
        raise UsageError("--security-hub sends the findings of one account and Region: scan each account and Region "
                         "on its own (or aggregate them in Security Hub's administrator account).")
    return target


def _demo_organization_target(simulated: Any, target: scan.ScanTarget) -> scan.ScanTarget:
    """``--demo --organization``: the demo organization, its member role and (unless named) its Regions."""
    from dataclasses import replace

    from transcribe_guard.simulator.demo_organization import seed_demo_organization

    organization = seed_demo_organization(simulated.client)
    return replace(target, role_name=target.role_name or organization.role_name,
                   regions=target.regions or (() if target.all_regions else organization.regions))


# --- rules -------------------------------------------------------------------------------------

def cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    out.write(render.render_rules(findings.rule_records(), args.format,
                                  _terminal_width(out) if args.format == "table" else None))
    return EXIT_OK


# --- simulate ----------------------------------------------------------------------------------

def cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from transcribe_guard.simulator import SimulatorServer
    from transcribe_guard.simulator.seeds import SEEDS

    if args.seed not in SEEDS:
        raise UsageError(f"--seed {args.seed}: unknown seed; choose one of: {', '.join(sorted(SEEDS))}.")
    server = SimulatorServer(host=args.host, port=args.port, seed=args.seed, region=args.region).start()
    out.write(server.url + "\n")
    out.write(f"Simulated AWS account 123456789012 (seed: {args.seed}). Use it with:\n"
              f"  AWS_ENDPOINT_URL={server.url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
              f"AWS_DEFAULT_REGION={args.region} transcribe-guard scan\nPress Ctrl-C to stop.\n")
    out.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


# --- build -------------------------------------------------------------------------------------

def cmd_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import jsonschema

    from rules.catalog.registry import RULES, metadata_schema
    from transcribe_guard import generate

    schema = metadata_schema()
    for name, cls in RULES.items():
        try:
            jsonschema.validate(cls.METADATA, schema)
        except jsonschema.ValidationError as error:
            err.write(f"transcribe-guard: rule {name}: invalid metadata at "
                      f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}\n")
            return EXIT_FAILED
    root = Path(args.root)
    if args.check:
        stale = generate.stale_files(root)
        for path in stale:
            err.write(f"stale: {path.relative_to(root)}\n")
        if stale:
            err.write("transcribe-guard: generated files are out of date; run `transcribe-guard build`.\n")
            return EXIT_FAILED
        out.write("Generated files are up to date.\n")
        return EXIT_OK
    written = list(generate.write_all(root))
    for path in written:
        out.write(f"wrote {path.relative_to(root)}\n")
    if not written:
        out.write("Generated files are up to date.\n")
    return EXIT_OK


# --- guardrails -------------------------------------------------------------------------------

def cmd_guardrails(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from transcribe_guard import deploy, guardrails

    pack_parameters = _pack_parameters(args.pack_parameter)
    try:
        # The pack's own checks first, so a value the pack would refuse is refused here alike.
        deploy.check_pack_parameters({"LambdaAccountId": "123456789012", **pack_parameters})
        built = guardrails.build(pack_parameters, require_output_key=args.require_output_key)
        written = guardrails.write(Path(args.output), built)
    except (deploy.DeployError, guardrails.GuardrailsError) as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}.") from None
    for path in written:
        out.write(f"wrote {visible(str(path))}\n")
    detect_only = sum(not part.prevented for part in built.parts)
    out.write(f"{len(built.statements)} deny statements; {detect_only} parts can only be detected (see prevention.md).\n")
    return EXIT_OK


# --- deploy and compliance --------------------------------------------------------------------

def _pack_parameters(pairs: Sequence[str] | None) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--pack-parameter {pair}: expected NAME=VALUE.")
        parameters[name] = value
    return parameters


def _regions(args: argparse.Namespace, session: Any) -> list[str]:
    """``--region R`` (repeatable) or ``--all-regions``; default: the SDK configuration's Region."""
    from transcribe_guard import deploy

    if args.all_regions and args.region:
        raise UsageError("--region and --all-regions: give one or the other.")
    if args.all_regions:
        return deploy.enabled_regions(session)
    known = set(session.get_available_regions("config")) | {session.region_name}
    regions = list(dict.fromkeys(args.region or [])) or [session.region_name]
    unknown = [r for r in regions if r not in known]
    if unknown:
        raise UsageError(f"--region {unknown[0]}: not a Region where AWS Config is offered (botocore's endpoint data).")
    return regions


def _session_in(region: str) -> Any:
    import boto3
    return boto3.session.Session(region_name=region)


def cmd_deploy(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from transcribe_guard import deploy

    pack_parameters = _pack_parameters(args.pack_parameter)
    if args.event_triggers and args.organization:
        raise UsageError("--event-triggers is for single-account deployments, not --organization "
                         "(the functions stack's EnableEventTriggers condition needs an empty OrganizationId).")
    try:
        ledger = deploy.ledger_settings(args.ledger, args.ledger_kms_key, args.ledger_get_share)
    except deploy.DeployError as error:
        raise UsageError(str(error)) from None
    progress = lambda m: err.write(m + "\n")  # noqa: E731
    try:
        with _account(args.demo) as simulated:
            session = scan.aws_session()
            if args.organization:
                regions = _regions(args, session) if args.region or args.all_regions or not args.demo else []
                return _deploy_organization(args, simulated, regions, pack_parameters, out, err, ledger)
            regions = _regions(args, session)
            parameters = {**(deploy.demo_pack_parameters() if args.demo else {}), **pack_parameters}
            deployments = deploy.deploy_regions(regions, parameters, pack_name=args.pack_name, progress=progress,
                                                session_factory=_session_in, event_triggers=args.event_triggers,
                                                ledger=ledger)
            for done in deployments:
                out.write(render.render_deployment(done))
            if not (args.evaluate or args.demo):
                out.write("AWS Config evaluates the rules on their schedule; `transcribe-guard compliance` shows results.\n")
                return EXIT_OK
            for done in deployments:
                config = _session_in(done.region).client("config")
                if args.demo and ledger.enabled:  # deploy swept the ledger before the rules read it
                    out.write("\n".join(visible(line) for line in deploy.demo_ledger_sweep(
                        _session_in(done.region), done.ledger_sweep)) + "\n")
                err.write(f"started evaluation of {len(deploy.start_evaluation(config, done.pack_name))} rules "
                          f"in {done.region}\n")
                out.write("\n" + render.render_pack_compliance(deploy.pack_compliance(config, done.pack_name), "table")
                          if args.demo else
                          f"[{done.region}] Evaluation started; `transcribe-guard compliance` shows results when AWS "
                          "Config has them.\n")
                if args.demo and args.event_triggers:
                    out.write("\n" + "\n".join(visible(line) for line in deploy.demo_event_trigger(
                        _session_in(done.region), done.pack_name)) + "\n")
    except (BotoCoreError, ClientError, deploy.DeployError) as error:
        err.write(f"transcribe-guard: the deployment failed: {visible(error)}\n")
        return EXIT_FAILED
    return EXIT_OK


def _deploy_organization(args: argparse.Namespace, simulated: Any, regions: list[str],
                         pack_parameters: dict[str, str], out: TextIO, err: TextIO, ledger: Any) -> int:
    """The documented organization path (org_deploy); with --demo, into the demo organization,
    evaluated in every account and shown through the aggregator."""
    from transcribe_guard import aggregate, deploy, org_deploy

    member_role = True
    if args.demo:
        from transcribe_guard.simulator.demo_organization import seed_demo_organization
        organization = seed_demo_organization(simulated.client)
        regions = regions or list(organization.regions)
        member_role = False  # the demo organization's accounts already lend the member role
        err.write(f"demo organization: {len(organization.accounts)} accounts, Regions {', '.join(regions)}\n")
    parameters = {**(deploy.demo_pack_parameters() if args.demo else {}), **pack_parameters}
    done = org_deploy.deploy_organization(_session_in, regions, parameters, pack_name=args.pack_name,
                                          progress=lambda m: err.write(m + "\n"), member_role=member_role,
                                          ledger=ledger)
    out.write(render.render_organization_deployment(done))
    if args.demo and ledger.enabled:  # each Region's collector swept every account before the rules read
        for functions in done.functions:
            out.write("\n".join(f"[{functions.region}] " + visible(line) for line in deploy.demo_ledger_sweep(
                _session_in(functions.region), functions.ledger_sweep)) + "\n")
    if args.demo:
        from transcribe_guard.simulator import organization_config
        started = organization_config.evaluate_organization_pack(done.admin_account, regions, done.pack_name)
        err.write(f"started evaluation of {started} rules in the organization's accounts\n")
    if not args.demo:
        return EXIT_OK
    view = aggregate.read_view(_session_in(regions[0]).client("config"), done.aggregator, done.pack_name)
    out.write("\n" + render.render_aggregate_view(view, "table"))
    return EXIT_OK


def cmd_compliance(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from transcribe_guard import aggregate, deploy

    try:
        config = boto3.session.Session().client("config")
        if args.aggregator:
            view = aggregate.read_view(config, args.aggregator, args.pack_name)
            out.write(render.render_aggregate_view(view, args.format))
            return EXIT_NON_COMPLIANT if "NON_COMPLIANT" in view.rules.values() or view.problems else EXIT_OK
        compliance = deploy.pack_compliance(config, args.pack_name)
    except (BotoCoreError, ClientError) as error:
        err.write(f"transcribe-guard: could not read the pack's compliance: {visible(error)}\n")
        return EXIT_FAILED
    out.write(render.render_pack_compliance(compliance, args.format))
    return EXIT_NON_COMPLIANT if "NON_COMPLIANT" in compliance.rules.values() else EXIT_OK


# --- evidence ----------------------------------------------------------------------------------

def cmd_evidence(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Collect results, map them to framework controls and write an evidence bundle."""
    from botocore.exceptions import BotoCoreError, ClientError

    from transcribe_guard import deploy, evidence, evidence_signing

    if getattr(args, "evidence_action", None) == "verify":
        return cmd_evidence_verify(args, out, err)
    if getattr(args, "evidence_action", None) == "audit-manager":
        return cmd_evidence_audit_manager(args, out, err)
    if args.output:
        check_new_file("--output", args.output if args.output.endswith(".zip") else args.output + ".zip") \
            if args.zip else check_folder("--output", args.output)
    frameworks = evidence.frameworks_or_all(args.framework)
    period = evidence.parse_period(args.period) if args.period else None
    evidence.check_source(args.source, args.demo)
    selection = scan_selection(None, args.parameters, args.demo) if args.source == "scan" else None
    now = evidence.utc_now()
    bar = ProgressBar(err, enabled=not args.quiet)
    try:
        with _account(args.demo):
            if args.demo and args.source == "config":
                done, started = deploy.deploy_demo_pack(scan.aws_session(), args.pack_name)
                err.write(f"deployed and evaluated {len(started)} rules of pack {visible(done.pack_name)} in the "
                          "simulated demo account\n")
            if selection:
                _note_skipped(selection, err)
            collected = evidence.collect(args.source, args.pack_name, selection.parameters if selection else {}, now, bar)
            bar.done()
            document = evidence.build_evidence(collected, frameworks, period, now, args.allow_empty)
            destination = Path(args.output) if args.output else evidence.default_output(collected.account, now)
            try:
                signer = evidence_signing.signer(scan.aws_session(), args.sign_key) if args.sign_key else None
                written = evidence.write_bundle(document, destination, as_zip=args.zip, signer=signer)
                path, manifest_sha = written
            except OSError as error:
                raise UsageError(f"cannot write --output {destination}: {error.strerror or error}.") from None
            except (BotoCoreError, ClientError) as error:
                err.write(f"transcribe-guard: could not sign the bundle with --sign-key {visible(args.sign_key)}: "
                          f"{visible(error)}\n")
                return EXIT_FAILED
    except (BotoCoreError, ClientError) as error:
        bar.done()
        err.write(f"transcribe-guard: could not collect the results: {visible(error)}\n")
        return EXIT_FAILED
    out.write(render.render_evidence_summary(path, document["summary"], frameworks, manifest_sha,
                                             document["collection"]["notices"], signer, written.pdf_note))
    return EXIT_NON_COMPLIANT if document["summary"]["non_compliant"] else EXIT_OK


def cmd_evidence_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from transcribe_guard import evidence, evidence_signing

    anchor = None
    if args.public_key:
        anchor = evidence_signing.TrustAnchor(public_key_der=evidence_signing.load_public_key(Path(args.public_key)))
    elif args.kms_key:
        anchor = evidence_signing.TrustAnchor(kms=scan.aws_session().client("kms"), kms_key_id=args.kms_key)
    try:
        result = evidence.verify_bundle(Path(args.bundle), args.manifest_sha256, anchor)
    except (BotoCoreError, ClientError) as error:
        err.write(f"transcribe-guard: could not verify with --kms-key {visible(args.kms_key)}: {visible(error)}\n")
        return EXIT_FAILED
    out.write(render.render_verification(args.bundle, result))
    if not result.ok:
        return EXIT_FAILED
    return EXIT_OK if result.authenticated else EXIT_UNAUTHENTICATED


def cmd_evidence_audit_manager(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write an AWS Audit Manager custom framework (CreateControl and CreateAssessmentFramework bodies)."""
    from transcribe_guard import audit_manager

    document = audit_manager.build(args.framework, args.deployed_as)
    target = Path(args.am_output)
    if target.exists():
        raise audit_manager.AuditManagerError(f"--output {target}: exists; choose another path.")
    text = audit_manager.render(document)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise audit_manager.AuditManagerError(f"--output {target}: cannot write it ({error.strerror or error}).") from None
    rules = {name for control in document["controls"] for name in control["rules"]}
    sets = document["create_assessment_framework"]["controlSets"]
    out.write(f"Audit Manager framework {visible(target)}: {len(document['controls'])} controls in {len(sets)} control "
              f"sets, {len(rules)} pack entries as AWS_Config data sources (valid against botocore's auditmanager "
              "model); import it with the commands in docs/evidence.md (AWS Audit Manager).\n")
    return EXIT_OK


# --- package -----------------------------------------------------------------------------------

def cmd_package(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from transcribe_guard.package import build_package

    check_file("--output", args.output, create_parents=True)
    package = build_package(Path(args.output))
    out.write(f"{package.path}  {package.size} bytes  {len(package.entries)} files  sha256 {package.sha256}\n")
    return EXIT_OK


# --- cost --------------------------------------------------------------------------------------

def cmd_cost(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Model a month of the pack's costs: naive daily re-evaluation vs incremental evaluation."""
    from rules.catalog.registry import RULES
    from transcribe_guard import cost

    try:
        rule_names = cost.select_rules(args.rules, list(RULES))
        inputs = cost.validate(args.jobs_per_day, args.retention_days, args.noncompliant_rate,
                               args.reconciliation_days, args.tag_changes_per_day, args.call_latency_ms,
                               args.memory_mb if args.memory_mb is not None else cost.default_memory_mb(),
                               args.allowed_output_buckets, args.evidence_source, args.deletions_per_day,
                               args.customizations, args.frequency, args.existing_evaluations)
        modes = cost.REPORTING_MODES if args.reporting_mode == "both" else (args.reporting_mode,)
        result = cost.estimate(inputs, [RULES[name].METADATA for name in rule_names], modes)
        if args.event_triggers:
            result["event_triggers"] = cost.event_triggers(inputs, [RULES[name].METADATA for name in rule_names],
                                                           result)
        if args.ledger:
            result["ledger"] = cost.ledger_block(inputs, [RULES[name].METADATA for name in rule_names], result)
    except (cost.CostInputError, cost.UnmodeledRule) as error:
        raise UsageError(str(error)) from None
    out.write(json.dumps(result, indent=2) + "\n" if args.format == "json" else cost.render_table(result))
    periodic = {m: result["scenarios"][m]["total"]["total_usd"] for m in modes}
    if args.event_triggers and args.format != "json":
        out.write("\n" + cost.render_event_triggers(result["event_triggers"], periodic))
    if args.ledger and args.format != "json":
        out.write("\n" + cost.render_ledger(result["ledger"], periodic))
    return EXIT_OK


# --- entry point -------------------------------------------------------------------------------

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transcribe-guard")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


class _VersionRequested(Exception):
    pass


class _VersionAction(argparse.Action):
    """``--version``: answered by main on its own output stream (argparse's would print to sys.stdout)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kwargs.get("help"))

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise _VersionRequested()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="transcribe-guard", description="Compliance rules for Amazon Transcribe.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = commands.add_parser("scan", help="evaluate the rules against an account (or the demo account)")
    scan.add_argument("--rule", action="append", metavar="NAME", help="rule to run (repeatable; default: all)")
    scan.add_argument("--parameters", metavar="FILE", help='JSON: {"rule-name": {"ParamName": "value"}}')
    scan.add_argument("--format", choices=("table", "json", "csv", "ocsf", "asff"), default="table",
                      help="ocsf: OCSF Compliance Findings; asff: AWS Security Finding Format (JSON arrays). json and csv are "
                           "written as results come (memory flat in the number of jobs); table, ocsf, asff and "
                           "--security-hub hold every result until the scan ends")
    scan.add_argument("--output", metavar="FILE", help="write the report to FILE")
    scan.add_argument("--demo", action="store_true", help="scan the built-in simulated demo account")
    scan.add_argument("--quiet", action="store_true", help="no progress display")
    scan.add_argument("--severity", choices=findings.SEVERITIES, metavar="LEVEL",
                      help="only rules of this severity or higher (low, medium, high, critical)")
    scan.add_argument("--framework", action="append", choices=FRAMEWORKS, metavar="hipaa|pci|soc2|nist",
                      help="only rules mapped to a control of this framework (repeatable: any of them)")
    scan.add_argument("--status", action="append", choices=findings.STATUSES, metavar="STATUS",
                      help="list only results with this status (repeatable): COMPLIANT, NON_COMPLIANT, "
                           "NOT_APPLICABLE, ERROR, MUTED; the summary and exit status still count every result")
    scan.add_argument("--mutelist", metavar="FILE", help="YAML of accepted findings to show as MUTED "
                                                         "(docs/scanning.md#muting-accepted-findings)")
    scan.add_argument("--security-hub", action="store_true",
                      help="send the findings to AWS Security Hub (BatchImportFindings) and archive the ones this "
                           "scan no longer produces")
    scan.add_argument("--region", action="append", metavar="R",
                      help="Region to scan (repeatable; default: the AWS SDK configuration's)")
    scan.add_argument("--all-regions", action="store_true",
                      help="every Region with a Transcribe endpoint that is enabled for the account")
    scan.add_argument("--profile", metavar="NAME", help="AWS config/credentials profile to use")
    scan.add_argument("--role-name", metavar="NAME",
                      help="role to assume in each account (--account or --organization), e.g. transcribe-guard-member")
    scan.add_argument("--account", action="append", metavar="ID", help="account to scan through --role-name "
                                                                       "(repeatable)")
    scan.add_argument("--organization", action="store_true",
                      help="every ACTIVE account of the organization, through --role-name")
    scan.add_argument("--ou", metavar="OU_ID", help="with --organization: only this OU and the OUs below it")
    scan.add_argument("--external-id", metavar="ID", help="ExternalId for AssumeRole")
    scan.add_argument("--max-tps", metavar="N",
                      help="at most N requests per second for each Transcribe Get operation (default: each one's "
                           "quota: the applied quota Service Quotas reports, else the documented one)")
    scan.add_argument("--workers", type=int, metavar="N",
                      help="account x Region pairs scanned at once (default: min(8, pairs))")
    scan.set_defaults(handler=cmd_scan)

    rules = commands.add_parser("rules", help="list the rules: practice, severity, resource kinds, frameworks")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.set_defaults(handler=cmd_rules)

    simulate = commands.add_parser("simulate", help="serve the simulated AWS account on loopback")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8300, help="0 picks a free port")
    simulate.add_argument("--seed", default="demo", help="demo or empty")
    simulate.add_argument("--region", default="us-east-1", help="region the seed creates resources in")
    simulate.set_defaults(handler=cmd_simulate)

    build = commands.add_parser("build", help="regenerate rdk_config/, conformance-pack.yaml, the templates and the "
                                              "rule docs (README table, docs/rules/)")
    build.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    build.add_argument("--root", default=".", help="repository root (default: current directory)")
    build.set_defaults(handler=cmd_build)
    deploy = commands.add_parser("deploy", help="deploy the rule functions and the conformance pack to AWS Config")
    deploy.add_argument("--pack-parameter", action="append", metavar="NAME=VALUE",
                        help="conformance pack parameter (repeatable); LambdaAccountId defaults to this account")
    deploy.add_argument("--pack-name", default="transcribe-guard")
    deploy.add_argument("--evaluate", action="store_true", help="start an evaluation of the pack's rules")
    deploy.add_argument("--demo", action="store_true",
                        help="deploy to the simulated demo account, evaluate, and show the pack's compliance")
    deploy.add_argument("--region", action="append", metavar="REGION",
                        help="Region to deploy to (repeatable; default: the SDK configuration's Region)")
    deploy.add_argument("--all-regions", action="store_true",
                        help="every Region where Transcribe is offered and the account has enabled")
    deploy.add_argument("--organization", action="store_true",
                        help="as the management or Config delegated administrator account: functions in each "
                             "Region, the member role in every account (StackSet), an organization pack per Region "
                             "and the organization aggregator")
    deploy.add_argument("--event-triggers", action="store_true",
                        help="deploy the functions stack with EnableEventTriggers=true (evaluate minutes after "
                             "Transcribe events); with --demo, show a new job's verdict arriving without a scheduled run")
    deploy.add_argument("--ledger", action="store_true",
                        help="deploy the functions stack with TranscribeLedger=enabled: one collector reads each "
                             "Transcribe job once into a DynamoDB table per Region, which the rules read")
    deploy.add_argument("--ledger-kms-key", action="append", metavar="ARN",
                        help="with --ledger: the customer managed KMS key of the ledger table, one per Region "
                             "deployed (default: DynamoDB's AWS managed key)")
    deploy.add_argument("--ledger-get-share", metavar="F",
                        help="with --ledger: the share (above 0, at most 1) of each Transcribe quota the collector "
                             "uses (default 0.2)")
    deploy.set_defaults(handler=cmd_deploy)

    guardrails = commands.add_parser(
        "guardrails", help="write a service control policy and permissions boundary that refuse what the rules judge "
                           "NON_COMPLIANT, where IAM condition keys can")
    guardrails.add_argument("--output", required=True, metavar="DIR",
                            help="folder for scp.json, permissions-boundary.json and prevention.md")
    guardrails.add_argument("--pack-parameter", action="append", metavar="NAME=VALUE",
                            help="conformance pack parameter, as for deploy (repeatable)")
    guardrails.add_argument("--require-output-key", action="store_true",
                            help="also deny jobs that name no OutputEncryptionKMSKeyId (stricter than the rules)")
    guardrails.set_defaults(handler=cmd_guardrails)

    compliance = commands.add_parser("compliance", help="show the deployed pack's compliance from AWS Config")
    compliance.add_argument("--pack-name", default="transcribe-guard")
    compliance.add_argument("--aggregator", metavar="NAME",
                            help="read the pack's results in every account and Region through this AWS Config "
                                 "aggregator (e.g. transcribe-guard-organization)")
    compliance.add_argument("--format", choices=("table", "json"), default="table")
    compliance.set_defaults(handler=cmd_compliance)

    package = commands.add_parser("package", help="build the rules' Lambda code package (deterministic zip)")
    package.add_argument("--output", default="build/transcribe-guard-rules.zip", metavar="FILE")
    package.set_defaults(handler=cmd_package)

    cost = commands.add_parser(
        "cost", help="model a month of Config, Lambda and API costs: naive vs incremental evaluation",
        description="Model (not measure) a month of the pack's costs for a naive daily re-evaluation and for "
                    "incremental evaluation in each reporting mode. See docs/costs.md for the assumptions.")
    cost.add_argument("--jobs-per-day", required=True, metavar="N", help="Transcribe jobs started a day")
    cost.add_argument("--retention-days", default="90", metavar="N", help="days a job record is kept (default 90)")
    cost.add_argument("--rules", metavar="R1,R2", help="comma-separated rules (default: all)")
    cost.add_argument("--reporting-mode", choices=("resource", "summary", "both"), default="both")
    cost.add_argument("--noncompliant-rate", default="0.05", metavar="F", help="share of jobs NON_COMPLIANT, 0..1")
    cost.add_argument("--reconciliation-days", default="7", metavar="D", help="reconcile run every D days (1-30)")
    cost.add_argument("--tag-changes-per-day", default="0", metavar="T",
                      help="TagResource/UntagResource events on jobs a day (default 0)")
    cost.add_argument("--deletions-per-day", default="0", metavar="X", help="jobs deleted a day (default 0)")
    cost.add_argument("--customizations", default="10", metavar="C",
                      help="vocabularies, vocabulary filters, language models and call analytics categories "
                           "(default 10)")
    cost.add_argument("--frequency", default="24", metavar="HOURS",
                      help="hours between runs of the rules that read jobs (pack parameter JobRulesFrequency): "
                           "1, 3, 6, 12 or 24 (default 24)")
    cost.add_argument("--existing-evaluations", default="0", metavar="E",
                      help="Config rule evaluations already billed in the region a month, all accounts of the "
                           "payer (default 0, the worst case)")
    cost.add_argument("--call-latency-ms", default="40", metavar="MS", help="latency of one API call (default 40)")
    cost.add_argument("--event-triggers", action="store_true",
                      help="add EnableEventTriggers=true: the trigger's invocations and the extra runs and "
                           "evaluations of the rules a job event concerns")
    cost.add_argument("--ledger", action="store_true",
                      help="add the pack deployed with TranscribeLedger=enabled: the collector, DynamoDB, KMS, "
                           "EventBridge, and the rules reading the ledger")
    cost.add_argument("--memory-mb", default=None, metavar="MB",
                      help="Lambda memory (default: FunctionMemorySize's default in the functions template)")
    cost.add_argument("--allowed-output-buckets", action="store_true",
                      help="transcribe-job-output-location has AllowedOutputBuckets (a Get per job)")
    cost.add_argument("--evidence-source", choices=("bucket", "object"), default="bucket",
                      help="transcribe-job-output-encrypted's EvidenceSource (object: S3 HeadObject per job)")
    cost.add_argument("--format", choices=("table", "json"), default="table")
    cost.set_defaults(handler=cmd_cost)

    evidence = commands.add_parser(
        "evidence", help="collect results into an evidence bundle mapped to HIPAA, PCI DSS, SOC 2 and NIST 800-53",
        description="Collect results and write an evidence bundle (evidence.json, evidence.csv, report.html, "
                    "report.pdf when Chromium is installed, manifest.json); `evidence verify PATH` checks one; "
                    "`evidence audit-manager FRAMEWORK --output FILE` writes an AWS Audit Manager framework.")
    evidence.add_argument("--from", dest="source", default="config", metavar="config|scan|aggregator:NAME|FILE",
                          help="config: the deployed pack's results in AWS Config (default); scan: a fresh local "
                               "scan; aggregator:NAME: the pack's results in every account and Region of that AWS "
                               "Config aggregator; FILE: a saved `scan --format json`")
    evidence.add_argument("--framework", action="append", metavar="hipaa|pci|soc2|nist",
                          help="framework to include (repeatable; default: all)")
    evidence.add_argument("--period", metavar="START..END",
                          help="ISO dates: only results recorded in this window (scan results count as recorded now)")
    evidence.add_argument("--output", metavar="PATH", help="bundle folder (or zip with --zip); default "
                                                           "evidence/transcribe-guard-evidence-<account>-<time>")
    evidence.add_argument("--zip", action="store_true", help="write a zip instead of a folder")
    evidence.add_argument("--pack-name", default="transcribe-guard", help="conformance pack (with --from config)")
    evidence.add_argument("--parameters", metavar="FILE", help="rule parameters for --from scan, as for `scan`")
    evidence.add_argument("--demo", action="store_true",
                          help="collect from the simulated demo account (config: deploys and evaluates the pack first)")
    evidence.add_argument("--quiet", action="store_true", help="no progress bar")
    evidence.add_argument("--sign-key", metavar="KMS_KEY",
                          help="sign the manifest with this asymmetric AWS KMS key (id, ARN or alias); writes "
                               "manifest.sig")
    evidence.add_argument("--allow-empty", action="store_true",
                          help="write the bundle even when no result was recorded in --period (it says so first)")
    evidence.set_defaults(handler=cmd_evidence, evidence_action=None)
    evidence_actions = evidence.add_subparsers(dest="evidence_action", parser_class=_Parser)
    verify = evidence_actions.add_parser("verify", help="check an evidence bundle (folder or zip) against its manifest")
    verify.add_argument("bundle", metavar="PATH")
    verify.add_argument("--manifest-sha256", metavar="HEX", help="the manifest's SHA-256 recorded at collection")
    anchors = verify.add_mutually_exclusive_group()
    anchors.add_argument("--public-key", metavar="FILE",
                         help="check the signature offline with this public key (PEM or DER, as GetPublicKey returns)")
    anchors.add_argument("--kms-key", metavar="KMS_KEY", help="check the signature with AWS KMS Verify and this key")
    audit = evidence_actions.add_parser(
        "audit-manager", help="write an AWS Audit Manager custom framework whose controls collect the pack's "
                              "AWS Config results",
        description="Write one JSON file: a CreateControl request per mapped requirement of FRAMEWORK (AWS_Config "
                    "data sources for the pack's rules) and the CreateAssessmentFramework request naming them by "
                    "placeholder ids; docs/evidence.md shows how to import it.")
    audit.add_argument("framework", metavar="hipaa|pci|soc2|nist")
    audit.add_argument("--output", dest="am_output", metavar="FILE", required=True, help="the JSON file to write")
    audit.add_argument("--deployed-as", choices=("pack", "rules"), default="pack",
                       help="pack: the rules were deployed by the conformance pack (default); rules: as standalone "
                            "Config rules named after each rule")
    return parser


class _VisibleFormatter(logging.Formatter):
    """Log messages can name resources read from the account: each line escaped, lines kept."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(visible(line) for line in super().format(record).split("\n"))


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    handler = logging.StreamHandler(err)
    handler.setFormatter(_VisibleFormatter("%(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args, out, err))
    except _VersionRequested:
        out.write(f"transcribe-guard {_version()}\n")
        return EXIT_OK
    except UsageError as error:
        # One line, whatever the user typed: arguments echoed back may hold newlines or other
        # control characters (found by tests/test_properties.py).
        message = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(error))
        err.write(f"transcribe-guard: {message}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
