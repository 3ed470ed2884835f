"""The dashboard's pages, in navigation order. ``app.py`` and the tests read this one list.

Each view is a thin module under ``dashboard/views/`` that asks ``dashboard.data`` for metrics and
draws them with ``charts`` and ``components``. To add a page, add one ``View`` entry here (the QI
page ``quality.py`` slots in before ``data_quality``: see ``QUALITY_SLOT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIEWS_DIR = Path(__file__).parent
#: The page that shows docs/privacy.md; every suppression note links to it.
PRIVACY_URL_PATH = "privacy"


@dataclass(frozen=True)
class View:
    """One page: its file in ``views/``, navigation title, icon and URL path (``/`` if default)."""

    file: str
    title: str
    icon: str
    url_path: str
    default: bool = False

    @property
    def path(self) -> str:
        """The page script path relative to ``dashboard/`` (what ``st.Page`` and AppTest take)."""
        return f"views/{self.file}"


VIEWS: list[View] = [
    View("overview.py", "Overview", ":material/monitoring:", "overview", default=True),
    View("response.py", "Response & remission", ":material/trending_down:", "response"),
    View("side_effects.py", "Side effects", ":material/healing:", "side-effects"),
    View("adherence.py", "Adherence & persistence", ":material/medication:", "adherence"),
    View("compare.py", "Compare regimens", ":material/compare_arrows:", "compare"),
    View("pathways.py", "Treatment pathways", ":material/account_tree:", "pathways"),
    View("quality.py", "Quality improvement", ":material/insights:", "quality"),
    View("my_patients.py", "My patients", ":material/assignment_ind:", "my-patients"),
    View("clinicians.py", "Clinicians", ":material/groups:", "clinicians"),
    View("data_quality.py", "Data & loads", ":material/database:", "data"),
    View("privacy.py", "Privacy", ":material/shield:", PRIVACY_URL_PATH),
]
