"""Figures to PNG and SVG files with kaleido (a main dependency) and the system's Chromium.

kaleido 1.x drives a Chromium through choreographer, which honours ``$BROWSER_PATH``. Debian
ships the browser as ``/usr/bin/chromium``; we point ``BROWSER_PATH`` at the first browser found
(an explicit ``BROWSER_PATH`` wins), so no separate download (``kaleido_get_chrome``) is needed.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import plotly.graph_objects as go

LOG = logging.getLogger(__name__)

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FORMATS = ("png", "svg")


def browser_path() -> str | None:
    """The browser kaleido will use: ``$BROWSER_PATH`` if it exists, else the first found."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and Path(configured).exists():
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("google-chrome") or shutil.which("chrome")


def export_problem() -> str | None:
    """Why image export cannot work here, in words for the page; None when it can."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return "image export needs kaleido (pip install -e . installs it)"
    browser = browser_path()
    if browser is None:
        return "image export needs Chromium (apt-get install chromium)"
    os.environ.setdefault("BROWSER_PATH", browser)
    return None


def figure_image(fig: go.Figure, fmt: str = "png", *, width: int = 1200, scale: float = 2) -> bytes:
    """The figure as PNG or SVG bytes, at its own height. Raises if export cannot work."""
    if fmt not in FORMATS:
        raise ValueError(f"image format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    problem = export_problem()
    if problem:
        raise RuntimeError(problem)
    height = int(fig.layout.height or 450)
    scale = scale if fmt == "png" else 1
    try:
        return fig.to_image(format=fmt, width=width, height=height, scale=scale)
    except Exception as first:  # kaleido raises its own JavaScript error types
        # On a busy machine kaleido can evaluate its render call before the Chromium tab has
        # loaded its scripts ("kaleido_scopes is not defined"); a second attempt in a fresh tab
        # renders. A real problem fails twice and is raised.
        LOG.warning("%s export failed once (%s); retrying", fmt.upper(), type(first).__name__)
        return fig.to_image(format=fmt, width=width, height=height, scale=scale)
