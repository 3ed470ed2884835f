"""The one label table: the words people read for every code the warehouse stores.

Filters, charts, tables, CSV headers and the meeting pack all take their words from here, so a
code reads the same everywhere and no page shows a raw code ("rash_sjs") or a generated plural
("All (sexs)"). A code missing from the table reads as words ("new_code" -> "New code"), never
as the code itself.
"""

from __future__ import annotations

#: field -> (label of the field, what "all" reads as in its filter)
FIELDS: dict[str, tuple[str, str]] = {
    "site_id": ("Site", "All sites"),
    "clinician_id": ("Clinician", "All clinicians"),
    "diagnosis_group": ("Diagnosis group", "All diagnosis groups"),
    "age_band": ("Age band", "All ages"),
    "sex": ("Sex", "All sexes"),
    "drug_class": ("Drug class", "All drug classes"),
    "drug": ("Drug", "All drugs"),
    "instrument": ("Instrument", "All instruments"),
}

VALUES: dict[str, dict[str, str]] = {
    "drug_class": {
        "antidepressant": "Antidepressant",
        "antipsychotic": "Antipsychotic",
        "mood_stabiliser": "Mood stabiliser",
        "anxiolytic_hypnotic": "Anxiolytic / hypnotic",
        "adhd_medication": "ADHD medication",
        "other": "Other",
    },
    "diagnosis_group": {
        "major_depression": "Major depression",
        "dysthymia": "Dysthymia",
        "anxiety": "Anxiety disorders",
        "bipolar": "Bipolar disorder",
        "schizophrenia": "Schizophrenia",
        "psychosis": "Other psychoses",
        "adhd": "ADHD",
        "ptsd": "PTSD",
        "ocd": "OCD",
        "substance_use": "Substance use disorders",
        "autism_spectrum": "Autism spectrum",
        "personality": "Personality disorders",
        "other": "Other",
    },
    "sex": {"F": "Female", "M": "Male", "X": "Another gender", "U": "Unknown"},
    "age_band": {"0-17": "0–17 years", "18-25": "18–25 years", "26-44": "26–44 years",
                 "45-64": "45–64 years", "65+": "65 years and over", "unknown": "Age unknown"},
    "adherence_band": {"<0.5": "PDC < 50%", "0.5-0.8": "PDC 50–79%", ">=0.8": "PDC ≥ 80%",
                       "not observed": "PDC not measured"},
    "severity": {"mild": "Mild", "moderate": "Moderate", "severe": "Severe", "unknown": "Severity not recorded"},
    "effect_code": {
        "sedation": "Sedation / drowsiness",
        "weight_gain": "Weight or appetite increase",
        "appetite_weight_loss": "Appetite or weight loss",
        "sexual_dysfunction": "Sexual dysfunction",
        "nausea_gi": "Nausea / GI upset",
        "anticholinergic": "Anticholinergic effects",
        "insomnia": "Insomnia",
        "headache": "Headache",
        "dizziness_orthostasis": "Dizziness / orthostasis",
        "activation_agitation": "Activation / agitation",
        "akathisia": "Akathisia",
        "eps": "Extrapyramidal symptoms",
        "tardive_dyskinesia": "Tardive dyskinesia",
        "tremor": "Tremor",
        "hyperprolactinaemia": "Hyperprolactinaemia",
        "metabolic": "Metabolic (glucose / lipids)",
        "qtc_prolongation": "QTc prolongation",
        "hyponatraemia": "Hyponatraemia / SIADH",
        "rash_sjs": "Rash / Stevens-Johnson syndrome",
        "haematological": "Haematological (neutropenia)",
        "hepatic": "Raised liver enzymes",
        "renal_thyroid": "Renal / thyroid effects",
        "sialorrhoea": "Hypersalivation",
        "seizure": "Seizure",
        "cardiovascular": "Raised heart rate / blood pressure",
        "serotonin_syndrome": "Serotonin syndrome",
        "nms": "Neuroleptic malignant syndrome",
        "lithium_toxicity": "Lithium toxicity",
        "discontinuation_syndrome": "Discontinuation syndrome",
        "emergent_suicidality": "Emergent suicidality",
        "falls_cognition_dependence": "Falls / cognition / dependence",
        "dissociation": "Dissociation",
        "other": "Other (coded)",
    },
    "action": {"none": "No action", "continued": "Continued", "dose_reduced": "Dose reduced",
               "discontinued": "Discontinued", "switched": "Switched", "added_treatment": "Treatment added"},
    "to_class": {"none": "No further line"},
}
# Columns that hold drug classes read like drug_class; effect columns like effect_code.
ALIASES: dict[str, str] = {"from_class": "drug_class", "to_class": "drug_class", "class": "drug_class",
                           "effect": "effect_code", "min_severity": "severity", "dx": "diagnosis_group"}

#: Column name -> header, for columns that appear on several pages, tables and CSVs.
COLUMNS: dict[str, str] = {
    "drug_class": "Drug class", "drug_subclass": "Subclass", "drug": "Drug", "regimen": "Regimen",
    "n": "Episodes (n)", "events": "Events", "censored": "Censored", "median_days": "Median (days)",
    "median_ci_low": "Median 95% CI low", "median_ci_high": "Median 95% CI high",
    "numerator": "Numerator", "denominator": "Denominator", "rate": "Rate (%)",
    "ci_low": "95% CI low", "ci_high": "95% CI high", "diagnosis_group": "Diagnosis group",
    "site_id": "Site", "clinician_id": "Clinician", "age_band": "Age band", "sex": "Sex",
    "effect_code": "Side effect", "severity": "Severity", "action": "Action", "quarter": "Quarter",
    "month": "Month", "year": "Year", "adherence_band": "PDC band", "from_class": "From class",
    "to_class": "To class", "patients": "Patients", "episodes": "Episodes",
}


def words(code: object) -> str:
    """A code as words: underscores to spaces, first letter capital ("new_code" -> "New code")."""
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(kind: str, code: object) -> str:
    """The label of ``code`` in ``kind`` (a field or column name); words when the table lacks it."""
    if code is None:
        return "–"
    kind = ALIASES.get(kind, kind)
    table = VALUES.get(kind, {})
    if kind == "drug_class" and code == "none":
        return VALUES["to_class"]["none"]
    return table.get(str(code), words(code))


def has_labels(column: str) -> bool:
    """Whether a column holds codes this table labels."""
    return ALIASES.get(column, column) in VALUES


def all_label(field: str) -> str:
    """What "no restriction" reads as in a filter: "All sexes", never "All (sexs)"."""
    return FIELDS[field][1] if field in FIELDS else f"All: {words(field).lower()}"


def field_label(field: str) -> str:
    return FIELDS[field][0] if field in FIELDS else words(field)


def column_label(column: str) -> str:
    """A column header: the table's word for it, or the column as words."""
    if column in COLUMNS:
        return COLUMNS[column]
    if column.startswith("survival_") and column[9:].split("_")[0].endswith("d"):
        days = column[9:].split("_")[0][:-1]
        rest = column[9 + len(days) + 1:].replace("_", " ").strip()
        return f"Day {days}: %" + (f" {rest.replace('ci', '95% CI')}" if rest else "")
    return words(column)
