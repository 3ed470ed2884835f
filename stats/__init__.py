"""Pure statistics: numpy/scipy/statsmodels/polars only, no SQL, no I/O, no streamlit or plotly."""
