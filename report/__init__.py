"""The meeting pack: one self-contained HTML file (and optionally a PDF) from ``report.pack``.

``render_html(pack)`` embeds plotly.js once, inline (``include_plotlyjs=True`` on the first
figure): the file opens from disk with no network, no external fonts or stylesheets.
``write_pdf(html, pdf)`` prints it with headless Debian chromium.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class PdfError(RuntimeError):
    """The PDF could not be produced; the message says why and what to install."""


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(html_path: Path, pdf_path: Path, timeout_s: int = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless chromium (charts drawn before printing)."""
    browser = find_chromium()
    if browser is None:
        raise PdfError(
            "chromium is not installed, so no PDF was written (the HTML is complete); install the "
            "Debian package `chromium` or open the HTML in a browser and print it"
        )
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000", "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path.resolve()}", html_path.resolve().as_uri(),
    ]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PdfError(f"chromium took longer than {timeout_s}s to print {html_path}") from exc
    if completed.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        detail = (completed.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"chromium could not print {html_path} (exit {completed.returncode}: {detail[0]})")
    return pdf_path


def __getattr__(name: str) -> Any:
    # ``render_html`` on first use: report.html pulls in the pack, the SPC rules and scipy.stats,
    # and the dashboard's sidebar (saved views, interventions) imports this package on every page.
    if name == "render_html":
        from report.html import render_html

        return render_html
    raise AttributeError(f"module 'report' has no attribute {name!r}")


__all__ = ["PdfError", "find_chromium", "render_html", "write_pdf"]
