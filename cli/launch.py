"""Start the dashboard: ``streamlit run dashboard/app.py`` with clinical-data settings.

``serve()`` is what ``outcomes serve`` and ``outcomes demo`` call. It runs Streamlit's own
``streamlit run`` command line (so the app reads ``dashboard/.streamlit/config.toml`` beside the
script; ``st.App`` would ignore it) through ``dashboard.server``, in this same process: a child
process cost a second Python start and the ``outcomes`` parser's imports again, on the way to
the first page (docs/dashboard.md, "Speed"). ``dashboard.server`` adds a thread that warms the
caches while the server starts (``OUTCOMES_NO_WARM=1`` turns it off), and repeats the security-relevant settings as command-line flags, which take precedence
over any ``~/.streamlit/config.toml`` a user may have: bound to localhost unless asked otherwise,
no usage statistics, no tracebacks sent to the browser, viewer toolbar, no static file serving.
The warehouse path reaches the app through the environment variable ``OUTCOMES_DB``.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"

#: Settings that must hold whatever a user's own Streamlit configuration says (DESIGN.md §6).
SECURITY_FLAGS: tuple[str, ...] = (
    "--server.headless=true",
    "--browser.gatherUsageStats=false",
    "--client.showErrorDetails=none",
    "--client.toolbarMode=viewer",
    "--server.enableStaticServing=false",
    "--server.enableCORS=true",
    "--server.enableXsrfProtection=true",
)
#: No file watcher: the served app never reloads on a change (``runOnSave = false``), and
#: Streamlit's polling watcher hashes the app's files every few seconds, on the first page's time too.
SPEED_FLAGS: tuple[str, ...] = ("--server.fileWatcherType=none",)


def streamlit_args(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """Streamlit's command line (after ``streamlit``) that ``serve`` runs."""
    return ["run", str(APP_PATH), f"--server.port={int(port)}", f"--server.address={address}",
            *SECURITY_FLAGS, *SPEED_FLAGS]


def streamlit_command(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The same, as a shell command that starts the app in its own process (useful to tests and
    to deployment notes)."""
    return [sys.executable, "-m", "dashboard.server", *streamlit_args(port, address)]


#: Exit code of ``outcomes serve`` when the port is taken: a usage problem, like a bad option.
EXIT_PORT_IN_USE = 2


def port_is_free(address: str, port: int) -> bool:
    """Whether a server could listen on ``address:port`` now (checked by binding, then closing).

    Streamlit itself prints its address first and fails afterwards on a busy port, so ``serve``
    checks before starting it. A race with another process taking the port in between is possible
    but harmless: Streamlit then fails as before.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # No SO_REUSEADDR: a port held by a listening server must read as busy.
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def next_free_port(address: str, start: int, tries: int = 20) -> int | None:
    """The first free port from ``start`` on, within ``tries`` ports, to suggest to the user."""
    return next((p for p in range(start, min(start + tries, 65536)) if port_is_free(address, p)), None)


def serve(db_path: str | os.PathLike[str], port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the dashboard on ``address:port`` over the warehouse ``db_path`` until interrupted.

    Returns Streamlit's exit code (0 after Ctrl+C or SIGTERM, which stop the server). A missing
    warehouse is not an error here: the app itself explains which command creates it.
    """
    db = Path(db_path).expanduser().resolve()
    if not db.exists():
        print(
            f"outcomes serve: warning: {db} does not exist yet; the dashboard will say how to "
            "create it (outcomes demo, or outcomes ingest FOLDER --db FILE)",
            file=sys.stderr,
        )
    if address not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"outcomes serve: note: listening on {address}, not only on this machine; put a TLS "
            "proxy in front and configure sign-in ([auth] in dashboard/.streamlit/secrets.toml)",
            file=sys.stderr,
        )
    if not port_is_free(address, port):
        free = next_free_port(address, port + 1)
        hint = f"; port {free} is free: outcomes serve --port {free}" if free else ""
        print(f"outcomes serve: error: port {port} on {address} is already in use{hint}",
              file=sys.stderr)
        return EXIT_PORT_IN_USE
    os.environ["OUTCOMES_DB"] = str(db)
    print(f"outcomes serve: dashboard on http://{address}:{port}/ (Ctrl+C stops it)", file=sys.stderr)
    from dashboard import server

    # Streamlit installs its own SIGINT/SIGTERM handlers, which stop the server and return here.
    return server.run(streamlit_args(port, address))
