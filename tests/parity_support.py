"""Shared by tests/test_parity_*.py: load the stored reference values and, where ``Rscript`` and
the reference are installed, re-run the reference live (tests/parity/reference.py)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

PARITY = Path(__file__).resolve().parent / "parity"
if str(PARITY.parent) not in sys.path:  # makes ``parity.reference`` importable from tests/
    sys.path.insert(0, str(PARITY.parent))

from parity import reference  # noqa: E402


def stored(name: str) -> dict[str, Any]:
    return json.loads((PARITY / name).read_text(encoding="utf-8"))


def same(product: float | None, expected: object, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    """Product value (NaN or None = missing) against a reference value (None = R's NA)."""
    if product is None or math.isnan(product):
        return expected is None
    if expected is None:
        return False
    return math.isclose(product, float(str(expected)), rel_tol=rel, abs_tol=abs_)


__all__ = ["reference", "same", "stored"]
