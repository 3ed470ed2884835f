"""Planted worklist cases (opt-in: ``generate(..., worklist_cases=True)``, ``--worklist-cases``).

Additive: the cases are extra patients (ids ``PW000001`` ...) appended after the drawn clinic,
so the drawn patients and every ground-truth number stay as they were. Each case is built so
that on the data end date (the worklists' default as-of date) it triggers exactly the rows its
manifest entry lists and nothing else: fills run on past the end unless the case is a lapse,
scores sit on visit days unless the case is an item-9 screen without a contact, every drug
starts at a visit (so every planted patient has one), and every monitoring test the case is not
about is done recently. Control cases sit exactly at a rule's
edge and must not be listed. The manifest (``worklist_cases.json`` and
``truth.json["worklist_cases"]``) gives, per case, the patient, the worklist, the expected
``(reason, drug, days_overdue)`` rows and the rule arithmetic in words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

BIRTH_YEAR = 1980  # aged 43-45 in the default period: no age-specific rule applies
OLDER_BIRTH_YEAR = 1950


@dataclass
class _Planter:
    end: dt.date
    clinician_id: str
    site_id: str
    rows: dict[str, list[dict]] = field(default_factory=dict)
    cases: dict[str, dict] = field(default_factory=dict)
    _n: int = 0
    _visited: set[tuple[str, int]] = field(default_factory=set)

    def day(self, before_end: int) -> dt.date:
        return self.end - dt.timedelta(days=before_end)

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}W{self._n:06d}"

    def add(self, table: str, **row) -> None:
        self.rows.setdefault(table, []).append(row)

    def patient(self, birth_year: int = BIRTH_YEAR) -> str:
        patient_id = f"PW{len(self.cases) + 1:06d}"
        self.add("patients", patient_id=patient_id, birth_year=birth_year, sex="F",
                 site_id=self.site_id)
        return patient_id

    def visit(self, patient_id: str, before_end: int) -> None:
        if (patient_id, before_end) in self._visited:  # one visit a day
            return
        self._visited.add((patient_id, before_end))
        self.add("visits", visit_id=self._id("V"), patient_id=patient_id,
                 visit_date=self.day(before_end), clinician_id=self.clinician_id,
                 site_id=self.site_id, visit_type="follow_up", end_date=None)

    def drug(self, patient_id: str, name: str, first: int, last: int, every: int = 30,
             supply: int = 30, dose: float | None = None) -> None:
        """A prescription from ``first`` days before the end, written at a visit that day, and
        fills every ``every`` days while the fill is at least ``last`` days before the end."""
        self.visit(patient_id, first)
        self.add("prescriptions", prescription_id=self._id("RX"), patient_id=patient_id,
                 drug=name, start_date=self.day(first), end_date=None, daily_dose_mg=dose,
                 days_supply=supply, quantity=None, refills=None, clinician_id=self.clinician_id,
                 stop_reason=None)
        for before_end in range(first, last - 1, -every):
            self.fill(patient_id, name, before_end, supply)

    def fill(self, patient_id: str, name: str, before_end: int, supply: int = 30) -> None:
        self.add("dispenses", dispense_id=self._id("F"), patient_id=patient_id, drug=name,
                 dispense_date=self.day(before_end), days_supply=supply, quantity=None)

    def score(self, patient_id: str, before_end: int, total: int, item_9: int | None = 0,
              instrument: str = "PHQ-9", with_visit: bool = True) -> None:
        self.add("assessments", assessment_id=self._id("A"), patient_id=patient_id,
                 assessment_date=self.day(before_end), instrument=instrument,
                 total_score=total, item_9=item_9 if instrument == "PHQ-9" else None)
        if with_visit:
            self.visit(patient_id, before_end)

    def tests(self, patient_id: str, before_end: int, *measures: str) -> None:
        values = {"lithium_mmol_l": 0.6, "anc_per_ul": 2500.0, "weight_kg": 70.0,
                  "glucose_mg_dl": 95.0, "ldl_mg_dl": 110.0, "creatinine_mg_dl": 0.9,
                  "tsh_miu_l": 2.0, "calcium_mg_dl": 9.5}
        for measure in measures:
            self.add("measurements", measurement_id=self._id("M"), patient_id=patient_id,
                     measured_date=self.day(before_end), measure=measure,
                     value=values[measure])

    def case(self, patient_id: str, worklist: str | None, rule: str,
             rows: list[tuple[str, str, int | None]]) -> None:
        """``worklist`` None with no rows: a control case that no worklist may list."""
        self.cases[f"WL-{len(self.cases) + 1:02d}"] = {
            "patient_id": patient_id, "worklist": worklist, "rule": rule,
            "rows": [{"reason": r, "drug": d, "days_overdue": o} for r, d, o in rows]}


METABOLIC = ("glucose_mg_dl", "ldl_mg_dl", "weight_kg")


def _plant(p: _Planter) -> None:
    # --- not on track (DOMAIN 13.1)
    pid = p.patient()
    p.drug(pid, "sertraline 100 mg tablet", 30, 2)
    p.score(pid, 30, 18)
    p.score(pid, 5, 17)
    p.case(pid, "not-on-track", "baseline 18 on day 0, 17 on day 25: 5 * 1 = 5 < 18",
           [("early non-improvement", "sertraline", None)])
    pid = p.patient()
    p.drug(pid, "escitalopram 10 mg tablet", 50, 2)
    p.score(pid, 50, 20)
    p.score(pid, 5, 17)
    p.case(pid, "not-on-track", "baseline 20 on day 0, 17 on day 45: 4 * 3 = 12 < 20",
           [("not on track at week 6", "escitalopram", None)])
    pid = p.patient()
    p.drug(pid, "escitalopram 10 mg tablet", 50, 2)
    p.score(pid, 50, 20)
    p.score(pid, 5, 15)
    p.case(pid, None, "control: baseline 20, 15 on day 45: 4 * 5 = 20 is not < 20", [])
    # --- item 9 without follow-up (13.3)
    pid = p.patient()
    p.visit(pid, 40)
    p.score(pid, 10, 12, item_9=2, with_visit=False)
    p.case(pid, "item9-follow-up", "item 9 = 2 ten days before the end, no visit or C-SSRS "
           "in [0, +1]: overdue by 10 - 1 = 9 days", [("positive item 9 without follow-up",
                                                      None, 9)])
    pid = p.patient()
    p.visit(pid, 40)
    p.score(pid, 10, 12, item_9=1, with_visit=False)
    p.visit(pid, 9)
    p.case(pid, None, "control: item 9 = 1 with a visit the next day (the window's last day)", [])
    # --- overdue monitoring (13.2, 9.4)
    pid = p.patient()
    p.drug(pid, "lithium carbonate 300 mg capsule", 300, 5)
    p.tests(pid, 150, "lithium_mmol_l")
    p.tests(pid, 100, "creatinine_mg_dl", "tsh_miu_l", "calcium_mg_dl", "weight_kg")
    p.case(pid, "overdue-monitoring", "lithium level on day 150 (first year: every 91 days) is "
           "due 59 days before the end; 59 > 30 days' grace",
           [("lithium monitoring: Serum lithium level overdue", "lithium", 59)])
    pid = p.patient()
    p.drug(pid, "clozapine 100 mg tablet", 400, 5)
    p.tests(pid, 45, "anc_per_ul")
    p.tests(pid, 100, *METABOLIC)
    p.case(pid, "overdue-monitoring", "ANC on day 355 (days 182-363: every 14 days) is due 31 "
           "days before the end; 31 > 7 days' grace",
           [("clozapine monitoring: Absolute neutrophil count overdue", "clozapine", 31)])
    pid = p.patient()
    p.drug(pid, "quetiapine 100 mg tablet", 200, 5)
    p.case(pid, "overdue-monitoring", "quetiapine from 200 days before the end with no glucose, "
           "lipids or weight since day 56: due on day 140, 60 days ago",
           [(f"metabolic monitoring: {label} never done", "quetiapine", 60) for label in (
               "Glucose or HbA1c", "Lipids (LDL-C or total cholesterol)", "Weight or BMI")])
    # --- adherence drop (13.4)
    pid = p.patient()
    p.drug(pid, "sertraline 100 mg tablet", 200, 110)
    p.case(pid, "adherence-drop", "fills 200..110 days before the end cover up to 81 days "
           "before it: 81 days without supply > 30", [("fill overdue", "sertraline", 81)])
    pid = p.patient()
    p.drug(pid, "citalopram 20 mg tablet", 200, 40, every=40)
    p.fill(pid, "citalopram 20 mg tablet", 10)
    p.case(pid, "adherence-drop", "fills every 40 days (30 supplied): the last 90 days hold "
           "30 + 30 + 11 = 71 covered days, PDC 0.79 < 0.80",
           [("PDC over the last 90 days below 0.8", "citalopram", None)])
    # --- prescribing safety (13.4)
    pid = p.patient()
    p.drug(pid, "aripiprazole 10 mg tablet", 150, 5)
    p.drug(pid, "olanzapine 10 mg tablet", 150, 5)
    p.tests(pid, 50, *METABOLIC)
    p.case(pid, "prescribing-safety", "aripiprazole and olanzapine together from 150 days before the end "
           "to the last covered day: 150 days >= 90",
           [("antipsychotic polypharmacy", "aripiprazole + olanzapine", None)])
    pid = p.patient(OLDER_BIRTH_YEAR)
    p.drug(pid, "lorazepam 1 mg tablet", 200, 5)
    p.case(pid, "prescribing-safety", "lorazepam covering every day of the last 201: >= 120; "
           "born 1950", [("long-term benzodiazepine, age 65+", "lorazepam", None)])
    pid = p.patient()
    p.drug(pid, "sertraline 50 mg tablet", 60, 5, dose=250.0)
    p.case(pid, "prescribing-safety", "sertraline 250 mg/day > the 200 mg labelled maximum",
           [("dose above labelled maximum", "sertraline", None)])
    pid = p.patient()
    p.drug(pid, "oxycodone 5 mg tablet", 60, 5)
    p.drug(pid, "lorazepam 1 mg tablet", 60, 5)
    p.case(pid, "prescribing-safety", "oxycodone and lorazepam fills 60 and 30 days before the "
           "end, 30 days' supply each: both cover the last 60 days before the end, >= 30",
           [("opioid with benzodiazepine", "oxycodone + lorazepam", None)])
    pid = p.patient()
    p.drug(pid, "tramadol 50 mg tablet", 60, 5)
    p.drug(pid, "clonazepam 0.5 mg tablet", 29, 5, every=15, supply=15)
    p.case(pid, None, "control: clonazepam fills 29 and 14 days before the end cover the last "
           "29 days before it, tramadol all of them: 29 days together, under 30", [])


def plant_worklist_cases(tables: dict[str, pl.DataFrame], end: dt.date
                         ) -> tuple[dict[str, pl.DataFrame], dict]:
    """Append the planted patients to ``tables`` (the last chunk's); return them and the
    manifest. The clinician and site are the first drawn visit's."""
    first_visit = tables["visits"].row(0, named=True)
    planter = _Planter(end, first_visit["clinician_id"], first_visit["site_id"])
    _plant(planter)
    out = dict(tables)
    for name, rows in planter.rows.items():
        extra = pl.DataFrame(rows, schema=tables[name].schema)
        out[name] = pl.concat([tables[name], extra])
    manifest = {"as_of": end.isoformat(), "clinician_id": planter.clinician_id,
                "cases": planter.cases}
    return out, manifest
