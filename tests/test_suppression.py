"""Small-cell suppression, each rule pinned by a hand-computed case (DOMAIN.md section 10)."""

from __future__ import annotations

import polars as pl
import pytest

from stats.suppression import (
    SuppressionSpec,
    display,
    hidden_label,
    marks_note,
    method,
    suppress,
    suppression_mask,
)


def hidden(frame: pl.DataFrame, spec: SuppressionSpec, min_cell: int = 11) -> dict[str, list[bool]]:
    return suppression_mask(frame, spec, min_cell)


def test_counts_from_1_to_10_are_hidden_and_0_and_11_are_shown() -> None:
    frame = pl.DataFrame({"n": [0, 1, 10, 11, 250]})
    assert hidden(frame, SuppressionSpec(counts=("n",)))["n"] == [False, True, True, False, False]


def test_hidden_cells_become_null_with_a_flag_and_derived_figures_go_with_them() -> None:
    frame = pl.DataFrame({"k": [5, 40], "n": [50, 80], "rate": [0.1, 0.5]})
    spec = SuppressionSpec(counts=("k", "n"), derived={"rate": ("k", "n")})
    out = suppress(frame, spec)
    assert out["k"].to_list() == [None, 40]
    assert out["k_suppressed"].to_list() == [True, False]
    assert out["rate"].to_list() == [None, 0.5]
    assert out["rate_suppressed"].to_list() == [True, False]
    assert out["n"].to_list() == [50, 80]


def test_nested_count_whose_remainder_is_small_hides_the_part() -> None:
    # 95 responders of 100 assessed reveals 5 non-responders: hide the responders (and the rate).
    frame = pl.DataFrame({"responders": [95, 60], "assessed": [100, 100]})
    spec = SuppressionSpec(counts=("responders", "assessed"), nested=(("responders", "assessed"),))
    assert hidden(frame, spec)["responders"] == [True, False]
    assert hidden(frame, spec)["assessed"] == [False, False]


def test_all_of_a_group_achieving_reveals_nothing() -> None:
    # 100 of 100: the remainder is 0, which may be shown.
    frame = pl.DataFrame({"k": [100], "n": [100]})
    spec = SuppressionSpec(counts=("k", "n"), nested=(("k", "n"),))
    assert hidden(frame, spec)["k"] == [False]


def test_attrition_relation_hides_the_next_smallest_step_when_one_is_hidden() -> None:
    # episodes 120 = without_baseline 7 (hidden) + with_baseline 113: subtraction would give 7,
    # so the smallest other member, with_baseline (113), is hidden as well.
    frame = pl.DataFrame({"episodes": [120], "without_baseline": [7], "with_baseline": [113]})
    spec = SuppressionSpec(
        counts=("episodes", "without_baseline", "with_baseline"),
        relations=(("episodes", ("without_baseline", "with_baseline")),),
    )
    mask = hidden(frame, spec)
    assert mask == {"episodes": [False], "without_baseline": [True], "with_baseline": [True]}


def test_complementary_suppression_along_a_dimension() -> None:
    # Classes A 50, B 4, C 30, D 0: the total (84) is published, so B = 84 - 50 - 30 would be
    # recoverable; the next-smallest visible non-zero cell (C, 30) is hidden too. D (0) stays.
    frame = pl.DataFrame({"drug_class": ["A", "B", "C", "D"], "n": [50, 4, 30, 0]})
    spec = SuppressionSpec(counts=("n",), margins=("drug_class",))
    assert hidden(frame, spec)["n"] == [False, True, True, False]


def test_two_hidden_cells_in_a_line_need_no_complement() -> None:
    frame = pl.DataFrame({"drug_class": ["A", "B", "C"], "n": [50, 4, 3]})
    spec = SuppressionSpec(counts=("n",), margins=("drug_class",))
    assert hidden(frame, spec)["n"] == [False, True, True]


def test_complementary_suppression_in_a_two_way_table_checks_rows_and_columns() -> None:
    # drug x sex:      F    M
    #   a             40   30
    #   b              5   60
    # b/F is hidden; in column F the complement is a/F (40); in row b it is b/M (60). Then
    # column M has b/M hidden alone -> a/M (30) hidden; row a is then fully hidden.
    frame = pl.DataFrame({
        "drug": ["a", "a", "b", "b"], "sex": ["F", "M", "F", "M"], "n": [40, 30, 5, 60],
    })
    spec = SuppressionSpec(counts=("n",), margins=("drug", "sex"))
    assert hidden(frame, spec)["n"] == [True, True, True, True]


def test_threshold_is_configurable_and_zero_turns_suppression_off() -> None:
    frame = pl.DataFrame({"n": [3, 7, 12]})
    spec = SuppressionSpec(counts=("n",))
    assert hidden(frame, spec, min_cell=5)["n"] == [True, False, False]
    assert hidden(frame, spec, min_cell=0)["n"] == [False, False, False]
    assert "OFF" in method(0)
    assert "1-10 hidden" in method(11)
    with pytest.raises(ValueError, match="min_cell"):
        method(-1)


def test_display_marks_hidden_counts_and_derived_figures() -> None:
    frame = pl.DataFrame({"k": [5, 40], "n": [50, 80], "rate": [0.1, 0.5]})
    spec = SuppressionSpec(counts=("k", "n"), derived={"rate": ("k", "n")})
    shown = display(suppress(frame, spec), {"k": "count", "n": "count", "rate": "pct1"})
    assert shown.rows() == [("<11", "50", "suppressed"), ("40", "80", "50.0%")]
    shown_5 = display(suppress(frame, spec, 6), {"k": "count", "n": "count", "rate": "pct1"}, 6)
    assert shown_5.row(0) == ("<6", "50", "suppressed")


def test_a_complementary_cell_is_flagged_and_reads_suppressed_not_under_11() -> None:
    # Classes A 50, B 4, C 30: B (4) is hidden for being 1-10; the class total 84 is published,
    # so C (30, the next-smallest) is hidden to protect B. C is hidden but NOT under 11: it is
    # flagged complementary and reads "suppressed"; B reads "<11"; the rate of each goes with them.
    frame = pl.DataFrame({"drug_class": ["A", "B", "C"], "k": [20, 2, 12], "n": [50, 4, 30]})
    spec = SuppressionSpec(counts=("k", "n"), derived={"rate": ("k", "n")}, margins=("drug_class",))
    frame = frame.with_columns((pl.col("k") / pl.col("n")).alias("rate"))
    out = suppress(frame, spec)
    assert out["n_suppressed"].to_list() == [False, True, True]
    assert out["n_complementary"].to_list() == [False, False, True]
    # k: B (2) primary; the margin rule then hides C's k (12, the next-smallest) as its complement.
    assert out["k_suppressed"].to_list() == [False, True, True]
    assert out["k_complementary"].to_list() == [False, False, True]
    assert "rate_complementary" not in out.columns  # derived figures only carry _suppressed
    assert [hidden_label(out, "n", i) for i in range(3)] == [None, "<11", "suppressed"]
    assert hidden_label(out, "rate", 1) == "suppressed"
    shown = display(out, {"k": "count", "n": "count", "rate": "pct1"}, columns=["drug_class", "k", "n", "rate"])
    assert shown.rows() == [
        ("A", "20", "50", "40.0%"),
        ("B", "<11", "<11", "suppressed"),
        ("C", "suppressed", "suppressed", "suppressed"),
    ]


def test_nested_rule_hides_a_large_part_as_complementary() -> None:
    # 95 responders of 100: the 5 non-responders are the small cell; the 95 is hidden for them.
    frame = pl.DataFrame({"responders": [95], "assessed": [100]})
    spec = SuppressionSpec(counts=("responders", "assessed"), nested=(("responders", "assessed"),))
    out = suppress(frame, spec)
    assert out["responders_complementary"].to_list() == [True]
    assert display(out, {"responders": "count", "assessed": "count"}).row(0) == ("suppressed", "100")


def test_suppression_off_adds_no_complementary_columns() -> None:
    frame = pl.DataFrame({"n": [3, 40]})
    out = suppress(frame, SuppressionSpec(counts=("n",)), min_cell=0)
    assert out.columns == ["n", "n_suppressed"]


def test_a_hidden_count_without_evidence_of_being_small_reads_suppressed() -> None:
    # A frame that only says "hidden" (no _complementary flag) never claims "<11".
    frame = pl.DataFrame({"n": [None, 40], "n_suppressed": [True, False]})
    assert hidden_label(frame, "n", 0) == "suppressed"
    assert display(frame, {"n": "count"}).rows() == [("suppressed",), ("40",)]


def test_marks_note_explains_both_marks() -> None:
    note = marks_note(11)
    assert "1 to 10" in note and "<11" in note and "'suppressed'" in note


def test_an_alias_of_a_count_carries_its_complementary_flag() -> None:
    # ``denominator`` copies ``n`` (the engine's headline columns): B's 4 reads "<11" in both,
    # C's 30 (hidden to protect B) reads "suppressed" in both.
    frame = pl.DataFrame({"drug_class": ["A", "B", "C"], "k": [20, 2, 12], "n": [50, 4, 30]})
    frame = frame.with_columns(pl.col("n").alias("denominator"))
    spec = SuppressionSpec(counts=("k", "n"), derived={"denominator": ("n",)}, margins=("drug_class",),
                           aliases={"denominator": "n"})
    out = suppress(frame, spec)
    assert out["denominator_complementary"].to_list() == out["n_complementary"].to_list() == [False, False, True]
    assert [hidden_label(out, "denominator", i) for i in range(3)] == [None, "<11", "suppressed"]
