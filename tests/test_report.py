"""report.html through Jinja2 (transcribe_guard/report.py, report_templates/): values are data, never
template source or markup; the Content-Security-Policy names the page's own inline style and script;
a value the template does not have fails the rendering; the templates ship in the sdist and the wheel."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from transcribe_guard import evidence
from transcribe_guard.compliance import FRAMEWORKS
from transcribe_guard.report import render_html

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.timezone.utc)
ARN = "arn:aws:transcribe:us-east-1:123456789012:transcription-job"
# Jinja syntax of every kind, markup that would end the style block or start a script, both quotes.
HOSTILE = "{{ 7*7 }} {% raw %}{{ x }}{% endraw %} {# c #} {%- if 1 %}</style><script>alert(\"x\")</script>'&amp;"
TEMPLATES = ("report.html", "report.css", "report.js")


class Page(HTMLParser):
    """The elements the checks need, with their text as a browser decodes it."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[str] = []
        self.blocks: dict[str, list[str]] = {"style": [], "script": []}
        self.csp = ""
        self.cells: list[str] = []  # the #results table's cells, in order
        self._open: list[str] = []
        self._in_results = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        values = dict(attrs)
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values["content"] or ""
        if tag == "table" and values.get("id") == "results":
            self._in_results = True
        if tag in self.blocks:
            self.blocks[tag].append("")
        if tag == "td" and self._in_results:
            self.cells.append("")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_results = False
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] in self.blocks:
            self.blocks[self._open[-1]][-1] += data
        elif self._in_results and "td" in self._open and self.cells:
            self.cells[-1] += data


def hostile_document(tmp_path: Path) -> dict[str, Any]:
    """A saved scan whose resource, annotation and file name carry HOSTILE, made into a bundle's
    document the way `evidence --from FILE` makes it."""
    rows = [{"rule": "transcribe-job-pii-redaction", "resource_type": "AWS::Transcribe::TranscriptionJob",
             "resource_id": f"{ARN}/{HOSTILE}", "compliance": "NON_COMPLIANT", "annotation": f"Job {HOSTILE} lacks it.",
             "evaluated_at": "2026-03-14T15:09:26Z"}]
    saved = tmp_path / "scan-{{ 7*7 }}-<b>.json"  # the page names the file it came from
    saved.write_text(json.dumps({"evaluations": rows, "summary": {}}), encoding="utf-8")
    return evidence.build_evidence(evidence.collect_from_file(saved, NOW), list(FRAMEWORKS), None, NOW)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_jinja_syntax_and_markup_in_values_are_shown_as_typed(tmp_path: Path) -> None:
    page = render_html(hostile_document(tmp_path))
    parsed = parse(page)
    # The results row's cells read back exactly what the scan said: nothing evaluated, nothing lost.
    # The resource's name comes from its ARN, so it is the account's text too: shown as typed.
    assert parsed.cells[1:4] == ["High", "transcribe-job-pii-redaction", f"Transcription job: {HOSTILE}"]
    assert parsed.cells[4] == f"{ARN}/{HOSTILE}"
    assert parsed.cells[5] == f"Job {HOSTILE} lacks it."
    assert "saved scan scan-{{ 7*7 }}-&lt;b&gt;.json" in page
    # The data opened no element of its own and did not end the style block early.
    assert parsed.starts.count("script") == 1 and parsed.starts.count("style") == 1
    assert "<script>alert" not in page and "</style><script>alert" not in page
    assert parsed.blocks["style"][0] == (ROOT / "transcribe_guard" / "report_templates" / "report.css").read_text()
    assert parsed.blocks["script"][0] == (ROOT / "transcribe_guard" / "report_templates" / "report.js").read_text()


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def test_the_policy_allows_the_page_s_own_style_and_script_and_nothing_else(tmp_path: Path) -> None:
    parsed = parse(render_html(hostile_document(tmp_path)))
    directives = dict(d.strip().split(" ", 1) for d in parsed.csp.split(";"))
    assert directives == {"default-src": "'none'", "style-src": sha256_source(parsed.blocks["style"][0]),
                          "script-src": sha256_source(parsed.blocks["script"][0]), "img-src": "data:",
                          "base-uri": "'none'", "form-action": "'none'"}


def test_a_value_the_template_lacks_fails_the_rendering(tmp_path: Path) -> None:
    document = hostile_document(tmp_path)
    del document["generator"]["version"]
    with pytest.raises(jinja2.UndefinedError, match="version"):
        render_html(document)


def test_the_templates_ship_in_the_sdist_and_the_wheel(tmp_path: Path) -> None:
    """The sdist as `python -m build` makes it, and build_py's tree, which is what the wheel packs
    (no `wheel` package offline here to make the wheel itself). A copy of the tree, so the build
    leaves nothing in the checkout."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    for package in ("rules", "transcribe_guard"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = ("import sys\nfrom setuptools import build_meta, setup\n"
             "sdist_dir, lib_dir = sys.argv[1:3]  # build_sdist rewrites sys.argv\n"
             "print(build_meta.build_sdist(sdist_dir))\n"
             "setup(script_args=['-q', 'build_py', '--build-lib', lib_dir])\n")
    done = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist"), str(tmp_path / "lib")], cwd=project,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    sdist = tmp_path / "dist" / done.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        shipped = {re.sub(r"^[^/]+/", "", name) for name in archive.getnames()}
    for name in TEMPLATES:
        assert f"transcribe_guard/report_templates/{name}" in shipped, name
        assert (tmp_path / "lib" / "transcribe_guard" / "report_templates" / name).read_bytes() == \
            (ROOT / "transcribe_guard" / "report_templates" / name).read_bytes(), name


def test_without_chromium_the_manifest_and_summary_say_report_pdf_was_not_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from transcribe_guard import cli

    monkeypatch.setenv("TRANSCRIBE_GUARD_CHROMIUM", "no-such-browser")
    saved = tmp_path / "scan.json"
    saved.write_text(json.dumps({"evaluations": [
        {"rule": "transcribe-bucket-encrypted", "resource_type": "AWS::S3::Bucket", "resource_id": "acme-audio",
         "compliance": "COMPLIANT", "annotation": "ok", "evaluated_at": "2026-03-14T15:09:26Z"}], "summary": {}}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["evidence", "--from", str(saved), "--output", str(tmp_path / "b"), "--quiet"], out, err) == 0
    why = ("not printed: no Chromium found (no-such-browser on PATH); install Debian's chromium, or set "
           "TRANSCRIBE_GUARD_CHROMIUM, to get report.pdf")
    assert f"  report.pdf: {why}\n" in out.getvalue()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["report_pdf"] == why and not (tmp_path / "b" / "report.pdf").exists()
    assert [item["name"] for item in manifest["files"]] == ["evidence.json", "evidence.csv", "report.html"]
    assert evidence.verify_bundle(tmp_path / "b").ok
