"""Pure statistics: no SQL, no I/O, no streamlit/plotly."""
