"""Small-cell suppression: the one function every published figure passes through.

Rules (DOMAIN.md section 10, CMS cell size suppression policy; threshold ``min_cell``, default 11):

1. **Primary.** A count from 1 to ``min_cell - 1`` is hidden; 0 is shown.
2. **Nested counts.** For a declared pair ``(part, whole)`` (e.g. responders within assessed
   episodes) the unpublished difference ``whole - part`` is a cell too: when it is from 1 to
   ``min_cell - 1`` and both are visible, the part is hidden (it is the smaller of the two).
3. **Exact row relations.** For ``total = part_1 + ... + part_k`` (attrition steps), if exactly
   one member is hidden and non-zero, it could be recovered by subtraction, so the smallest other
   visible non-zero member is hidden too.
4. **Complementary suppression along margins.** Totals over each dimension are published (the
   same metric without that dimension), so within every line of the table along a dimension, a
   lone hidden non-zero cell would be recoverable: the next-smallest visible non-zero cell is
   hidden as well.
5. **Derived figures.** Every rate, interval, NNT or label computed from a hidden count is hidden.

Rules 2-4 repeat until nothing changes.

**With cell-key perturbation** (the default when the warehouse has a cell-key salt;
``stats.cell_key``, docs/privacy.md) the counts in the frame are already the published, perturbed
values and ``SuppressionSpec.true_counts`` holds the true ones. Rule 1 then hides a cell whose
true *or* published count is from 1 to ``min_cell - 1``; rules 2-4 are not applied, because a
difference of perturbed counts carries the noise of every cell in it, so subtracting visible
cells no longer gives a hidden one back. Rule 5 applies as before. Hidden cells become null and ``<col>_suppressed`` is
true. With suppression on, every count column also gets ``<col>_complementary``: true for a cell
hidden only by rules 2-4 (its own value is 0 or at least ``min_cell``, e.g. 50), false otherwise.
``min_cell=0`` (or 1) turns suppression off; the method string says so, and no
``_complementary`` columns are added (nothing is hidden).

**How hidden cells read** (``hidden_label``, the one rule every display point uses): a count
hidden for being 1 to ``min_cell - 1`` reads ``<11`` (``mark``); a count hidden by complementary
suppression, and every derived figure, reads ``suppressed``. ``<11`` is a claim about the value,
so it is made only when the frame says so (``<col>_complementary`` present and false).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

DEFAULT_MIN_CELL = 11


@dataclass(frozen=True)
class SuppressionSpec:
    """Which columns are counts, which are derived from which counts, and how they relate."""

    counts: tuple[str, ...]
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    nested: tuple[tuple[str, str], ...] = ()
    relations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    margins: tuple[str, ...] = ()
    #: derived columns that are copies of one count (``numerator`` of ``responders``): hidden
    #: with it, and labelled like it, so they carry its ``_complementary`` flag too
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: with cell-key perturbation: the true value of each perturbed count column (the frame
    #: holds the published ones); rule 1 checks both, rules 2-4 are skipped
    true_counts: Mapping[str, Sequence[int | None]] = field(default_factory=dict)
    perturbed: bool = False


def is_off(min_cell: int) -> bool:
    return min_cell <= 1


def method(min_cell: int, perturbed: bool = False) -> str:
    """A one-line description of the suppression applied, recorded with every result."""
    if min_cell < 0:
        raise ValueError(f"min_cell must be 0 or more, got {min_cell}")
    if is_off(min_cell):
        return "suppression OFF (min_cell=0): small counts are shown; for local analysis only, do not share"
    if perturbed:
        return (
            "cell-key perturbation (ABS TableBuilder; noise -2..+2, zero-mean, the same cell always "
            f"shows the same value), then counts whose true or published value is 1-{min_cell - 1} "
            "hidden (0 shown); rates and intervals computed from the published counts, and "
            "hidden with a hidden count (docs/privacy.md)"
        )
    return (
        f"counts 1-{min_cell - 1} hidden (0 shown), with complementary suppression along margins "
        "and attrition steps; figures derived from a hidden count hidden (CMS cell size policy)"
    )


def mark(min_cell: int) -> str:
    """The display string of a hidden count: '<11' for the default threshold."""
    return f"<{min_cell}"


SUPPRESSED_WORD = "suppressed"


def marks_note(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The sentence that explains both marks, for captions, footers and the meeting pack."""
    return (
        f"Counts from 1 to {min_cell - 1} are shown as {mark(min_cell)}; other figures hidden so that "
        f"one could not be worked out are shown as '{SUPPRESSED_WORD}'."
    )


def suppression_mask(
    frame: pl.DataFrame, spec: SuppressionSpec, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, list[bool]]:
    """Which cells to hide, per column (counts and derived columns), without changing the frame."""
    return _masks(frame, spec, min_cell)[0]


def complementary_mask(
    frame: pl.DataFrame, spec: SuppressionSpec, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, list[bool]]:
    """Per count column, the cells hidden only by rules 2-4 (not themselves 1..min_cell-1)."""
    return _masks(frame, spec, min_cell)[1]


def _masks(
    frame: pl.DataFrame, spec: SuppressionSpec, min_cell: int
) -> tuple[dict[str, list[bool]], dict[str, list[bool]]]:
    """(hidden per counted and derived column, complementary per count column)."""
    method(min_cell)  # validates min_cell
    height = frame.height
    values = {c: [_as_int(v) for v in frame.get_column(c).to_list()] for c in spec.counts}
    hidden = {c: [False] * height for c in spec.counts}
    primary = {c: [False] * height for c in spec.counts}
    if not is_off(min_cell):
        for col in spec.counts:
            primary[col] = [v is not None and 1 <= v < min_cell for v in values[col]]
            true = spec.true_counts.get(col)
            if true is not None:  # perturbed: a true count of 1..min_cell-1 is hidden too
                primary[col] = [
                    p or (t is not None and 1 <= t < min_cell)
                    for p, t in zip(primary[col], true, strict=True)
                ]
            hidden[col] = list(primary[col])
        changed = not spec.perturbed
        while changed:
            changed = _apply_nested(values, hidden, spec.nested, min_cell)
            changed = _apply_relations(values, hidden, spec.relations) or changed
            changed = _apply_margins(frame, values, hidden, spec, spec.margins) or changed
    complementary = {
        c: [h and not p for h, p in zip(hidden[c], primary[c], strict=True)] for c in spec.counts
    }
    mask: dict[str, list[bool]] = dict(hidden)
    for col, sources in spec.derived.items():
        mask[col] = [any(hidden[s][i] for s in sources) for i in range(height)]
    return mask, complementary


def suppress(
    frame: pl.DataFrame, spec: SuppressionSpec, min_cell: int = DEFAULT_MIN_CELL
) -> pl.DataFrame:
    """Null every hidden cell and add a boolean ``<col>_suppressed`` beside each checked column;
    with suppression on, also ``<col>_complementary`` beside each count column."""
    mask, complementary = _masks(frame, spec, min_cell)
    out = frame
    for col, flags in mask.items():
        flag = pl.Series(f"{col}_suppressed", flags, dtype=pl.Boolean)
        out = out.with_columns(
            pl.when(flag).then(None).otherwise(pl.col(col)).alias(col), flag
        )
    if not is_off(min_cell):
        # Only when suppression is on: with it off nothing is hidden, and outputs (goldens,
        # --min-cell 0 exports) keep the columns they always had.
        flags_by_column = {
            **complementary,
            **{alias: complementary[source] for alias, source in spec.aliases.items()
               if source in complementary and alias in frame.columns},
        }
        out = out.with_columns(
            pl.Series(f"{col}_complementary", flags, dtype=pl.Boolean)
            for col, flags in flags_by_column.items()
        )
    return out


def is_flag_column(column: str) -> bool:
    """Whether a column is a suppression flag (``_suppressed`` / ``_complementary``), not data."""
    return column.endswith(("_suppressed", "_complementary"))


def is_hidden(frame: pl.DataFrame, column: str, row: int = 0) -> bool:
    """Whether the query layer hid this cell (``<col>_suppressed`` true)."""
    flag = f"{column}_suppressed"
    return bool(flag in frame.columns and row < frame.height and frame[flag][row])


def is_primary_hidden(frame: pl.DataFrame, column: str, row: int = 0) -> bool:
    """Whether this cell is a count hidden for being 1..min_cell-1 itself. Needs positive
    evidence: ``<col>_complementary`` present and false (derived columns never have it)."""
    flag = f"{column}_complementary"
    return is_hidden(frame, column, row) and flag in frame.columns and not frame[flag][row]


def label_of_hidden(primary: bool, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The display rule: ``<11`` for a count that is itself 1..min_cell-1, else 'suppressed'."""
    return mark(min_cell) if primary else SUPPRESSED_WORD


def hidden_label(
    frame: pl.DataFrame, column: str, row: int = 0, min_cell: int = DEFAULT_MIN_CELL
) -> str | None:
    """How a cell reads when hidden (``<11`` or 'suppressed'); None when the cell is shown."""
    if not is_hidden(frame, column, row):
        return None
    return label_of_hidden(is_primary_hidden(frame, column, row), min_cell)


def hidden_labels(
    frame: pl.DataFrame, column: str, min_cell: int = DEFAULT_MIN_CELL
) -> list[str | None]:
    """``hidden_label`` for every row of one column."""
    height = frame.height
    hidden = _flags(frame, f"{column}_suppressed", height)
    complementary = (
        _flags(frame, f"{column}_complementary", height)
        if f"{column}_complementary" in frame.columns
        else [True] * height  # no evidence that a hidden cell is 1..min_cell-1
    )
    return [
        label_of_hidden(not c, min_cell) if h else None
        for h, c in zip(hidden, complementary, strict=True)
    ]


def _flags(frame: pl.DataFrame, flag: str, height: int) -> list[bool]:
    if flag not in frame.columns:
        return [False] * height
    return [bool(v) for v in frame.get_column(flag).fill_null(False).to_list()]


def _as_int(value: object) -> int | None:
    if value is None:
        return None
    return int(value)  # type: ignore[call-overload]


def _visible_nonzero(values: list[int | None], hidden: list[bool], i: int) -> bool:
    v = values[i]
    return not hidden[i] and v is not None and v > 0


def _apply_nested(values, hidden, nested, min_cell) -> bool:
    changed = False
    for part, whole in nested:
        for i, (p, w) in enumerate(zip(values[part], values[whole], strict=True)):
            if p is None or w is None or hidden[part][i] or hidden[whole][i]:
                continue
            if 1 <= w - p < min_cell and p > 0:
                hidden[part][i] = True
                changed = True
    return changed


def _hide_next_smallest(cells: list[tuple[str, int]], values, hidden) -> bool:
    """Among ``cells`` (column, row), if exactly one is hidden with a non-zero value, hide the
    smallest visible non-zero one. Returns whether anything changed."""
    hidden_nonzero = [
        (c, i) for c, i in cells if hidden[c][i] and values[c][i] is not None and values[c][i] > 0
    ]
    if len(hidden_nonzero) != 1:
        return False
    candidates = [(values[c][i], c, i) for c, i in cells if _visible_nonzero(values[c], hidden[c], i)]
    if not candidates:
        return False
    _, col, row = min(candidates)
    hidden[col][row] = True
    return True


def _apply_relations(values, hidden, relations) -> bool:
    changed = False
    if not relations:
        return False
    height = len(next(iter(values.values())))
    for total, parts in relations:
        for i in range(height):
            cells = [(total, i)] + [(p, i) for p in parts]
            changed = _hide_next_smallest(cells, values, hidden) or changed
    return changed


def _apply_margins(frame, values, hidden, spec, margins) -> bool:
    changed = False
    for dim in margins:
        others = [d for d in margins if d != dim]
        lines: dict[tuple[object, ...], list[int]] = {}
        keys = frame.select(others).rows() if others else [()] * frame.height
        for i, key in enumerate(keys):
            lines.setdefault(tuple(key), []).append(i)
        for rows in lines.values():
            if len(rows) < 2:
                continue
            for col in spec.counts:
                cells = [(col, i) for i in rows]
                changed = _hide_next_smallest(cells, values, hidden) or changed
    return changed


def display(
    frame: pl.DataFrame,
    formats: Mapping[str, str | None],
    min_cell: int = DEFAULT_MIN_CELL,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Strings for people: a count hidden for being 1..min_cell-1 reads '<11'; a count hidden by
    complementary suppression and every hidden derived figure read 'suppressed'.

    ``formats`` maps a column to ``count``, ``pct1``, ``num1``, ``num2``, ``days`` or None.
    """
    shown = list(columns) if columns is not None else [
        c for c in frame.columns if not is_flag_column(c)
    ]
    data: dict[str, list[str]] = {}
    for col in shown:
        labels = hidden_labels(frame, col, min_cell)
        if formats.get(col) != "count":  # a derived figure is never itself a count of 1-10
            labels = [None if label is None else SUPPRESSED_WORD for label in labels]
        fmt = formats.get(col)
        data[col] = [
            format_value(v, fmt) if label is None else label
            for v, label in zip(frame.get_column(col).to_list(), labels, strict=True)
        ]
    return pl.DataFrame(data, schema=dict.fromkeys(shown, pl.String))


def format_value(value: object, fmt: str | None) -> str:
    if value is None:
        return "-"
    if fmt == "pct1" and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    if fmt == "num1" and isinstance(value, int | float):
        return f"{value:.1f}"
    if fmt == "num2" and isinstance(value, int | float):
        return f"{value:.2f}"
    if fmt in ("count", "days") and isinstance(value, int | float):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
