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
        "| Metric | Domain | Kind | Title |",
        "| --- | --- | --- | --- |",
    ]
    catalogue = loader.catalog()
    lines += [f"| [`{q.name}`](#{q.name}) | {q.domain} | {q.kind} | {q.title} |" for q in catalogue.values()]
    for q in catalogue.values():
        lines += ["", f"## {q.name}", "", f"**{q.title}** (`queries/{q.domain}/{q.name}.sql`, {q.kind})", "",
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
