"""The metric catalogue for people, generated from the query headers (docs/metrics.md).

``python -m queries.catalogue > docs/metrics.md`` regenerates it; a test fails when the file and
the headers differ, so the document cannot drift from the SQL.
"""

from __future__ import annotations

from queries import loader
from queries.engine import dimensions_of


def render() -> str:
    lines = [
        "# Metric catalogue",
        "",
        "Generated from the headers of `queries/**/*.sql` by `python -m queries.catalogue > "
        "docs/metrics.md`; do not edit by hand. Every figure passes through small-cell "
        "suppression (counts 1-10 hidden by default). `outcomes metric NAME --by DIM` computes "
        "one; `outcomes metrics --list` lists them.",
        "",
        "The shared filters (period, site, clinician, diagnosis group, age band, sex, drug class, "
        "drug) are declared once in `pipelines/query_filters.py` and composed around each file's "
        "SQL from its header (`metric.filters`, `metric.period`): a unit-level metric's rows are "
        "filtered as it returns them; a metric that must filter before it aggregates (every "
        "`table` metric, and those that look across rows) names the mart to filter in "
        "`metric.filter_source` (for example `marts.fct_treatment_episodes`), and its SQL reads "
        "the leading CTE `filtered_source` (that mart's rows passing the filters) where it read "
        "the mart. Their parameters are never restated in a header. A file with `variants:` "
        "holds several metrics that share one SQL (each variant fixes its `constants`, which "
        "fill their `$name` in the shared header, and returns only the columns it declares). "
        "Header shorthands (`metric.observed_rate`, `metric.source`, the tests a unit and an "
        "attrition imply, `columns_from: worklist`) are spelt out by "
        "`pipelines/metric_shorthand.py`; the entries below are the expanded headers.",
        "",
        "| Metric | Domain | Kind | Title |",
        "| --- | --- | --- | --- |",
    ]
    catalogue = loader.catalog()
    lines += [f"| [`{q.name}`](#{q.name}) | {q.domain} | {q.kind} | {q.title} |" for q in catalogue.values()]
    for q in catalogue.values():
        lines += ["", f"## {q.name}", "", f"**{q.title}** (`queries/{q.domain}/{q.path.name}`, {q.kind})", "",
                  q.description, "", f"- Grain: {q.grain}"]
        dims = dimensions_of(q)
        lines.append(f"- `--by`: {', '.join(dims) if dims else 'fixed grain'}")
        rates = q.metric.get("rates", [])
        for i, rate in enumerate(rates):
            name = "rate" if i == 0 else rate["name"]
            label = f" - {rate['label']}" if rate.get("label") else ""
            lines.append(f"- `{name}` = {rate['numerator']} / {rate['denominator']}{label}")
        if q.params:
            lines.append("- Parameters: " + ", ".join(
                f"`{p}`" + (f" (default {spec['default']})" if spec.get("default") is not None else "")
                for p, spec in q.params.items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
