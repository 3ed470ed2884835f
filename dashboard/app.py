"""Entrypoint frame of the dashboard: page config, sign-in gate, sidebar filters, navigation.

Run it with ``outcomes serve`` (which passes the warehouse in ``$OUTCOMES_DB`` and the security
settings), not by hand. Views live in ``dashboard/views/`` and are listed in ``views.VIEWS``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth, components, data, filters, warm
from dashboard.views import VIEWS, VIEWS_DIR

st.set_page_config(
    page_title="Psych outcomes",
    # A file shipped with the app: an emoji or material-icon favicon is fetched from the internet,
    # which fails offline and tells a third party that the dashboard was opened.
    page_icon=str(Path(__file__).parent / "assets" / "icon.png"),
    layout="wide",
    initial_sidebar_state="auto",  # collapsed on a phone, where it would cover the page
)
auth.require_user()

status = data.status()
if not status.ok:
    components.database_message(status)
    st.stop()

for notice in filters.url_notices():
    st.warning(notice, icon=":material/link_off:")
with st.sidebar:
    filters.sidebar()

pages = [
    st.Page(
        VIEWS_DIR / view.file,
        title=view.title,
        icon=view.icon,
        url_path=None if view.default else view.url_path,
        default=view.default,
    )
    for view in VIEWS
]
page = st.navigation(pages, position="sidebar")
with st.sidebar:
    components.saved_views(page.url_path)
page.run()
# After the page is drawn (not before: on two cores it would slow the page being waited for),
# once per warehouse version: the other pages' default figures, in a background thread.
warm.start(filters.current())
