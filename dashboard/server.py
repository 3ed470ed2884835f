"""``python -m dashboard.server run dashboard/app.py [flags]``: ``streamlit run`` plus warming.

Exactly Streamlit's own command line (``streamlit.web.cli``: same options, same config files,
same flags), with one addition: before the server starts, a background thread
(``dashboard.warm.at_boot``) waits for Streamlit's runtime and then, while the browser is still
loading the page's JavaScript, imports what the pages import, opens the DuckDB connection, reads
what the sidebar and the first page ask for (stored at load time, ``meta.metric_snapshots``) into
the caches, and reads the marts once so the first filter change does not pay DuckDB's first read.
``outcomes serve`` (``cli.launch``) starts the dashboard with this module.
"""

from __future__ import annotations

import os
import threading


def _warm() -> None:
    # imported in the thread: the app's modules load while Streamlit starts its server
    from dashboard import warm

    warm.at_boot()


def main() -> None:
    if not os.environ.get("OUTCOMES_NO_WARM"):
        threading.Thread(target=_warm, name="outcomes-boot-warm", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
