"""report.html in a real browser: headless Chromium (Debian's `chromium`) driven over the DevTools
protocol. The page renders with no console errors and no network requests, its numbers equal
evidence.json, sorting and filtering work, and the run writes docs/report-screenshot.png (shown in
the README).

Chromium is required, not optional: `.ci/run` installs it; without it this test fails and says how
to install it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from rules.catalog.registry import RULES
from transcribe_guard import evidence
from transcribe_guard.compliance import FRAMEWORKS
from transcribe_guard.scan_parameters import DEMO_PARAMETERS, load_parameters
from transcribe_guard.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"
NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.timezone.utc)  # fixed, so the screenshot is stable
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--remote-debugging-port=0", "--remote-allow-origins=*"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is needed for the report test and was not found: install it with "
                "`apt-get install -y chromium` (.ci/run does this on Debian).")


class DevTools:
    """The smallest DevTools-protocol client the test needs: commands, and events kept by method."""

    def __init__(self, url: str):
        import websocket

        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            message = json.loads(self.socket.recv())
            if "method" in message:
                self.events.append(message)

    def run(self, statements: str) -> None:
        """Run statements in their own block scope (no clashes between calls)."""
        self.js("{" + statements + "}")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A bundle from a scan of the demo account, collected at a fixed time."""
    with Simulator(seed="demo"):
        rules = list(RULES)
        collected = evidence.collect_from_scan(boto3.session.Session(), rules,
                                               load_parameters(None, rules, DEMO_PARAMETERS), NOW)
    document = evidence.build_evidence(collected, list(FRAMEWORKS), None, NOW)
    folder, _ = evidence.write_bundle(document, tmp_path_factory.mktemp("report") / "bundle")
    return folder, json.loads((folder / "evidence.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(bundle: tuple[Path, dict[str, Any]]) -> Iterator[DevTools]:
    folder, _ = bundle
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    log = Path(profile) / "chromium.log"  # a file, not a pipe: Chromium's chatter never blocks it
    with log.open("w") as stderr:
        process = subprocess.Popen([chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        browser_url = None
        deadline = time.monotonic() + 60
        while browser_url is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"DevTools listening on (ws://\S+)", log.read_text(errors="replace"))
            browser_url = match.group(1) if match else None
            time.sleep(0.05)
        assert browser_url, f"Chromium did not start its DevTools endpoint: {log.read_text(errors='replace')[-2000:]}"
        port = browser_url.split(":")[2].split("/")[0]
        import urllib.request
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        tab = DevTools(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Network", "Page"):
            tab.send(f"{domain}.enable")
        tab.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        tab.send("Page.navigate", url=(folder / "report.html").as_uri())
        tab.wait_for("Page.loadEventFired")
        deadline = time.monotonic() + 10
        while tab.js("document.documentElement.getAttribute('data-ready')") != "true":
            assert time.monotonic() < deadline, "the page's script never finished"
            time.sleep(0.05)
        yield tab
        tab.socket.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_renders_without_console_errors_or_network_requests(page: DevTools, bundle: tuple[Path, dict[str, Any]]) -> None:
    page.js("1")  # drain events queued so far
    errors = [e for e in page.events if e["method"] == "Runtime.exceptionThrown"
              or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert", "warning"))
              or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))]
    assert errors == []
    requests = {e["params"]["request"]["url"] for e in page.events if e["method"] == "Network.requestWillBeSent"}
    assert requests == {(bundle[0] / "report.html").as_uri()}


def test_numbers_equal_evidence_json(page: DevTools, bundle: tuple[Path, dict[str, Any]]) -> None:
    _, document = bundle
    summary = document["summary"]
    assert page.js("document.getElementById('score').dataset.value") == f"{summary['score']:.2f}"
    assert page.js("document.querySelector('#score svg text').textContent") == f"{summary['score']:.2f}%"
    for element, value in (("count-compliant", summary["compliant"]), ("count-non-compliant", summary["non_compliant"]),
                           ("count-not-applicable", summary["not_applicable"]),
                           ("count-evaluations", summary["evaluations"])):
        assert page.js(f"Number(document.getElementById('{element}').dataset.value)") == value
    bars = page.js("Array.from(document.querySelectorAll('#chart-rules .bar-row')).map(g => "
                   "[g.dataset.key, Number(g.dataset.compliant), Number(g.dataset.nonCompliant)])")
    assert bars == [[r["name"], r["compliant"], r["non_compliant"]] for r in document["rules"]]
    practices = page.js("Array.from(document.querySelectorAll('#chart-practices .bar-row')).map(g => "
                        "[Number(g.dataset.key), Number(g.dataset.compliant), Number(g.dataset.nonCompliant)])")
    assert practices == [[p["practice"], p["compliant"], p["non_compliant"]] for p in summary["by_practice"]]
    cards = page.js("Array.from(document.querySelectorAll('.card.framework')).map(c => "
                    "[c.dataset.framework, c.dataset.status, Number(c.dataset.controls), Number(c.dataset.nonCompliant)])")
    assert cards == [[f["id"], f["status"], len(f["controls"]), f["controls_by_status"]["NON_COMPLIANT"]]
                     for f in document["frameworks"]]
    controls = page.js("Array.from(document.querySelectorAll('details[data-framework] tr.control')).map(r => "
                       "[r.closest('details').dataset.framework, r.dataset.control, r.dataset.status])")
    assert controls == [[f["id"], c["id"], c["status"]] for f in document["frameworks"] for c in f["controls"]]
    rows = page.js("Array.from(document.querySelectorAll('#results tbody tr')).map(r => "
                   "[r.dataset.rule, r.cells[4].textContent, r.dataset.compliance, r.cells[5].textContent])")
    assert rows == [[r["rule"], r["resource_id"], r["compliance"], r["annotation"]] for r in document["results"]]


def severity_label(severity: str | None) -> str:
    return severity.capitalize() if severity else "Not rated"


def test_every_resource_shows_its_name_kind_severity_and_remediation(page: DevTools,
                                                                     bundle: tuple[Path, dict[str, Any]]) -> None:
    _, document = bundle
    shown = page.js("Array.from(document.querySelectorAll('#results tbody tr')).map(r => "
                    "[r.cells[1].textContent, r.cells[3].textContent, r.cells[6].textContent])")
    assert shown == [[severity_label(r["severity"]),
                      f'{r["resource_kind"]}: {r["resource_name"] or r["resource_name_note"]}', r["remediation"]]
                     for r in document["results"]]
    names = {r["resource_name"] for r in document["results"]}
    # IAM users and roles, KMS keys by alias, jobs and buckets: names, not only ids.
    assert {"former-analyst", "legacy-transcribe-role", "alias/acme-contact-center", "cc-call-0099",
            "acme-cc-call-audio"} <= names
    rule_severities = page.js("Array.from(document.querySelectorAll('#rules tr.rule')).map(r => "
                              "[r.dataset.rule, r.querySelector('td.severity').textContent])")
    assert rule_severities == [[r["name"], severity_label(r["severity"])] for r in document["rules"]]


def test_report_pdf_holds_the_names_and_severities(bundle: tuple[Path, dict[str, Any]]) -> None:
    """report.pdf, printed by headless Chromium when the bundle was written, read back as text."""
    import pypdf

    folder, document = bundle
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["report_pdf"].startswith("printed from report.html by ")
    assert "report.pdf" in {item["name"] for item in manifest["files"]}
    reader = pypdf.PdfReader(folder / "report.pdf")
    # Table cells wrap long words at hyphens and slashes: compare with whitespace taken out.
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert "AmazonTranscribecomplianceevidence" in text
    for row in document["results"]:
        if row["resource_name"]:
            assert re.sub(r"\s+", "", row["resource_name"]) in text, row["resource_name"]
    for label in {severity_label(r["severity"]) for r in document["results"]} | {"Notrated"}:
        assert label.replace(" ", "") in text, label
    assert f'{document["summary"]["score"]:.2f}%' in text


def natural(a: str, b: str) -> int:
    """The page's sort order: case-insensitive, digit runs compared as numbers."""
    x, y = re.findall(r"\d+|\D+", a.lower()), re.findall(r"\d+|\D+", b.lower())
    for p, q in zip(x, y):
        if p[0].isdigit() and q[0].isdigit():
            p, q = p.lstrip("0") or "0", q.lstrip("0") or "0"
            if len(p) != len(q):
                return len(p) - len(q)
        if p != q:
            return -1 if p < q else 1
    return len(x) - len(y)


def visible(page: DevTools, column: int) -> list[str]:
    return page.js(f"Array.from(document.querySelectorAll('#results tbody tr')).filter(r => !r.hidden)"
                   f".map(r => r.cells[{column}].textContent)")


def test_filtering_and_sorting(page: DevTools, bundle: tuple[Path, dict[str, Any]]) -> None:
    _, document = bundle
    results = document["results"]
    page.run("const s = document.getElementById('filter-compliance'); s.value = 'NON_COMPLIANT';"
            "s.dispatchEvent(new Event('change'))")
    non_compliant = [r["resource_id"] for r in results if r["compliance"] == "NON_COMPLIANT"]
    assert visible(page, 4) == non_compliant
    assert page.js("document.getElementById('visible-count').textContent") == str(len(non_compliant))
    rule = "transcribe-resource-tagged"
    page.run(f"const r = document.getElementById('filter-rule'); r.value = '{rule}'; r.dispatchEvent(new Event('change'))")
    assert visible(page, 4) == [r["resource_id"] for r in results
                                if r["compliance"] == "NON_COMPLIANT" and r["rule"] == rule]
    page.run("for (const id of ['filter-compliance', 'filter-rule']) { const s = document.getElementById(id); "
            "s.value = ''; s.dispatchEvent(new Event('change')); }")
    needle = "clinic-scribe"
    page.run(f"const t = document.getElementById('filter-text'); t.value = '{needle.upper()}';"
            "t.dispatchEvent(new Event('input'))")
    matching = [r["resource_id"] for r in results if needle in " ".join(  # what the row shows
        (r["rule"], severity_label(r["severity"]), r["resource_kind"], r["resource_name"] or r["resource_name_note"],
         r["resource_id"], r["annotation"], r["remediation"], r["recorded_at"])).lower()]
    assert matching and visible(page, 4) == matching
    page.run("const t = document.getElementById('filter-text'); t.value = ''; t.dispatchEvent(new Event('input'))")
    assert len(visible(page, 4)) == len(results)

    page.js("document.querySelector('#results th[data-col=\"4\"] button').click()")
    ascending = visible(page, 4)
    assert ascending == sorted(ascending, key=functools.cmp_to_key(natural)) and len(ascending) == len(results)
    assert page.js("document.querySelector('#results th[data-col=\"4\"]').getAttribute('aria-sort')") == "ascending"
    page.js("document.querySelector('#results th[data-col=\"4\"] button').click()")
    assert visible(page, 4) == sorted(ascending, key=functools.cmp_to_key(natural), reverse=True)
    page.js("document.querySelector('#results th[data-col=\"0\"] button').click()")
    order = ["NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"]
    ranks = [order.index(v) for v in page.js("Array.from(document.querySelectorAll('#results tbody tr'))"
                                             ".map(r => r.dataset.compliance)")]
    assert ranks == sorted(ranks)


def test_screenshot_for_the_readme(page: DevTools) -> None:
    page.js("window.scrollTo(0, 0); document.getElementById('filter-compliance').value = '';")
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": 1280, "height": 1500, "scale": 1})
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1500)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    if not SCREENSHOT.exists() or SCREENSHOT.read_bytes() != data:
        SCREENSHOT.write_bytes(data)
    assert "docs/report-screenshot.png" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert os.path.getsize(SCREENSHOT) == len(data)
