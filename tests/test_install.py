"""Installing: `pip install .` / `pipx install .` put every file the commands read into the
package, and the demo (`make demo`: `scan --demo`, then `deploy --demo`) runs on the runtime
dependencies alone, with none of the test extras importable."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def _requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


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


# The demo's commands in a fresh interpreter in which no module of the test extras can be imported
# (their top-level names read from the installed distributions' metadata).
_DEMO_WITHOUT_TEST_EXTRAS = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"test-only module imported by the demo: {name}")
sys.meta_path.insert(0, Block())
from transcribe_guard.cli import main
scan = main(["scan", "--demo", "--quiet"])
deploy = main(["deploy", "--demo"])
print("statuses", scan, deploy)
"""


def test_the_demo_runs_without_any_test_extra(tmp_path: Path) -> None:
    test_only = _requirement_names(_setup_cfg()["options.extras_require"]["test"])
    modules = {module for module, dists in metadata.packages_distributions().items()
               if {d.lower().replace("_", "-") for d in dists} & test_only}
    runtime_modules = {"yaml", "jsonschema", "boto3", "botocore", "moto", "rdklib", "transcribe_guard", "rules"}
    blocked = sorted(modules - runtime_modules)
    assert {"cfnlint", "mypy", "hypothesis", "pytest"} <= set(blocked)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-c", _DEMO_WITHOUT_TEST_EXTRAS, ",".join(blocked)], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "statuses 3 0"
    assert "Verdict: FAIL" in done.stdout
