"""Pure statistics on small frames: intervals, effects, survival, SPC, funnels, disclosure control.

No SQL, no I/O, no streamlit or plotly (DESIGN.md section 3): everything here is testable on
hand-made numbers and reused by the metric engine, the dashboard, the CLI and the report.
"""
