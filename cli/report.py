"""``outcomes report``: the QI meeting pack as one self-contained HTML file (and a PDF).

``outcomes report --db FILE --period 2025-Q3 [--site S] --out pack.html [--pdf]`` writes the
measures table, control charts with their signals in plain words, funnels, the top changes
since the previous period, the definitions in force and the suppression threshold. The HTML
embeds plotly.js and needs no network to open. ``--pdf`` also prints ``pack.pdf`` with headless
chromium. Intervention dates saved on the QI page (``<db>.annotations.json``) split the charts
into phases.

``--compare METRIC:KEY=A:KEY=B`` (repeatable), e.g. ``response:drug=sertraline:drug=escitalopram``,
adds a "Regimen comparisons" section adjusted by propensity score (``--adjust weighting``, the
default, or ``matching``): the balance verdict first, the effect only when balance was reached
(``report.comparisons``, docs/adjusted-comparisons.md).
"""

from __future__ import annotations

from pathlib import Path

from cli.common import add_db_argument, error, note, resolve_db

EXIT_BAD_INPUT = 2
EXIT_PDF_FAILED = 3


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "report",
        help="QI meeting pack: one self-contained HTML file (measures, control charts, funnels)",
        description="Write the quality-improvement meeting pack for a period as one HTML file "
        "that opens offline; --pdf also prints a PDF with headless chromium.",
    )
    add_db_argument(parser)
    parser.add_argument("--period", help="2025-Q3 (quarter), 2025-07 (month) or 2025; default: the latest "
                        "quarter whose follow-up windows have all closed (queries.periods)")
    parser.add_argument("--site", help="one site only (funnels then compare its clinicians)")
    parser.add_argument("--out", type=Path, default=Path("pack.html"), help="HTML file to write")
    parser.add_argument("--pdf", action="store_true", help="also write a PDF beside the HTML")
    parser.add_argument("--compare", action="append", default=[], metavar="METRIC:KEY=A:KEY=B",
                        help="add an adjusted regimen comparison, e.g. "
                        "response:drug=sertraline:drug=escitalopram (repeatable)")
    parser.add_argument("--adjust", choices=("weighting", "matching"), default="weighting",
                        help="how --compare adjusts for who got which drug (default weighting)")
    parser.add_argument("--trim", type=float, metavar="PCT",
                        help="--compare: exclude episodes outside common support (as `outcomes "
                        "compare --trim`), e.g. --trim 1")
    parser.set_defaults(func=_run)


def _latest_complete_quarter(db: Path) -> str | None:
    import duckdb

    from queries.periods import completeness, latest_complete_quarter

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return latest_complete_quarter(completeness(con))
    finally:
        con.close()


def _run(args) -> int:  # type: ignore[no-untyped-def]
    import duckdb

    from queries import qi
    from queries.engine import MetricError
    from report import PdfError, render_html, write_pdf
    from report import interventions as annotation_store
    from report.comparisons import parse_spec
    from report.pack import build_pack

    try:
        specs = tuple(parse_spec(text) for text in args.compare)
        if args.trim is not None and not 0 <= args.trim < 50:
            raise MetricError("--trim: a percentile from 0 to below 50, e.g. 1")
    except MetricError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    db = resolve_db(args.db)
    if args.period is None and db.exists():
        args.period = _latest_complete_quarter(db)
        if args.period is None:
            error(f"{db}: the warehouse records no data end; give --period")
            return EXIT_BAD_INPUT
        note(f"period {args.period}: the latest quarter whose follow-up windows have closed "
             "(give --period for another)")
    try:
        period = qi.parse_period(args.period or "")
    except qi.QIError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    if not db.exists():
        error(f"{db}: no warehouse file there; create one with `outcomes demo` or `outcomes ingest`")
        return EXIT_BAD_INPUT
    try:
        saved = annotation_store.load(db)
    except annotation_store.AnnotationError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        error(f"{db}: DuckDB cannot open it ({str(exc).splitlines()[0]})")
        return EXIT_BAD_INPUT

    try:
        pack = build_pack(con, period, site=args.site, annotations=saved, comparisons=specs,
                          adjust=args.adjust, trim_percentile=args.trim)
    except (MetricError, qi.QIError) as exc:  # a site the warehouse does not know; a bad min_cell
        error(str(exc))
        return EXIT_BAD_INPUT
    except duckdb.CatalogException as exc:
        error(f"{db}: the warehouse lacks a mart the measures read ({str(exc).splitlines()[0]}); "
              "rebuild it with `outcomes ingest`")
        return EXIT_BAD_INPUT
    finally:
        con.close()
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(pack), encoding="utf-8")
    note(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; opens offline)")
    if args.pdf:
        pdf = out.with_suffix(".pdf")
        try:
            write_pdf(out, pdf)
        except PdfError as exc:
            error(str(exc))
            return EXIT_PDF_FAILED
        note(f"wrote {pdf}")
    return 0
