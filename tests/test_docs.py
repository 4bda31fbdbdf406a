"""The documentation stays true: links resolve, the commands and make targets it shows exist,
the README stays a short front door, and every rule has its generated page (which the
generator keeps and prunes)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path

import pytest

from rules.catalog.registry import RULES
from transcribe_guard import generate
from transcribe_guard.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
COMMAND = re.compile(r"^\s*(?:\S*/)?transcribe-guard\s+(.*)$")
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", re.MULTILINE)


def markdown_files(root: Path = ROOT) -> list[Path]:
    pages = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").rglob("*.md"))]
    return [page for page in pages if page.exists()]


def split_markdown(text: str) -> tuple[list[str], list[str]]:
    """(prose lines, code block lines); inline code spans are blanked in prose."""
    prose: list[str] = []
    code: list[str] = []
    in_code = False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            in_code = not in_code
            continue
        if in_code:
            code.append(line)
        else:
            prose.append(re.sub(r"`[^`]*`", "``", line))
    return prose, code


def slug(heading: str) -> str:
    """GitHub's heading anchor: the heading's text, lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    prose, _ = split_markdown(page.read_text(encoding="utf-8"))
    for line in prose:
        for target in LINK.findall(line):
            if EXTERNAL.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            resolved = (page.parent / path_part).resolve() if path_part else page
            if not resolved.exists():
                problems.append(f"{page.relative_to(root)}: {target}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved):
                problems.append(f"{page.relative_to(root)}: {target}: no heading #{anchor}")
    return problems


def heading_anchors(page: Path) -> set[str]:
    """Anchors of every heading, code spans in headings kept as text (GitHub drops only the backticks)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            in_code = not in_code
            continue
        match = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            found.add(base if base not in counts else f"{base}-{counts[base]}")
            counts[base] = counts.get(base, 0) + 1
    return found


def shown_commands(page: Path) -> list[str]:
    """`transcribe-guard ...` lines of the page's code blocks, continuation lines joined."""
    _, code = split_markdown(page.read_text(encoding="utf-8"))
    joined = re.sub(r"\\\n\s*", " ", "\n".join(code))
    return [match.group(1) for line in joined.splitlines() if (match := COMMAND.match(line))]


def makefile_targets() -> set[str]:
    return set(MAKE_TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def shown_make_targets(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    _, code = split_markdown(text)
    inline = re.findall(r"`make ([A-Za-z0-9_.-]+)`", text)
    return inline + [m.group(1) for line in code if (m := re.match(r"^\s*make\s+([A-Za-z0-9_.-]+)", line))]


# --- links ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_finds_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading, with punctuation!\n\n## Twice\n\n## Twice\n",
                                       encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md) [ok](other.md#a-code-heading-with-punctuation) [ok](other.md#twice-1)\n"
                    "[ok](#here) [ext](https://example.com/x) `[not a link](missing.md)`\n"
                    "```\n[in code](missing.md)\n```\n"
                    "# Here\n[bad](missing.md) [bad](other.md#nowhere) ![bad](img.png)\n", encoding="utf-8")
    assert broken_links(page, tmp_path) == ["page.md: missing.md: no such file", "page.md: other.md#nowhere: no heading #nowhere",
                                  "page.md: img.png: no such file"]


def test_the_readme_shows_the_report_screenshot() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/report-screenshot.png)" in text and (ROOT / "docs" / "report-screenshot.png").is_file()


# --- commands and make targets -------------------------------------------------------------------

def parse(command: str) -> tuple[argparse.Namespace | None, str]:
    """The parsed arguments, or None and the parser's complaint (it exits, or raises its usage error)."""
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            return build_parser().parse_args(shlex.split(command, comments=True)), ""
        except (SystemExit, Exception) as error:  # noqa: BLE001 - any refusal is a failed parse
            return None, errors.getvalue() or str(error)


DOCUMENTED_COMMANDS = [(page, command) for page in markdown_files() if page.name != "CONTRIBUTING.md"
                       for command in shown_commands(page)]


def test_the_readme_shows_the_basic_commands() -> None:
    shown = {shlex.split(command, comments=True)[0] for command in shown_commands(ROOT / "README.md")}
    assert {"scan", "deploy", "compliance", "evidence", "cost", "simulate"} <= shown


@pytest.mark.parametrize("page,command", DOCUMENTED_COMMANDS,
                         ids=[f"{p.relative_to(ROOT)}:{c[:60]}" for p, c in DOCUMENTED_COMMANDS])
def test_every_shown_command_parses(page: Path, command: str) -> None:
    # No placeholder needs skipping: the pages use shell variables ("$MANIFEST_SHA256") that parse.
    args, error = parse(command)
    assert args is not None, f"{page.relative_to(ROOT)}: `transcribe-guard {command}` does not parse: {error}"
    for name in list(getattr(args, "rule", None) or []) + (getattr(args, "rules", None) or "").split(","):
        assert not name or name in RULES, f"{command}: unknown rule {name}"
    pack_parameters = generate.conformance_pack()["Parameters"]
    for pair in getattr(args, "pack_parameter", None) or []:
        assert pair.split("=", 1)[0] in pack_parameters, f"{command}: no pack parameter {pair.split('=', 1)[0]}"


def test_a_wrong_command_would_be_caught() -> None:
    assert parse("scan --demo")[0] is not None
    assert parse("scan --no-such-flag")[0] is None
    assert parse("evidence verify")[0] is None


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shown_make_target_exists(page: Path) -> None:
    targets = makefile_targets()
    assert {"demo", "test", "build"} <= targets
    assert [t for t in shown_make_targets(page) if t not in targets] == []


# --- the README and the rule pages ---------------------------------------------------------------

def test_the_readme_is_a_short_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 300
    assert "make demo" in "\n".join(lines) and "make test" in "\n".join(lines)


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_has_its_page_linked_from_the_readme_and_index(name: str) -> None:
    page = ROOT / "docs" / "rules" / f"{name}.md"
    assert page.is_file()
    assert f"\n# {name}\n" in page.read_text(encoding="utf-8")
    assert f"](docs/rules/{name}.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"]({name}.md)" in (ROOT / "docs" / "rules" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_rule_page_carries_the_registry_record(name: str) -> None:
    from transcribe_guard.compliance import FRAMEWORK_NAMES, FRAMEWORKS, mapped_controls, not_applicable

    cls = RULES[name]
    meta = cls.METADATA
    text = generate.rule_page(cls)
    doc = importlib.import_module(cls.__module__).__doc__ or ""
    scenarios = re.findall(r"^\s+(\d+)\. Given ", doc, flags=re.MULTILINE)
    assert re.findall(r"^(\d+)\. Given ", text, flags=re.MULTILINE) == scenarios
    for parameter, spec in meta["parameters"]["properties"].items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{parameter}` |"))
        assert (f"`{spec['default']}`" if spec.get("default") else "(none)") in row
    assert [line[3:-1] for line in text.splitlines() if line.startswith("- `")] == meta["iam_actions"]
    assert f"| Severity | {meta['severity']} |" in text
    assert f"| Practice | {meta['practice']}. " in text
    assert meta["trigger"]["frequency"] in text
    for framework in FRAMEWORKS:
        rows = [line for line in text.splitlines() if line.startswith(f"| {FRAMEWORK_NAMES[framework]} | ")]
        assert [row.split(" | ")[1] for row in rows] == (
            ["n/a"] if name in not_applicable(framework) else [c["id"] for c in mapped_controls(framework)[name]])


def test_build_reports_and_deletes_the_page_of_a_removed_rule(tmp_path: Path) -> None:
    written = list(generate.write_all(tmp_path))  # a fresh tree: every generated file is written
    assert tmp_path / "docs" / "rules" / "README.md" in written
    assert generate.stale_files(tmp_path) == []
    removed = tmp_path / "docs" / "rules" / "transcribe-removed-rule.md"
    removed.write_text("# transcribe-removed-rule\n", encoding="utf-8")
    changed = tmp_path / "docs" / "rules" / f"{sorted(RULES)[0]}.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    assert generate.stale_files(tmp_path) == [changed, removed]
    assert list(generate.write_all(tmp_path)) == [changed, removed]
    assert not removed.exists()
    assert generate.stale_files(tmp_path) == []
