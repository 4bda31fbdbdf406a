"""Findings formats: scan results as OCSF Compliance Findings (``ocsf``), as AWS Security Finding
Format findings (``asff``), and sent to AWS Security Hub (``security_hub``).

Each takes the scan's result dicts (``scan.run_scan``; keys in ``render.RESULT_FIELDS``) and reads
what a finding needs beyond them (title, severity, practice, remediation, mapped controls) from the
rule registry through ``rule_info``, so the formats do not depend on how results were enriched.
"""

from __future__ import annotations

from typing import Iterable, Mapping

FORMATS = ("ocsf", "asff")


def render(results: Iterable[Mapping[str, str]], fmt: str) -> str:
    """``scan --format ocsf|asff``: the results as a JSON array of findings."""
    if fmt == "ocsf":
        from transcribe_guard.formats import ocsf
        return ocsf.render(results)
    if fmt == "asff":
        from transcribe_guard.formats import asff
        return asff.render(results)
    raise ValueError(f"unknown findings format {fmt!r}; choose one of: {', '.join(FORMATS)}")
