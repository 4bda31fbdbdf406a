"""Build the rules' Lambda code package: one deterministic zip for every rule function.

Contents: the ``rules`` package (modules and registry schema) and ``rdklib``; boto3/botocore come
with the Lambda Python runtime. Same inputs give the same bytes: entries sorted, fixed
timestamps and permissions, no bytecode caches.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from importlib import metadata, resources, util
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
PACKAGES = ("rules", "rdklib")


@dataclass(frozen=True)
class Package:
    path: Path
    sha256: str
    size: int
    entries: tuple[str, ...]


def _package_dir(name: str) -> Path:
    spec = util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def package_files() -> dict[str, Path]:
    """Archive name -> source file, for every file that goes into the package."""
    files: dict[str, Path] = {}
    for name in PACKAGES:
        root = _package_dir(name)
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json"):
                files[f"{name}/{path.relative_to(root).as_posix()}"] = path
    return files


def pinned_versions() -> dict[str, str]:
    """Package -> version pinned (with its hash) in requirements-lambda.txt."""
    text = resources.files("transcribe_guard").joinpath("requirements-lambda.txt").read_text("utf-8")
    pins = {}
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].split()
        if requirement and "==" in requirement[0]:
            name, version = requirement[0].split("==", 1)
            pins[name.lower()] = version
    return pins


def check_pins() -> None:
    """The bundled third-party code must be exactly the hash-pinned version."""
    for name, version in pinned_versions().items():
        installed = metadata.version(name)
        if installed != version:
            raise RuntimeError(f"{name} {installed} is installed but the Lambda package pins {version}; run make")


def build_zip() -> bytes:
    check_pins()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in sorted(package_files().items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_package(output: Path) -> Package:
    data = build_zip()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = tuple(archive.namelist())
    return Package(output, hashlib.sha256(data).hexdigest(), len(data), entries)
