"""Saved views: a named page plus its filters, kept in ``<warehouse>.views.json`` beside the
warehouse (as ``report/interventions.py`` keeps intervention dates, and for the same reasons:
the warehouse is attached read-only and replaced on every load; a small JSON side file survives
the swap and is written atomically).

A view is stored as the page's URL path and its query string (the same parameters the sidebar
binds to the URL), so reopening it is following a link: ``/<page>?<query>``. Names are short
labels; a view holds filter values only, never patient data.
Format: ``{"version": 1, "views": [{"name", "page", "query"}]}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from report.side_files import read_entries, write_entries

MAX_NAME = 60
#: URL parameter names a saved view may carry (the sidebar's and the pages' bound widgets).
_PARAM = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PAGE = re.compile(r"^[a-z0-9-]{0,40}$")


class SavedViewError(ValueError):
    """A malformed views file or entry; the message names the file and entry."""


@dataclass(frozen=True)
class SavedView:
    name: str
    page: str  # URL path of the page, "" for the default page
    query: str  # the query string, without "?"

    def link(self) -> str:
        """The relative link that reopens the view."""
        return f"/{self.page}" + (f"?{self.query}" if self.query else "")


def path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".views.json")


def make(name: str, page: str, params: dict[str, str]) -> SavedView:
    """A view from a name, a page and URL parameters; refuses what could not be a link of ours."""
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise SavedViewError("a saved view needs a name")
    if not _PAGE.match(page):
        raise SavedViewError("not a page of this dashboard")
    kept = {k: str(v) for k, v in sorted(params.items()) if _PARAM.match(k)}
    return SavedView(name, page, urlencode(kept))


def load(db_path: Path) -> list[SavedView]:
    """Every saved view, by name; a missing file is an empty list."""
    path = path_for(db_path)
    out = []
    for index, entry in enumerate(read_entries(path, "views", SavedViewError)):
        try:
            out.append(make(str(entry["name"]), str(entry["page"]), dict(parse_qsl(str(entry["query"])))))
        except (KeyError, TypeError, SavedViewError) as exc:
            raise SavedViewError(f"{path}: entry {index + 1} needs name, page and query") from exc
    return sorted(out, key=lambda v: v.name.lower())


def _write(db_path: Path, views: list[SavedView]) -> None:
    write_entries(path_for(db_path), "views",
                  [{"name": v.name, "page": v.page, "query": v.query} for v in views])


def save(db_path: Path, view: SavedView) -> list[SavedView]:
    """Add a view; a view of the same name is replaced (saving again updates it)."""
    views = [v for v in load(db_path) if v.name.lower() != view.name.lower()]
    _write(db_path, [*views, view])
    return load(db_path)


def remove(db_path: Path, name: str) -> list[SavedView]:
    _write(db_path, [v for v in load(db_path) if v.name != name])
    return load(db_path)
