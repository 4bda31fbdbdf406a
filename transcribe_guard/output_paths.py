"""Output paths checked before any work: ``scan --output``, ``evidence --output`` and ``package
--output`` fail in a second with a one-line usage error (exit 2) instead of a traceback after the
whole scan. The check writes nothing the run keeps: it opens an existing file for appending (no
byte changed) or creates and removes a temporary file in the folder the output will go to, which is
the only test that also holds for root (``os.access`` says yes to ``/proc`` for root, but the
kernel refuses to create ``/proc/x``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from transcribe_guard.scan import UsageError


def _probe_folder(flag: str, path: Path, folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write in {folder} ({error.strerror or error}).") from None


def _existing_ancestor(flag: str, path: Path) -> Path:
    folder = path.parent
    while not folder.exists():
        if folder == folder.parent:
            break
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: {folder} is not a folder.")
    return folder


def check_file(flag: str, value: str, create_parents: bool = False) -> Path:
    """``value`` can be written as a file: not a folder, in a folder that exists (or, with
    ``create_parents``, under the nearest existing folder) and that we may write in."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; name a file.")
    if path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as error:
            raise UsageError(f"{flag} {path}: cannot write the file ({error.strerror or error}).") from None
        return path
    if not create_parents and not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise UsageError(f"{flag} {path}: the folder {path.parent} {what}.")
    _probe_folder(flag, path, _existing_ancestor(flag, path))
    return path


def check_folder(flag: str, value: str) -> Path:
    """``value`` can become a new folder of files: absent or an empty folder, under a folder we may write in."""
    path = Path(value)
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{flag} {path}: exists and is not a folder; evidence is never overwritten.")
        if any(path.iterdir()):
            raise UsageError(f"{flag} {path}: exists and is not empty; evidence is never overwritten.")
        _probe_folder(flag, path, path)
        return path
    _probe_folder(flag, path, _existing_ancestor(flag, path))
    return path


def check_new_file(flag: str, value: str) -> Path:
    """``value`` can be written as a new file (never overwritten), creating missing folders."""
    path = Path(value)
    if path.exists() or os.path.lexists(path):
        raise UsageError(f"{flag} {path}: exists; evidence is never overwritten, choose another path.")
    return check_file(flag, value, create_parents=True)
