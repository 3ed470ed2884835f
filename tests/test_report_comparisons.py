"""The meeting pack's "Regimen comparisons" section (``outcomes report --compare``,
report/comparisons.py) on the session warehouse: it renders; each comparison states its balance
verdict before any effect; a comparison whose balance was not reached presents no effect; and
no count from 1 to 10 is printed (a hidden count reads "<11" or "suppressed")."""

from __future__ import annotations

import re

import pytest

from cli.main import main
from queries.engine import MetricError
from report.comparisons import parse_spec

BALANCED = "response:drug=sertraline:drug=escitalopram"
SMALL = "response:drug=sertraline,site_id=S04:drug=venlafaxine,site_id=S04"


@pytest.fixture(scope="module")
def section(warehouse_path, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("pack") / "pack.html"
    # --trim 5: on the sample clinic, sertraline vs escitalopram then reaches balance, and
    # sertraline vs fluoxetine still does not (age); a site's small groups exercise suppression.
    code = main(["report", "--db", str(warehouse_path), "--period", "2025-Q2", "--out", str(out),
                 "--compare", BALANCED, "--compare", "response:drug=sertraline:drug=fluoxetine",
                 "--compare", SMALL, "--trim", "5"])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert "<h2 id='comparisons'>Regimen comparisons</h2>" in page
    return page[page.index("<h2 id='comparisons'>"):page.index("<h2 id='definitions'>")]


def _sections(section: str) -> list[str]:
    return re.findall(r"<section class='comparison'>.*?</section>", section, flags=re.S)


def test_each_comparison_renders_with_its_verdict_before_the_effect(section) -> None:  # type: ignore[no-untyped-def]
    sections = _sections(section)
    assert len(sections) == 3
    adjusted = [s for s in sections if "class='verdict" in s]
    assert adjusted, "no comparison could be adjusted on this warehouse"
    for s in adjusted:
        assert s.index("class='verdict") < s.index("class='effect'")
        assert s.index("class='verdict") < s.index("love-")  # the love plot comes after it too


def test_a_balanced_comparison_shows_the_effect_in_words(section) -> None:  # type: ignore[no-untyped-def]
    first = _sections(section)[0]
    if "Balance reached" not in first:
        pytest.skip("sertraline vs escitalopram is not balanced on this warehouse")
    effect = first[first.index("class='effect'"):]
    assert "After weighting, the response rate is" in effect
    assert "percentage points (95% CI" in effect and "E-value" in effect


def test_an_unbalanced_comparison_says_so_and_presents_no_effect(section) -> None:  # type: ignore[no-untyped-def]
    unbalanced = [s for s in _sections(section) if "Balance not reached" in s]
    if not unbalanced:
        pytest.skip("every comparison reached balance on this warehouse")
    for s in unbalanced:
        assert "no effect is presented as the answer" in s
        assert "After weighting" not in s and "percentage points" not in s
        assert "Effect: not shown, because balance was not reached" in s


def test_no_count_from_1_to_10_is_printed(section) -> None:  # type: ignore[no-untyped-def]
    counts = re.findall(r"<span class='count'>([^<]*)</span>", section)
    assert counts, "the section printed no counts"
    for text in counts:
        text = text.replace("&lt;", "<")
        assert text in ("<11", "suppressed") or int(text.replace(",", "")) == 0 or \
            int(text.replace(",", "")) >= 11, text
    # nor in running text: "7 episodes", "of 9 sertraline", "pairs: 4"
    plain = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", section, flags=re.S))
    assert not re.search(r"(?<![\d.,-])([1-9]|10)(?![\d.,%])\s+(episodes|pairs)", plain)
    assert not re.search(r"(pairs|of):?\s+([1-9]|10)(?![\d.,%])\s", plain)


@pytest.mark.parametrize(("text", "reason"), [
    ("response:drug=sertraline", "expected METRIC:KEY=A:KEY=B"),
    ("response:drug=a:colour=b", "unknown key 'colour'"),
    ("nosuchmetric:drug=a:drug=b", "unknown metric"),
    ("response:drug=a:drug=a", "the same"),
    ("response:drug:drug=b", "needs KEY=VALUE"),
])
def test_a_bad_compare_value_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(MetricError, match=re.escape(reason)):
        parse_spec(text)


def test_the_cli_exits_2_on_a_bad_compare_value(warehouse_path, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["report", "--db", str(warehouse_path), "--period", "2025-Q2",
                 "--out", str(tmp_path / "p.html"), "--compare", "response:drug=x"])
    assert code == 2 and "METRIC:KEY=A:KEY=B" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()


def _matched(pairs: int, risk_a: float, risk_b: float, hidden: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """A matched comparison as ``queries.adjusted`` hands it over (counts already suppressed)."""
    from types import SimpleNamespace

    import polars as pl

    values = {"n_a": pairs + 25, "trimmed_a": 0, "used_a": pairs, "unmatched_a": 25,
              "n_b": pairs + 40, "trimmed_b": 0, "used_b": pairs, "unmatched_b": 40}
    counts = pl.DataFrame({c: [None if c in hidden else v] for c, v in values.items()},
                          schema=dict.fromkeys(values, pl.Int64))
    counts = counts.with_columns(**{f"{c}_suppressed": pl.lit(c in hidden) for c in values},
                                 **{f"{c}_complementary": pl.lit(False) for c in values})
    effect = SimpleNamespace(value=risk_a - risk_b, low=risk_a - risk_b - 0.1,
                             high=risk_a - risk_b + 0.1, method="bootstrap")
    analysis = SimpleNamespace(
        method="matching", estimand="ATT (matched)", covariates=["age"], trustworthy=True,
        warnings=[], trim_percentile=None, matched_pairs=pairs, ess_a=pairs, ess_b=pairs,
        overlap=SimpleNamespace(outside_a=0.0, outside_b=0.0, quantiles_a=(0.2, 0.5, 0.8),
                                quantiles_b=(0.2, 0.5, 0.8), poor=False),
        risks=SimpleNamespace(risk_a=risk_a, risk_b=risk_b, difference=effect,
                              ratio=SimpleNamespace(value=1.0, low=None, high=None, method="-")),
        nnt=SimpleNamespace(text="NNT -"), e_value=None)
    balance = pl.DataFrame({"covariate": ["age"], "level": [None], "smd_before": [0.3],
                            "smd_after": [0.02]}, schema_overrides={"level": pl.String})
    result = SimpleNamespace(analysis=analysis, counts=counts, balance=balance, min_cell=11)
    return SimpleNamespace(title="Response rate", label_a="A drug", label_b="B drug",
                           propensity=result)


def test_matched_rates_that_would_reveal_1_to_10_events_are_suppressed() -> None:
    from report.comparisons import (
        ComparisonSection,
        ComparisonSpec,
        hidden_matched_events,
        render_section,
    )
    from report.html import _Figures

    # 40 pairs at 20% are 8 events of A: the rates (and so the effect) would reveal them
    assert hidden_matched_events(_matched(40, 0.20, 0.50).propensity)
    # 40 pairs at 50% and 30% are 20 and 12 events, 20 and 28 non-events: all shown
    assert not hidden_matched_events(_matched(40, 0.50, 0.30).propensity)
    # 40 pairs at 80%: 32 events but 8 non-events, hidden too
    assert hidden_matched_events(_matched(40, 0.50, 0.80).propensity)
    spec = ComparisonSpec("response", {"drug": "a"}, {"drug": "b"})
    c = _matched(40, 0.20, 0.50, hidden=("unmatched_b",))
    html = render_section(ComparisonSection(spec, "matching", c), _Figures(), 0)
    assert "Effect: suppressed" in html and "After matching" not in html
    assert "<span class='count'>&lt;11</span>" in html  # the hidden unmatched count
    assert "<span class='count'>40</span>" in html  # the pairs
