"""Issue 18: ``serve`` on a busy port says so and exits non-zero; a load leaves nothing behind
in the user's folder but the warehouse itself."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from cli import launch
from pipelines import publish


def test_issue_18_serve_on_a_busy_port_says_so_and_exits_2(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        assert not launch.port_is_free("127.0.0.1", busy)
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--db", str(tmp_path / "w.duckdb"), "--port", str(busy)],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 2
    assert f"port {busy} on 127.0.0.1 is already in use" in done.stderr
    assert "dashboard on http" not in done.stderr  # never announce an address it cannot serve
    assert "outcomes serve --port" in done.stderr  # and it names a free one to use instead


def test_issue_18_next_free_port_skips_the_busy_one() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        suggested = launch.next_free_port("127.0.0.1", busy)
    assert suggested is not None and suggested != busy


def test_issue_18_a_load_leaves_only_the_warehouse_in_its_folder(tmp_path: Path) -> None:
    live = tmp_path / "outcomes.duckdb"
    with publish.build_then_swap(live) as con:
        con.execute("create table t as select 1 as x")
    with publish.build_then_swap(live) as con:  # a second load over the first
        con.execute("create or replace table t as select 2 as x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outcomes.duckdb"]
    assert publish.load_lock_path(live).parent != tmp_path
