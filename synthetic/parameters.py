"""Every parameter of the synthetic clinic, with where its value comes from.

The generator draws from these tables and nothing else, and ``truth.json`` repeats them, so a test
can compare what the pipeline recovers with what the generator put in. Rates are *per treatment
episode* (one ingredient, from its first fill). Sources are cited in ``sample_data/README.md``.

Response probabilities of antidepressants come from the Cipriani 2018 network meta-analysis odds
ratios against placebo, applied to a placebo response of 35% (``response_from_odds_ratio``), which
puts citalopram at 45%, close to the 47% response of STAR*D level 1. Remission is drawn among
responders with ``REMISSION_GIVEN_RESPONSE`` (STAR*D: remission about 30% of all, 47% responded).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Placebo response in antidepressant trials (Cipriani 2018 pooled placebo arms, about 35%).
PLACEBO_RESPONSE = 0.35
#: P(remission | response); 0.62 x 0.47 = 0.29, the STAR*D level-1 remission (28-33%).
REMISSION_GIVEN_RESPONSE = 0.62
#: Multiplier on the response probability when the dose never reached the adequate (target) dose.
SUBTHERAPEUTIC_RESPONSE_FACTOR = 0.75
#: Share of episodes titrated to the adequate dose (the rest stop below it).
ADEQUATE_DOSE_SHARE = 0.80
#: Multiplier on side-effect probabilities below the target dose (dose dependence).
SUBTHERAPEUTIC_EFFECT_FACTOR = 0.70


def response_from_odds_ratio(odds_ratio: float, placebo: float = PLACEBO_RESPONSE) -> float:
    """Response probability of a drug whose odds ratio against placebo is ``odds_ratio``."""
    odds = odds_ratio * placebo / (1.0 - placebo)
    return round(odds / (1.0 + odds), 4)


@dataclass(frozen=True)
class AdherenceGroup:
    """A fill behaviour: refill gaps after supply runs out and the response it allows.

    ``gap_days`` is the inclusive range of days between the end of supply on hand and the next
    fill (negative: an early refill that overlaps). Gaps stay under the 30-day grace period, so
    one ingredient's fills form one episode; early discontinuers stop after ``max_fills`` fills.
    """

    name: str
    share: float
    gap_days: tuple[int, int]
    response_factor: float
    max_fills: int | None
    design_pdc: tuple[float, float]


#: Non-adherence to antidepressants is about 50% (Sansone & Sansone 2012); about a fifth stop
#: within the first month (Olfson 2006), the rest are partly adherent.
ADHERENCE_GROUPS: tuple[AdherenceGroup, ...] = (
    AdherenceGroup("adherent", 0.55, (-7, 3), 1.00, None, (0.88, 1.00)),
    AdherenceGroup("partial", 0.27, (8, 25), 0.80, None, (0.55, 0.79)),
    AdherenceGroup("early_discontinuer", 0.18, (0, 10), 0.55, 2, (0.0, 1.0)),
)


@dataclass(frozen=True)
class Drug:
    """One ingredient as the clinic prescribes it.

    Titration is start-low-go-slow: ``start_mg``, then ``step_mg`` per visit until ``target_mg``
    (the adequate dose). ``names_rx`` are prescriber spellings and ``names_fill`` pharmacy
    spellings; ``{mg}`` is replaced by the tablet strength.
    """

    ingredient: str
    start_mg: float
    step_mg: float
    target_mg: float
    strengths_mg: tuple[float, ...]
    odds_ratio: float
    names_rx: tuple[str, ...]
    names_fill: tuple[str, ...]

    @property
    def response_probability(self) -> float:
        return response_from_odds_ratio(self.odds_ratio)


#: Odds ratios of response vs placebo: Cipriani 2018 (Lancet 391:1357) for antidepressants; for the
#: augmenting and mood-stabilising drugs, approximate effect sizes from their indications' trials.
DRUGS: tuple[Drug, ...] = (
    Drug("sertraline", 50, 50, 100, (25, 50, 100), 1.67,
         ("Zoloft {mg} mg tablet", "sertraline {mg}mg tab", "Sertraline {mg} MG Oral Tablet"),
         ("SERTRALINE HCL {mg}MG TAB", "ZOLOFT {mg}MG TABLET")),
    Drug("escitalopram", 10, 10, 20, (5, 10, 20), 1.68,
         ("Lexapro {mg} mg tablet", "escitalopram {mg} mg"),
         ("ESCITALOPRAM OXALATE {mg}MG TAB", "ESCITALOPRAM {mg} MG TABLET")),
    Drug("citalopram", 20, 10, 40, (10, 20, 40), 1.52,
         ("Celexa {mg} mg tablet", "citalopram {mg}mg"),
         ("CITALOPRAM HBR {mg}MG TAB", "CITALOPRAM HYDROBROMIDE {mg} MG TAB")),
    Drug("fluoxetine", 20, 20, 40, (10, 20, 40), 1.52,
         ("Prozac {mg} mg capsule", "fluoxetine {mg}mg cap"),
         ("FLUOXETINE HCL {mg}MG CAP", "PROZAC {mg}MG CAPSULE")),
    Drug("paroxetine", 20, 10, 40, (10, 20, 40), 1.75,
         ("Paxil {mg} mg tablet", "paroxetine {mg} mg"),
         ("PAROXETINE HCL {mg}MG TAB",)),
    Drug("venlafaxine", 75, 75, 150, (37.5, 75, 150), 1.78,
         ("Effexor XR {mg} mg capsule", "venlafaxine ER {mg}mg"),
         ("VENLAFAXINE HCL ER {mg}MG CAP", "EFFEXOR XR {mg}MG CAP")),
    Drug("duloxetine", 30, 30, 60, (20, 30, 60), 1.85,
         ("Cymbalta {mg} mg capsule", "duloxetine {mg}mg DR cap"),
         ("DULOXETINE HCL DR {mg}MG CAP",)),
    Drug("bupropion", 150, 150, 300, (150, 300), 1.58,
         ("Wellbutrin XL {mg} mg tablet", "bupropion XL {mg}mg"),
         ("BUPROPION HCL XL {mg}MG TAB", "BUPROPION XL {mg} MG TABLET")),
    Drug("mirtazapine", 15, 15, 30, (7.5, 15, 30), 1.89,
         ("Remeron {mg} mg tablet", "mirtazapine {mg}mg tab"),
         ("MIRTAZAPINE {mg}MG TAB",)),
    Drug("vortioxetine", 10, 10, 20, (5, 10, 20), 1.66,
         ("Trintellix {mg} mg tablet",),
         ("TRINTELLIX {mg}MG TAB", "VORTIOXETINE HBR {mg} MG TAB")),
    Drug("fluvoxamine", 50, 50, 150, (50, 100), 1.69,
         ("fluvoxamine {mg} mg tablet",),
         ("FLUVOXAMINE MALEATE {mg}MG TAB",)),
    Drug("buspirone", 15, 15, 30, (5, 10, 15), 1.40,
         ("BuSpar {mg} mg tablet", "buspirone {mg}mg"),
         ("BUSPIRONE HCL {mg}MG TAB",)),
    Drug("aripiprazole", 5, 5, 10, (2, 5, 10, 15), 1.70,
         ("Abilify {mg} mg tablet", "aripiprazole {mg}mg"),
         ("ARIPIPRAZOLE {mg}MG TAB", "ABILIFY {mg} MG TABLET")),
    Drug("quetiapine", 50, 50, 150, (25, 50, 100, 200), 1.75,
         ("Seroquel {mg} mg tablet", "quetiapine {mg}mg tab"),
         ("QUETIAPINE FUMARATE {mg}MG TAB", "SEROQUEL {mg}MG TABLET")),
    Drug("olanzapine", 5, 5, 10, (2.5, 5, 10), 1.80,
         ("Zyprexa {mg} mg tablet", "olanzapine {mg}mg"),
         ("OLANZAPINE {mg}MG TAB",)),
    Drug("risperidone", 1, 1, 3, (0.5, 1, 2, 3), 1.75,
         ("Risperdal {mg} mg tablet", "risperidone {mg}mg"),
         ("RISPERIDONE {mg}MG TAB",)),
    Drug("lurasidone", 20, 20, 40, (20, 40, 80), 1.70,
         ("Latuda {mg} mg tablet",),
         ("LURASIDONE HCL {mg}MG TAB",)),
    Drug("haloperidol", 2, 2, 5, (1, 2, 5), 1.60,
         ("Haldol {mg} mg tablet", "haloperidol {mg}mg"),
         ("HALOPERIDOL {mg}MG TAB",)),
    Drug("clozapine", 25, 75, 300, (25, 100), 2.20,
         ("Clozaril {mg} mg tablet", "clozapine {mg}mg"),
         ("CLOZAPINE {mg}MG TAB",)),
    Drug("lithium", 300, 300, 900, (300, 450), 1.70,
         ("Lithobid {mg} mg ER tablet", "lithium carbonate {mg}mg"),
         ("LITHIUM CARBONATE ER {mg}MG TAB", "LITHIUM CARB {mg} MG CAP")),
    Drug("valproate", 500, 250, 1000, (250, 500), 1.60,
         ("Depakote ER {mg} mg tablet", "divalproex {mg}mg"),
         ("DIVALPROEX SOD ER {mg}MG TAB", "DEPAKOTE ER {mg}MG TAB")),
    Drug("lamotrigine", 25, 25, 100, (25, 100), 1.55,
         ("Lamictal {mg} mg tablet", "lamotrigine {mg}mg"),
         ("LAMOTRIGINE {mg}MG TAB",)),
    Drug("methylphenidate", 18, 18, 36, (18, 27, 36), 1.90,
         ("Concerta {mg} mg ER tablet", "methylphenidate ER {mg}mg"),
         ("METHYLPHENIDATE ER {mg}MG TAB", "CONCERTA {mg}MG TAB")),
    Drug("lisdexamfetamine", 30, 10, 50, (30, 40, 50), 2.00,
         ("Vyvanse {mg} mg capsule", "lisdexamfetamine {mg}mg"),
         ("LISDEXAMFETAMINE DIMESYLATE {mg}MG CAP", "VYVANSE {mg}MG CAP")),
    Drug("amphetamine", 10, 10, 20, (5, 10, 20), 1.90,
         ("Adderall XR {mg} mg capsule", "amphetamine salts {mg}mg"),
         ("AMPHETAMINE ER {mg}MG CAP",)),
    Drug("atomoxetine", 40, 40, 80, (40, 80), 1.60,
         ("Strattera {mg} mg capsule",),
         ("ATOMOXETINE HCL {mg}MG CAP",)),
    Drug("guanfacine", 1, 1, 3, (1, 2, 3), 1.50,
         ("Intuniv {mg} mg ER tablet",),
         ("GUANFACINE ER {mg}MG TAB",)),
)

DRUG_INDEX: dict[str, int] = {d.ingredient: i for i, d in enumerate(DRUGS)}

#: Side-effect codes used (DOMAIN.md section 9.1 vocabulary) and the spellings a clinic writes.
EFFECT_CODES: tuple[str, ...] = (
    "sexual_dysfunction", "nausea_gi", "weight_gain", "sedation", "insomnia",
    "activation_agitation", "akathisia", "eps", "appetite_weight_loss", "tremor",
    "headache", "dizziness_orthostasis", "rash_sjs", "hyperprolactinaemia", "metabolic",
    "anticholinergic",
)
EFFECT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "sexual_dysfunction": ("sexual_dysfunction", "decreased libido", "delayed ejaculation"),
    "nausea_gi": ("nausea_gi", "Nausea", "GI upset"),
    "weight_gain": ("weight_gain", "Weight increased", "increased appetite"),
    "sedation": ("sedation", "Drowsiness", "somnolence"),
    "insomnia": ("insomnia", "Insomnia", "difficulty sleeping"),
    "activation_agitation": ("activation_agitation", "jitteriness", "Agitation"),
    "akathisia": ("akathisia", "Akathisia", "inner restlessness"),
    "eps": ("eps", "Parkinsonism", "dystonia"),
    "appetite_weight_loss": ("appetite_weight_loss", "decreased appetite", "Weight loss"),
    "tremor": ("tremor", "Tremor", "hand tremor"),
    "headache": ("headache", "Headache"),
    "dizziness_orthostasis": ("dizziness_orthostasis", "Dizziness"),
    "rash_sjs": ("rash_sjs", "Rash"),
    "hyperprolactinaemia": ("hyperprolactinaemia", "galactorrhea", "elevated prolactin"),
    "metabolic": ("metabolic", "hyperglycemia", "dyslipidemia"),
    "anticholinergic": ("anticholinergic", "dry mouth", "constipation"),
}

#: P(effect reported within 90 days of the episode start | target dose), clinic-reported rates.
#: Spontaneously reported sexual dysfunction is far below the 60-80% found on direct questioning
#: (Serretti & Chiesa 2009); bupropion's is the lowest among antidepressants. Weight gain with
#: olanzapine from CATIE (30% gained >= 7%), sedation with quetiapine (CATIE hypersomnia 31%).
EFFECT_PROBABILITIES: dict[str, dict[str, float]] = {
    "sertraline": {"sexual_dysfunction": 0.22, "nausea_gi": 0.18, "insomnia": 0.08, "headache": 0.06},
    "escitalopram": {"sexual_dysfunction": 0.20, "nausea_gi": 0.14, "headache": 0.06},
    "citalopram": {"sexual_dysfunction": 0.20, "nausea_gi": 0.12, "sedation": 0.06},
    "fluoxetine": {"sexual_dysfunction": 0.20, "insomnia": 0.12, "activation_agitation": 0.08, "nausea_gi": 0.12},
    "paroxetine": {"sexual_dysfunction": 0.28, "sedation": 0.10, "weight_gain": 0.10, "anticholinergic": 0.08},
    "venlafaxine": {"sexual_dysfunction": 0.20, "nausea_gi": 0.20, "dizziness_orthostasis": 0.07},
    "duloxetine": {"sexual_dysfunction": 0.14, "nausea_gi": 0.20, "sedation": 0.06},
    "bupropion": {"sexual_dysfunction": 0.04, "insomnia": 0.12, "activation_agitation": 0.09, "headache": 0.06},
    "mirtazapine": {"weight_gain": 0.18, "sedation": 0.25, "sexual_dysfunction": 0.05},
    "vortioxetine": {"nausea_gi": 0.25, "sexual_dysfunction": 0.10},
    "fluvoxamine": {"nausea_gi": 0.20, "sexual_dysfunction": 0.18, "sedation": 0.10},
    "buspirone": {"dizziness_orthostasis": 0.10, "headache": 0.07, "nausea_gi": 0.07},
    "aripiprazole": {"akathisia": 0.13, "insomnia": 0.07, "weight_gain": 0.08},
    "quetiapine": {"sedation": 0.31, "weight_gain": 0.16, "dizziness_orthostasis": 0.08, "metabolic": 0.06},
    "olanzapine": {"weight_gain": 0.30, "sedation": 0.24, "metabolic": 0.10},
    "risperidone": {"weight_gain": 0.14, "hyperprolactinaemia": 0.12, "eps": 0.08, "sedation": 0.10},
    "lurasidone": {"akathisia": 0.10, "nausea_gi": 0.08, "sedation": 0.08},
    "haloperidol": {"eps": 0.22, "akathisia": 0.12, "hyperprolactinaemia": 0.08},
    "clozapine": {"sedation": 0.35, "weight_gain": 0.25, "anticholinergic": 0.15, "metabolic": 0.12},
    "lithium": {"tremor": 0.20, "nausea_gi": 0.15, "weight_gain": 0.10},
    "valproate": {"weight_gain": 0.15, "tremor": 0.10, "nausea_gi": 0.12, "sedation": 0.08},
    "lamotrigine": {"rash_sjs": 0.07, "headache": 0.08, "dizziness_orthostasis": 0.06},
    "methylphenidate": {"appetite_weight_loss": 0.25, "insomnia": 0.15, "headache": 0.10},
    "lisdexamfetamine": {"appetite_weight_loss": 0.28, "insomnia": 0.15, "activation_agitation": 0.06},
    "amphetamine": {"appetite_weight_loss": 0.26, "insomnia": 0.16, "headache": 0.08},
    "atomoxetine": {"nausea_gi": 0.15, "appetite_weight_loss": 0.12, "sedation": 0.08},
    "guanfacine": {"sedation": 0.25, "dizziness_orthostasis": 0.10},
}

#: Severity of a reported effect: mild, moderate, severe.
SEVERITY_SHARES: tuple[float, float, float] = (0.55, 0.35, 0.10)
#: A severe effect starting in the first 28 days ends the drug with this probability.
INTOLERABLE_STOP_PROBABILITY = 0.7
#: Weight change (fraction of body weight after 6 months) when weight gain / loss is reported.
WEIGHT_GAIN_FRACTION: tuple[float, float] = (0.05, 0.14)
WEIGHT_LOSS_FRACTION: tuple[float, float] = (0.02, 0.06)


@dataclass(frozen=True)
class Diagnosis:
    """A primary diagnosis: its share, ICD-10 codes, instruments and drug choices by weight."""

    name: str
    share: float
    icd10: tuple[str, ...]
    age_range: tuple[int, int]
    first_line: dict[str, float]
    augment: dict[str, float]


#: Shares of an outpatient psychiatric clinic's caseload (NAMCS-style case mix): depression and
#: anxiety dominate; first-line choices follow APA/NICE guidance (SSRIs first for depression and
#: anxiety, SGAs for psychosis, lithium/valproate/lamotrigine/SGAs for bipolar, stimulants for ADHD).
DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("major_depression", 0.40, ("F32.1", "F32.2", "F33.1", "F33.0", "F32.9", "F33.2"),
              (14, 85),
              {"sertraline": 0.25, "escitalopram": 0.22, "citalopram": 0.10, "fluoxetine": 0.10,
               "bupropion": 0.12, "venlafaxine": 0.07, "duloxetine": 0.07, "mirtazapine": 0.05,
               "vortioxetine": 0.02},
              {"aripiprazole": 0.40, "bupropion": 0.25, "quetiapine": 0.15, "mirtazapine": 0.10,
               "lithium": 0.10}),
    Diagnosis("anxiety", 0.20, ("F41.1", "F41.0", "F41.9"), (16, 80),
              {"escitalopram": 0.30, "sertraline": 0.30, "duloxetine": 0.15, "venlafaxine": 0.10,
               "buspirone": 0.10, "paroxetine": 0.05},
              {"buspirone": 0.5, "aripiprazole": 0.2, "quetiapine": 0.3}),
    Diagnosis("bipolar", 0.10, ("F31.81", "F31.32", "F31.9", "F31.4"), (18, 80),
              {"lithium": 0.25, "valproate": 0.15, "lamotrigine": 0.20, "quetiapine": 0.20,
               "aripiprazole": 0.10, "lurasidone": 0.10},
              {"quetiapine": 0.4, "lamotrigine": 0.3, "lithium": 0.3}),
    Diagnosis("schizophrenia", 0.07, ("F20.9", "F20.0", "F25.0"), (18, 75),
              {"risperidone": 0.25, "aripiprazole": 0.25, "olanzapine": 0.20, "quetiapine": 0.10,
               "haloperidol": 0.10, "lurasidone": 0.10},
              {"clozapine": 1.0}),
    Diagnosis("adhd", 0.10, ("F90.0", "F90.2", "F90.9"), (7, 55),
              {"methylphenidate": 0.35, "lisdexamfetamine": 0.30, "amphetamine": 0.20,
               "atomoxetine": 0.10, "guanfacine": 0.05},
              {"guanfacine": 1.0}),
    Diagnosis("ptsd", 0.08, ("F43.10", "F43.12"), (18, 75),
              {"sertraline": 0.40, "paroxetine": 0.20, "venlafaxine": 0.20, "fluoxetine": 0.20},
              {"aripiprazole": 0.5, "quetiapine": 0.5}),
    Diagnosis("ocd", 0.05, ("F42.2",), (12, 70),
              {"fluoxetine": 0.30, "sertraline": 0.30, "fluvoxamine": 0.20, "escitalopram": 0.20},
              {"aripiprazole": 0.5, "risperidone": 0.5}),
)
DIAGNOSIS_INDEX: dict[str, int] = {d.name: i for i, d in enumerate(DIAGNOSES)}

#: P(comorbid diagnosis | primary): anxiety with depression in ~45% (NCS-R), depression in PTSD.
COMORBIDITY: dict[str, dict[str, float]] = {
    "major_depression": {"anxiety": 0.45, "substance_use": 0.10},
    "anxiety": {"major_depression": 0.35},
    "bipolar": {"anxiety": 0.30, "substance_use": 0.20},
    "schizophrenia": {"substance_use": 0.25},
    "adhd": {"anxiety": 0.20, "major_depression": 0.10},
    "ptsd": {"major_depression": 0.50, "substance_use": 0.15},
    "ocd": {"major_depression": 0.30},
}
COMORBID_CODES: dict[str, tuple[str, ...]] = {
    "anxiety": ("F41.1", "F41.9"),
    "major_depression": ("F32.1", "F33.1"),
    "substance_use": ("F10.20", "F12.20"),
}

#: Step decisions after the follow-up window of a non-responding drug (STAR*D levels 2-3).
NONRESPONSE_NEXT: dict[str, float] = {"switch": 0.50, "augment": 0.30, "continue": 0.20}
#: Responders who stop after 6-13 months of maintenance, and their stop reasons.
MAINTENANCE_STOP_PROBABILITY = 0.35
MAINTENANCE_STOP_REASONS: dict[str, float] = {"remission": 0.6, "patient_choice": 0.3, "cost": 0.1}
MAX_STEPS = 3

#: Visits: gaps between follow-ups in the first four months, then in maintenance (days).
EARLY_VISIT_GAP = (14, 35)
LATER_VISIT_GAP = (21, 56)
#: Days from the prescribing visit to the first fill.
FILL_LAG_DAYS = (0, 5)
TELEHEALTH_SHARE = 0.30
#: Drop-out: a share leaves care within the first months (a third by week 12 in routine care).
DROPOUT_MEDIAN_DAYS = 240
#: Share of clinicians who practise measurement-based care (record PHQ-9/GAD-7 at visits).
MEASURING_CLINICIAN_SHARE = 0.85
#: Inpatient stays per diagnosis (share of patients with one stay) and their length (days).
INPATIENT_SHARE: dict[str, float] = {"schizophrenia": 0.20, "bipolar": 0.12, "major_depression": 0.03}
INPATIENT_LENGTH_DAYS = (3, 21)
SEX_SHARES: dict[str, float] = {"F": 0.60, "M": 0.38, "X": 0.01, "U": 0.01}
#: 90-day pharmacy supplies: share of episodes that move to 90-day fills after the third fill.
NINETY_DAY_SHARE = 0.25
