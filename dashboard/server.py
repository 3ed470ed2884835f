"""Streamlit's ``streamlit run`` command line, plus warming, run in the calling process.

``run(args)`` is exactly Streamlit's own command line (``streamlit.web.cli``: same options, same
config files, same flags; ``args`` are what follows ``streamlit``), with two additions:

- before the server starts, a background thread (``dashboard.warm.at_boot``) waits for
  Streamlit's runtime and then, while the browser is still loading the page's JavaScript,
  imports what the pages import, opens the DuckDB connection, reads what the sidebar and the
  first page ask for (stored at load time, ``meta.metric_snapshots``) into the caches, and reads
  the marts once so the first filter change does not pay DuckDB's first read;
- Streamlit's scan of every installed package for "v2" custom components is skipped: the
  dashboard uses none, and on a 2-core machine the scan (reading the metadata of every
  installed distribution) costs about 0.2 CPU s of the server's start, before it answers.

``outcomes serve`` (``cli.launch``) calls ``run`` in its own process (no second Python start);
``python -m dashboard.server run dashboard/app.py [flags]`` does the same from a shell.
"""

from __future__ import annotations

import os
import sys
import threading


def _warm() -> None:
    # imported in the thread: the app's modules load while Streamlit starts its server
    from dashboard import warm

    warm.at_boot()


def _skip_component_scan() -> None:
    """No discovery of installed v2 components (none is used; see the module docstring). Best
    effort: a Streamlit without this hook keeps its own behaviour."""
    try:
        from streamlit.components.v2 import component_manager
    except ImportError:
        return
    manager = getattr(component_manager, "BidiComponentManager", None)
    if manager is not None and hasattr(manager, "discover_and_register_components"):
        manager.discover_and_register_components = lambda self, **_: None


def run(args: list[str]) -> int:
    """Run ``streamlit <args>`` here until the server stops; returns its exit code."""
    if not os.environ.get("OUTCOMES_NO_WARM"):
        threading.Thread(target=_warm, name="outcomes-boot-warm", daemon=True).start()
    _skip_component_scan()
    from streamlit.web.cli import main as streamlit_main

    try:
        streamlit_main(args=args, prog_name="streamlit", standalone_mode=True)
    except SystemExit as exc:  # click ends with sys.exit(code)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
