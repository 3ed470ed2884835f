"""One audit rule: a SELECT returning the offending rows of a model or a metric.

Its own module so that the collector (``pipelines.audits``) and the generators of rules
(``pipelines.metric_audits``) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEVERITIES = ("error", "warn")
#: Kahn et al. (2016) categories, with their subcategories.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "conformance": ("value", "relational", "computational"),
    "completeness": (),
    "plausibility": ("uniqueness", "atemporal", "temporal"),
}

@dataclass(frozen=True)
class Audit:
    """One rule: ``sql`` returns the offending rows of ``model`` (a model or ``metric <name>``)."""

    name: str
    severity: str
    model: str
    category: str
    description: str
    sql: str
    origin: str  # the file the rule is written in (an audit file, a model or a metric header)
    #: values of the audit's own parameters (a metric's defaults), bound before the build's
    params: tuple[tuple[str, Any], ...] = ()
    #: ``(name, sql)`` when ``sql`` reads ``name``, the rows of another SELECT that several
    #: audits share (a metric's unit rows): the runner builds it once as a temporary table for
    #: consecutive audits sharing it, instead of running the metric once per audit
    shared: tuple[str, str] | None = None
    #: ``(table, condition)`` when ``sql`` is exactly ``select * from <table> where <condition>``:
    #: the runner then counts it as ``count(*) filter (where condition)`` in one scan of ``table`` shared with
    #: the other such audits of that table (the same count, one pass instead of one per audit)
    scan: tuple[str, str] | None = None

    @property
    def full_sql(self) -> str:
        """The audit as one standalone SELECT (the shared rows as a CTE)."""
        if self.shared is None:
            return self.sql
        return f"with {self.shared[0]} as (\n{self.shared[1]}\n)\n{self.sql}"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.origin}: audit {self.name}: severity must be error or warn, "
                             f"not {self.severity!r}")
        main, _, sub = self.category.partition(" ")
        sub = sub.strip("()")
        if main not in CATEGORIES or (sub and sub not in CATEGORIES[main]):
            raise ValueError(f"{self.origin}: audit {self.name}: category {self.category!r} is not "
                             "a Kahn category (e.g. 'plausibility (temporal)')")
