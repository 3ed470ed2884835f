"""FHIR R4 (bulk-export NDJSON, or transaction/batch bundles) -> extract contract.

Resources read: Patient, Encounter, Condition, MedicationRequest, MedicationDispense,
Observation (scales and measures by LOINC, including Observation components) and
AdverseEvent; Medication, Organization, Location, Practitioner and PractitionerRole only to
resolve references. Every other resource type is counted and skipped, never an error. A line
of an NDJSON file that is not valid JSON is skipped and reported with its file and line.

Only these elements are read: ids, references, dates, codes, values and quantities. Names,
addresses, telecoms, identifiers' values and narrative text are never touched; a reference's
``display`` (which carries the patient's name in Synthea) is ignored.

Dates are the local calendar date as written (``1961-12-12T18:05:30-08:00`` is 1961-12-12).
Which field fills which contract column is in ``mappings/fhir.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.adapters import codes
from pipelines.adapters.common import AdapterReport, SourceReject, Surrogates
from pipelines.adapters.fieldmap import apply_field_map

USED = ("Patient", "Encounter", "Condition", "MedicationRequest", "MedicationDispense",
        "Observation", "AdverseEvent")
RESOLVE_ONLY = ("Medication", "Organization", "Location", "Practitioner", "PractitionerRole")
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ICD9_SYSTEMS = ("http://hl7.org/fhir/sid/icd-9-cm",)
SNOMED = "http://snomed.info/sct"
#: Bulk-export file names (``Patient.ndjson``, ``Observation.002.ndjson``) say nothing about a
#: person and are shown as they are; any other file (Synthea names bundles after the patient) is
#: shown as its position and the start of its SHA-256, so messages never carry a name.
_SAFE_NAME = re.compile(r"^[A-Za-z]+(\.[0-9]+)?\.ndjson$")
MAX_LISTED_PROBLEMS = 20


def is_fhir_file(path: Path) -> bool:
    """An ``.ndjson`` file, or a ``.json`` file whose first bytes name a ``resourceType``."""
    name = path.name.lower()
    if name.endswith(".ndjson"):
        return True
    if not name.endswith(".json"):
        return False
    with path.open("rb") as handle:
        return b'"resourceType"' in handle.read(4096)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and is_fhir_file(p))


def _label(path: Path, index: int) -> str:
    if _SAFE_NAME.match(path.name):
        return path.name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"file {index} (sha256 {digest}...)"


def _resources(path: Path, label: str, report: AdapterReport) -> Iterator[tuple[dict, int, str]]:
    """(resource, line or entry number, bundle fullUrl) for every resource in one file."""
    if path.name.lower().endswith(".ndjson"):
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except json.JSONDecodeError as exc:
                    _problem(report, label, line_number, "malformed_json",
                             f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if not isinstance(resource, dict) or "resourceType" not in resource:
                    _problem(report, label, line_number, "not_a_resource",
                             "a JSON value without resourceType")
                    continue
                yield resource, line_number, ""
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        _problem(report, label, exc.lineno, "malformed_json",
                 f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        return
    if document.get("resourceType") != "Bundle":
        yield document, 1, ""
        return
    for number, entry in enumerate(document.get("entry") or [], start=1):
        resource = entry.get("resource")
        if isinstance(resource, dict) and "resourceType" in resource:
            yield resource, number, entry.get("fullUrl", "")


def _problem(report: AdapterReport, label: str, line: int | None, code: str, message: str) -> None:
    report.count(f"fhir.{code}")
    report.rejects.append(SourceReject("fhir", label, line, "", code, message))
    if report.counts[f"fhir.{code}"] <= MAX_LISTED_PROBLEMS:
        report.notes.append(f"{label} line {line}: {message}; skipped")


def _ref(element: Any, urls: dict[str, str]) -> str | None:
    """A reference as ``Type/id`` (bundle urn:uuid resolved), or the conditional query as is."""
    if not isinstance(element, dict):
        return None
    reference = element.get("reference")
    if not reference:
        return None
    if reference.startswith("urn:"):
        return urls.get(reference, reference)
    if "?" in reference:
        return reference
    parts = reference.rstrip("/").split("/")
    # Absolute or relative, possibly versioned (Type/id/_history/n): keep Type/id.
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:])


def _id_of(ref: str | None, resource_type: str) -> str | None:
    if ref and ref.startswith(f"{resource_type}/"):
        return ref.split("/", 1)[1]
    return None


def _codings(concept: Any) -> list[dict]:
    return [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict)]


def _condition_code(concept: Any) -> tuple[str | None, str]:
    """The code to map and its kind: ICD-10 first, then ICD-9, then SNOMED."""
    for systems, kind in ((ICD10_SYSTEMS, "icd10"), (ICD9_SYSTEMS, "icd9"), ((SNOMED,), "snomed")):
        for coding in _codings(concept):
            if coding.get("system") in systems and coding.get("code"):
                return str(coding["code"]), kind
    return None, "other"


def _first_date(resource: dict, *fields: str) -> str | None:
    for name in fields:
        value: object = resource
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _medication_name(resource: dict, medications: dict[str, dict], urls: dict[str, str]) \
        -> str | None:
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        target = _ref(resource.get("medicationReference"), urls)
        concept = (medications.get(target) or {}).get("code") if target else None
    ingredient_of = codes.rxnorm_ingredients()
    for coding in _codings(concept):
        if coding.get("system") == RXNORM and coding.get("code") in ingredient_of:
            return ingredient_of[coding["code"]]
    if concept and concept.get("text"):
        return str(concept["text"])
    for coding in _codings(concept):
        if coding.get("display"):
            return str(coding["display"])
    for coding in _codings(concept):
        if coding.get("code"):
            return f"RxNorm {coding['code']}" if coding.get("system") == RXNORM \
                else str(coding["code"])
    return None


def to_contract(path: Path, report: AdapterReport) -> dict[str, pl.DataFrame]:
    files = _files(path)
    if not files:
        raise ValueError("no FHIR .ndjson or .json files")
    by_type: dict[str, dict[str, tuple[dict, str, int]]] = {}
    urls: dict[str, str] = {}
    seen: Counter[str] = Counter()
    duplicates = 0
    for index, file in enumerate(files, start=1):
        label = _label(file, index)
        for resource, line, full_url in _resources(file, label, report):
            kind = str(resource["resourceType"])
            seen[kind] += 1
            key = str(resource.get("id") or f"{label}#{line}")
            if full_url:
                urls[full_url] = f"{kind}/{key}"
            bucket = by_type.setdefault(kind, {})
            duplicates += key in bucket
            bucket[key] = (resource, label, line)  # a later version of the same id wins
    report.notes.append(f"FHIR: {len(files)} files; resources " + ", ".join(
        f"{k} {v:,}" for k, v in seen.most_common()))
    for kind, n in sorted(seen.items()):
        report.counts[f"source_resources.{kind}"] = n
    skipped = {k: n for k, n in seen.items() if k not in USED and k not in RESOLVE_ONLY}
    if skipped:
        report.skip("fhir_resource_type", sum(skipped.values()),
                    "resources of types the contract has no table for: " + ", ".join(
                        f"{k} {v:,}" for k, v in sorted(skipped.items())))
    if duplicates:
        report.skip("fhir_duplicate_id", duplicates,
                    "resources repeating an earlier resource's type and id (the later one kept)")
    if "Patient" not in by_type:
        raise ValueError("no Patient resources")
    _deid_mode(by_type["Patient"], report)
    rows = _rows(by_type, urls, report)
    ids = Surrogates()
    ids.assign("patient", pl.Series(list(by_type["Patient"]), dtype=pl.String))
    ids.assign("site", rows["visits"]["site_key"])
    ids.assign("clinician", pl.concat([rows["visits"]["clinician_key"],
                                       rows["prescriptions"]["clinician_key"]]))
    frames: dict[str, pl.DataFrame] = {}
    for table in ("patients", "visits", "diagnoses", "prescriptions", "dispenses"):
        frames[table] = apply_field_map("fhir", table, rows[table], ids, report)
    frames["assessments"] = apply_field_map(
        "fhir", "assessments", codes.scale_rows(rows["coded"], report, "Observation"), ids, report)
    frames["measurements"] = apply_field_map(
        "fhir", "measurements", codes.measure_rows(rows["coded"], report, "Observation"), ids,
        report)
    frames["side_effects"] = apply_field_map("fhir", "side_effects", rows["side_effects"], ids,
                                             report)
    return frames


def _deid_mode(patients: dict[str, tuple[dict, str, int]], report: AdapterReport) -> None:
    systems = {i.get("system", "") for resource, _, _ in patients.values()
               for i in resource.get("identifier") or [] if isinstance(i, dict)}
    if any("synthea" in s.lower() for s in systems):
        report.deid_mode = "synthetic"
        report.notes.append("Patient identifiers come from Synthea: deid_mode synthetic")
    else:
        report.deid_mode = "limited_data_set"
        report.notes.append("day-level dates: deid_mode limited_data_set (the deployment must "
                            "hold a DUA or expert determination)")


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame([{c: (None if r.get(c) is None else str(r[c])) for c in columns}
                         for r in records], schema=dict.fromkeys(columns, pl.String))


def _rows(by_type: dict[str, dict[str, tuple[dict, str, int]]], urls: dict[str, str],
          report: AdapterReport) -> dict[str, pl.DataFrame]:
    """Flat rows per contract table, with source keys still in place (surrogates come later)."""
    def items(kind: str) -> Iterator[tuple[str, dict, str, int]]:
        for key, (resource, label, line) in sorted(by_type.get(kind, {}).items()):
            if resource.get("status") == "entered-in-error":
                report.skip(f"fhir_entered_in_error.{kind}", 1,
                            f"{kind} resource marked entered-in-error")
                continue
            yield key, resource, label, line

    def patient(resource: dict) -> str | None:
        return _id_of(_ref(resource.get("subject") or resource.get("patient"), urls), "Patient")

    def lineage(label: str, line: int) -> dict[str, Any]:
        return {"_file": label, "_line": line}

    medications = {f"Medication/{k}": r for k, (r, _, _) in by_type.get("Medication", {}).items()}
    patients = [{"id": k, "birthDate": r.get("birthDate"), "gender": r.get("gender"),
                 **lineage(lb, ln)} for k, r, lb, ln in items("Patient")]
    visits = []
    for key, r, label, line in items("Encounter"):
        participants = [p.get("individual") for p in r.get("participant") or []
                        if isinstance(p, dict)]
        klass = r.get("class") or {}
        visits.append({"id": key, "patient": patient(r), "start": _first_date(r, "period.start"),
                       "class": klass.get("code"),
                       "end_inpatient": _first_date(r, "period.end")
                       if klass.get("code") in ("IMP", "ACUTE", "NONAC") else None,
                       "site_key": _ref(r.get("serviceProvider"), urls),
                       "clinician_key": next((_ref(p, urls) for p in participants if p), None),
                       **lineage(label, line)})
    conditions = []
    for _key, r, label, line in items("Condition"):
        code, code_kind = _condition_code(r.get("code"))
        conditions.append({"patient": patient(r), "code": code, "code_kind": code_kind,
                           "date": _first_date(r, "onsetDateTime", "onsetPeriod.start",
                                               "recordedDate"),
                           "encounter": _id_of(_ref(r.get("encounter"), urls), "Encounter"),
                           **lineage(label, line)})
    requests = []
    for key, r, label, line in items("MedicationRequest"):
        dispense = r.get("dispenseRequest") or {}
        supply = dispense.get("expectedSupplyDuration") or {}
        requests.append({"id": key, "patient": patient(r), "drug": _medication_name(
            r, medications, urls), "authored": r.get("authoredOn"),
            "days_supply": supply.get("value") if supply.get("code", "d") == "d" else None,
            "quantity": (dispense.get("quantity") or {}).get("value"),
            "refills": dispense.get("numberOfRepeatsAllowed"),
            "clinician_key": _ref(r.get("requester"), urls), **lineage(label, line)})
    dispenses = [{"id": k, "patient": patient(r), "drug": _medication_name(r, medications, urls),
                  "date": _first_date(r, "whenHandedOver", "whenPrepared"),
                  "days_supply": (r.get("daysSupply") or {}).get("value"),
                  "quantity": (r.get("quantity") or {}).get("value"), **lineage(lb, ln)}
                 for k, r, lb, ln in items("MedicationDispense")]
    coded = []
    for key, r, label, line in items("Observation"):
        date = _first_date(r, "effectiveDateTime", "effectivePeriod.start", "issued")
        parts = [(key, r)] + [(f"{key}#{i}", c) for i, c in enumerate(r.get("component") or [])]
        for part_key, part in parts:
            loinc = next((c.get("code") for c in _codings(part.get("code"))
                          if c.get("system") == LOINC), None)
            if loinc is None:
                continue
            quantity = part.get("valueQuantity") or {}
            coded.append({"source_key": part_key, "person_id": patient(r), "event_date": date,
                          "loinc": loinc, "value": quantity.get("value"),
                          "unit": quantity.get("code") or quantity.get("unit"),
                          **lineage(label, line)})
    adverse = []
    for key, r, label, line in items("AdverseEvent"):
        event = r.get("event") or {}
        severity = next((c.get("code") for c in _codings(r.get("severity"))), None)
        suspect = next((s.get("instance") for s in r.get("suspectEntity") or []
                        if isinstance(s, dict)), None)
        target = _ref(suspect, urls)
        drug = None
        if target and target.startswith("Medication/"):
            drug = _medication_name({"medicationReference": suspect}, medications, urls)
        elif target and target.split("/")[0] in ("MedicationRequest", "MedicationDispense"):
            kind, _, rid = target.partition("/")
            found = by_type.get(kind, {}).get(rid)
            drug = _medication_name(found[0], medications, urls) if found else None
        adverse.append({"id": key, "patient": patient(r),
                        "date": _first_date(r, "date", "detected", "recordedDate"),
                        "effect": event.get("text") or next(
                            (c.get("display") or c.get("code") for c in _codings(event)), None),
                        "severity": severity, "drug": drug, **lineage(label, line)})
    lineage_cols = ("_file", "_line")
    return {
        "patients": _frame(patients, ("id", "birthDate", "gender", *lineage_cols)),
        "visits": _frame(visits, ("id", "patient", "start", "class", "end_inpatient", "site_key",
                                  "clinician_key", *lineage_cols)),
        "diagnoses": codes.to_icd10(_frame(conditions, (
            "patient", "code", "code_kind", "date", "encounter", *lineage_cols)), report,
            "Condition"),
        "prescriptions": _frame(requests, ("id", "patient", "drug", "authored", "days_supply",
                                           "quantity", "refills", "clinician_key",
                                           *lineage_cols)),
        "dispenses": _frame(dispenses, ("id", "patient", "drug", "date", "days_supply",
                                        "quantity", *lineage_cols)),
        "coded": _frame(coded, ("source_key", "person_id", "event_date", "loinc", "value",
                                "unit", *lineage_cols)).with_columns(
            pl.col("value").cast(pl.Float64, strict=False)),
        "side_effects": _frame(adverse, ("id", "patient", "date", "effect", "severity", "drug",
                                         *lineage_cols)),
    }
