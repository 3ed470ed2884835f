"""Privacy: how small counts are protected (renders docs/privacy.md; the app has no internet)."""

from pathlib import Path

import streamlit as st

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"

st.title("Privacy")
if DOC.is_file():
    text = DOC.read_text(encoding="utf-8")
    # the file's own top heading repeats the page title
    body = text.split("\n", 1)[1] if text.startswith("# ") else text
    st.markdown(body)
else:  # an install without the docs folder
    st.write("Counts from 1 to 10 are hidden; every count is perturbed by at most 2 (cell-key "
             "perturbation) so that hidden counts cannot be worked out from several views.")
