"""Every shell block a reader pastes from README.md and docs/*.md runs, as written, against the
simulator: one `transcribe-guard simulate`-style server for the module (127.0.0.1, an empty
account), AWS_ENDPOINT_URL and fake credentials in the environment, `.venv/bin/transcribe-guard`
(with the test extras unimportable, as `make demo` installs it) and `.venv/bin/python` running this
checkout, and `aws` the AWS CLI (v1, from the test extras).

A block is a fenced ```sh (or bash, shell) block. Blocks run in page order (README.md first, then
docs/*.md by name, docs/deployment.md last because it ends by uninstalling), each in its own bash
(so each must set the variables it uses) in its own scratch folder (so each makes the files it
reads), where the repository's `conformance-pack.yaml`, `transcribe_guard/` and `docs/` are linked.
The simulated account is shared: a block sees what earlier blocks deployed. A command that exits non-zero fails
the block, naming the page, line and command; `transcribe-guard` exiting 3 ("findings") is its
documented success. The only text replaced is the placeholder URL `http://127.0.0.1:PORT`. A
`--demo` command (its own simulated account, nothing else read) runs once per argument list:
shown again on another page, its first exit status is replayed.

A block that cannot run here is marked on the line before its fence, and the reason is reported
(as a warning in the test summary), never skipped silently:

    <!-- needs-real-aws: what it needs -->     e.g. an AWS Organization
    <!-- not-run: why -->                      e.g. it installs into the environment running the tests
    <!-- serves-until-interrupted -->          one command that serves: it must print its URL first
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.install_support import BLOCKING_RUNNER, test_only_modules

ROOT = Path(__file__).resolve().parent.parent
SHELL_FENCE = re.compile(r"^```(sh|bash|shell)\s*$")
MARKER = re.compile(r"^<!--\s*(needs-real-aws|not-run|serves-until-interrupted)\s*(?::\s*(.*?))?\s*-->$")
PLACEHOLDER_URL = "http://127.0.0.1:PORT"
BLOCK_TIMEOUT = 600
FAILED = "::command-failed::"


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence
    text: str
    marker: str | None
    reason: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages(root: Path = ROOT) -> list[Path]:
    docs = sorted((root / "docs").glob("*.md"), key=lambda p: (p.name == "deployment.md", p.name))
    return [root / "README.md", *docs]


def shell_blocks(page: Path, root: Path = ROOT) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if not SHELL_FENCE.match(lines[index]):
            if lines[index].startswith("```"):  # another fenced block: skip to its end
                index += 1
                while index < len(lines) and not lines[index].startswith("```"):
                    index += 1
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        before = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.match(before)
        blocks.append(Block(page.relative_to(root).as_posix(), index + 1, "\n".join(lines[index + 1:end]) + "\n",
                            marker.group(1) if marker else None, marker.group(2) if marker else None))
        index = end + 1
    return blocks


BLOCKS = [block for page in pages() for block in shell_blocks(page)]


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    from transcribe_guard.simulator import SimulatorServer

    server = SimulatorServer(port=0, seed="empty").start()
    try:
        yield server.url
    finally:
        server.stop()


def _shim(path: Path, command: list[str]) -> None:
    path.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(part) for part in command) + ' "$@"\n',
                    encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A reader's clone as a block sees it, fresh for each block: the repository's files they read,
    a .venv/bin whose commands run this checkout, `aws` on PATH, no AWS configuration of the
    machine's."""
    work = tmp_path
    for name in ("conformance-pack.yaml", "transcribe_guard", "docs"):
        (work / name).symlink_to(ROOT / name)
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    # As `make demo` installs it: none of the test extras (cfn-lint, mypy, hypothesis, ...) importable.
    run = " ".join(shlex.quote(part) for part in [sys.executable, "-c", BLOCKING_RUNNER, ",".join(test_only_modules())])
    # A `--demo` command builds its own simulated account and reads nothing else, so one that already
    # ran in this module, with the same arguments, is not run again: its exit status is replayed.
    (venv_bin / "transcribe-guard").write_text(f"""#!/bin/sh
case " $* " in *" --demo "*)
  key="$DEMO_RUNS/$(printf '%s ' "$@" | cksum | tr ' ' _)"
  if [ -f "$key" ]; then exit "$(cat "$key")"; fi
  {run} "$@"; status=$?; echo "$status" > "$key"; exit "$status";;
esac
exec {run} "$@"
""", encoding="utf-8")
    (venv_bin / "transcribe-guard").chmod(0o755)
    _shim(venv_bin / "python", [sys.executable])
    tools = work / "tools"
    tools.mkdir()
    _shim(tools / "aws", [sys.executable, "-m", "awscli"])
    return work


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-runs")


def _environment(workdir: Path, url: str, demo_runs: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRANSCRIBE_GUARD_"))}
    env.update(DEMO_RUNS=str(demo_runs), PATH=f"{workdir / 'tools'}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT),
               HOME=str(workdir), AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(workdir / "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(workdir / "no-aws-credentials"))
    return env


def _script(block: Block, url: str) -> str:
    # Every failing command is reported (its status and text), the block goes on as a pasted one would.
    return ("set -o pipefail\n"
            f"trap 'echo \"{FAILED}$?::$BASH_COMMAND\" >&2' ERR\n" + block.text.replace(PLACEHOLDER_URL, url))


def failures(stderr: str) -> list[tuple[int, str]]:
    found = []
    for line in stderr.splitlines():
        if line.startswith(FAILED):
            status, _, command = line[len(FAILED):].partition("::")
            found.append((int(status), command))
    return found


def unexpected(found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`transcribe-guard` exits 3 when it reports findings: documented, and what the demo shows."""
    return [(status, command) for status, command in found if not (status == 3 and "transcribe-guard" in command)]


def explain(bad: list[tuple[int, str]], stderr: str, lines: int = 12) -> list[tuple[int, str, str]]:
    """Each failed command with the last lines it wrote to stderr before it failed."""
    out, since = [], []
    wanted = list(bad)
    for line in stderr.splitlines():
        if line.startswith(FAILED):
            status, _, command = line[len(FAILED):].partition("::")
            if wanted and (int(status), command) == wanted[0]:
                context = "\n".join("    " + text[:300] for text in since[-lines:])
                out.append((int(status), command, context))
                wanted.pop(0)
            since = []
        else:
            since.append(line)
    return out


def _serve(block: Block, env: dict[str, str], cwd: Path) -> None:
    commands = [line for line in block.text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 1, f"{block.where}: a serves-until-interrupted block holds one command"
    process = subprocess.Popen(["bash", "-c", commands[0]], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = process.stdout.readline().strip() if process.stdout else ""
        still_serving = process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first), f"{block.where}: first line {first!r}, not its URL"
    assert still_serving, f"{block.where}: the server stopped by itself"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_shell_block_runs_against_the_simulator(block: Block, simulator: str, workdir: Path, demo_runs: Path) -> None:
    if block.marker in ("needs-real-aws", "not-run"):
        assert block.reason, f"{block.where}: say why after '<!-- {block.marker}:'"
        warnings.warn(f"{block.where} not run ({block.marker}): {block.reason}", stacklevel=1)
        return
    env = _environment(workdir, simulator, demo_runs)
    if block.marker == "serves-until-interrupted":
        _serve(block, env, workdir)
        return
    done = subprocess.run(["bash", "-c", _script(block, simulator)], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=BLOCK_TIMEOUT)
    bad = unexpected(failures(done.stderr))
    assert bad == [], (f"{block.where}: a command failed; fix it, or mark the block if it cannot run against the "
                       f"simulator.\n" + "\n".join(f"exit {status}: {command}\n{context}"
                                                   for status, command, context in explain(bad, done.stderr)))


# --- the harness itself --------------------------------------------------------------------------

def test_blocks_markers_and_the_placeholder_are_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```sh\necho one\n```\n\n<!-- needs-real-aws: an Organization -->\n```bash\necho two\n"
                    "```\n```python\nprint(3)\n```\n<!-- not-run: why -->\n\n```shell\necho four\n```\n",
                    encoding="utf-8")
    found = shell_blocks(page, tmp_path)
    assert [(b.line, b.text, b.marker, b.reason) for b in found] == [
        (3, "echo one\n", None, None), (8, "echo two\n", "needs-real-aws", "an Organization"),
        (16, "echo four\n", "not-run", "why")]


def test_every_failing_command_is_reported_and_only_exit_3_of_transcribe_guard_passes(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    _shim(tmp_path / "bin" / "transcribe-guard", ["sh", "-c", "exit 3"])
    block = Block("page.md", 1, "true\nfalse\nsh -c 'exit 3'   # not transcribe-guard\nX=$(exit 4)\n"
                  "bin/transcribe-guard scan\necho $X | cat\n", None, None)
    done = subprocess.run(["bash", "-c", _script(block, "http://127.0.0.1:1")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert (3, "bin/transcribe-guard scan") in failures(done.stderr)
    assert unexpected(failures(done.stderr)) == [(1, "false"), (3, "sh -c 'exit 3'"), (4, "X=$(exit 4)")]


def test_the_placeholder_url_is_the_simulators() -> None:
    block = Block("page.md", 1, f"export AWS_ENDPOINT_URL={PLACEHOLDER_URL}\n", None, None)
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4566\n" in _script(block, "http://127.0.0.1:4566")
