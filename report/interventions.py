"""Intervention dates for QI charts, kept in ``<warehouse>.annotations.json`` beside the warehouse.

Not ``meta.qi_annotations`` inside the warehouse: ``report.side_files`` says why a side file.
It holds dates and short labels only, no patient data. Format: ``{"version": 1, "annotations": [{"measure", "on", "label"}]}``;
``measure`` "*" applies to every measure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from report.pack import Annotation
from report.side_files import read_entries, write_entries

MAX_LABEL = 80


class AnnotationError(ValueError):
    """A malformed annotations file or entry; the message names the file and entry."""


def path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".annotations.json")


def load(db_path: Path) -> list[Annotation]:
    """Every saved annotation, sorted by date; a missing file is an empty list."""
    path = path_for(db_path)
    out = []
    for index, entry in enumerate(read_entries(path, "annotations", AnnotationError)):
        try:
            out.append(Annotation(str(entry["measure"]), dt.date.fromisoformat(entry["on"]),
                                  str(entry["label"])[:MAX_LABEL]))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnnotationError(f"{path}: entry {index + 1} needs measure, on (YYYY-MM-DD), label") from exc
    return sorted(out, key=lambda a: (a.on, a.measure, a.label))


def _write(db_path: Path, annotations: list[Annotation]) -> None:
    write_entries(path_for(db_path), "annotations", [
        {"measure": a.measure, "on": a.on.isoformat(), "label": a.label} for a in annotations])


def add(db_path: Path, annotation: Annotation) -> list[Annotation]:
    label = annotation.label.strip()
    if not label:
        raise AnnotationError("an intervention needs a short label (what changed)")
    saved = load(db_path)
    new = Annotation(annotation.measure, annotation.on, label[:MAX_LABEL])
    if new not in saved:
        saved.append(new)
    _write(db_path, saved)
    return load(db_path)


def remove(db_path: Path, annotation: Annotation) -> list[Annotation]:
    _write(db_path, [a for a in load(db_path) if a != annotation])
    return load(db_path)
