"""Installing: `pip install .` / `pipx install .` put every file the commands read into the
package, and `make demo` installs the runtime dependencies alone; the documented commands (the
demo's among them) run with none of the test extras importable (tests/test_readme_commands.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install_support import requirement_names as _requirement_names
from tests.install_support import setup_cfg as _setup_cfg

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_package_holds_every_file_of_the_source_packages(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """setuptools' own build_py, the step a wheel is made from, with setup.cfg's package list and
    package_data: every file under rules/ and transcribe_guard/ (templates, schemas, report
    templates, rule catalogs, requirements-lambda.txt) must land in it."""
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    dist = Distribution({"script_name": "setup.py"})
    dist.parse_config_files([str(ROOT / "setup.cfg")])
    build = dist.get_command_obj("build_py")
    build.build_lib = str(tmp_path)  # type: ignore[attr-defined]
    build.compile = 0  # type: ignore[attr-defined]
    build.ensure_finalized()
    build.run()

    def files(top: Path, under: tuple[str, ...]) -> set[str]:
        return {path.relative_to(top).as_posix() for folder in under for path in (top / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}

    source = files(ROOT, ("rules", "transcribe_guard"))
    built = files(tmp_path, ("rules", "transcribe_guard"))
    assert {"transcribe_guard/templates/functions.yaml", "transcribe_guard/requirements-lambda.txt",
            "transcribe_guard/report_templates/report.html", "rules/catalog/registry.schema.json"} <= built
    assert sorted(source - built) == [], "add these to [options.package_data] in setup.cfg"


def test_the_runtime_dependencies_hold_no_test_tool() -> None:
    options = _setup_cfg()
    runtime = _requirement_names(options["options"]["install_requires"])
    test_only = _requirement_names(options["options.extras_require"]["test"])
    assert {"boto3", "botocore", "rdklib", "moto"} <= runtime
    assert runtime & test_only == set()
    assert {"cfn-lint", "mypy", "hypothesis", "rdk", "pytest"} <= test_only


def test_make_demo_needs_only_the_runtime_stamp() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = re.search(r"^demo:(.*)$", makefile, re.MULTILINE)
    assert demo is not None and demo.group(1).split() == ["$(RUNTIME)"]
    runtime_recipe = re.search(r"^\$\(RUNTIME\):.*?\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert runtime_recipe is not None and "[test]" not in runtime_recipe.group(1)
    assert re.search(r"^test:.*\$\(STAMP\)", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_documented_commands_run_without_the_test_extras() -> None:
    """tests/test_readme_commands.py runs every documented `transcribe-guard` command, make demo's
    `scan --demo` and `deploy --demo` among them, through BLOCKING_RUNNER; here, that the runner
    does refuse what it blocks and the list holds the test tools."""
    from tests.install_support import BLOCKING_RUNNER, test_only_modules
    from tests.test_readme_commands import BLOCKS

    assert {"cfnlint", "mypy", "hypothesis", "pytest", "rdk"} <= set(test_only_modules())
    shown = "\n".join(block.text for block in BLOCKS if block.marker is None)
    assert ".venv/bin/transcribe-guard scan --demo" in shown and ".venv/bin/transcribe-guard deploy --demo" in shown
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    allowed = subprocess.run([sys.executable, "-c", BLOCKING_RUNNER, "cfnlint", "--help"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert allowed.returncode == 0 and "usage: transcribe-guard" in allowed.stdout
    refused = subprocess.run([sys.executable, "-c", BLOCKING_RUNNER, "rules", "--help"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "rules is a test-only module" in refused.stderr
