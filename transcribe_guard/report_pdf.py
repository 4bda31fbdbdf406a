"""report.pdf: report.html printed by headless Chromium, for auditors who file PDFs.

Chromium's own ``--print-to-pdf`` prints the page as the browser renders it, with the report's
print stylesheet (A4 landscape, filters hidden). The page is written to a private temporary
folder and loaded from there with a throwaway profile; its Content-Security-Policy already lets
it fetch nothing, and Chromium runs with background networking off. When no Chromium is found, or
it fails, there is no PDF and the reason is returned: the bundle's manifest and the command's
summary say it (a PDF is never silently missing).

``TRANSCRIBE_GUARD_CHROMIUM`` names the browser binary; otherwise the first of ``chromium``,
``chromium-browser``, ``google-chrome`` on PATH is used (Debian's package is ``chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PDF_NAME = "report.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120
_FLAGS = ("--headless", "--disable-gpu", "--no-pdf-header-footer", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions")


def find_chromium() -> str | None:
    named = os.environ.get("TRANSCRIBE_GUARD_CHROMIUM")
    if named:
        return shutil.which(named)
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def print_pdf(html: bytes) -> tuple[bytes | None, str]:
    """(the PDF, "printed by ...") or (None, "not printed: why")."""
    browser = find_chromium()
    if browser is None:
        wanted = os.environ.get("TRANSCRIBE_GUARD_CHROMIUM") or " or ".join(BROWSERS)
        return None, (f"not printed: no Chromium found ({wanted} on PATH); install Debian's chromium, or set "
                      "TRANSCRIBE_GUARD_CHROMIUM, to get report.pdf")
    with tempfile.TemporaryDirectory(prefix="transcribe-guard-pdf-") as folder:
        page, pdf = Path(folder) / "report.html", Path(folder) / PDF_NAME
        page.write_bytes(html)
        command = [browser, *_FLAGS, f"--user-data-dir={Path(folder) / 'profile'}", f"--print-to-pdf={pdf}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        try:
            done = subprocess.run([*command, page.as_uri()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            return None, f"not printed: Chromium did not finish within {TIMEOUT_SECONDS} s"
        except OSError as error:
            return None, f"not printed: Chromium could not be started ({error.strerror})"
        data = pdf.read_bytes() if pdf.is_file() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF-"):
            return None, f"not printed: Chromium exited with status {done.returncode} and wrote no PDF"
    return data, f"printed from report.html by {Path(browser).name} (headless)"
