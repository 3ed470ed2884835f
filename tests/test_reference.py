"""The reference tables are data with their own tests: shape, codes, and the matching rules.

Expected values below are written out by hand from the definitions in ``pipelines/reference.py``
and DOMAIN.md sections 8 and 9.1, not computed by the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from pipelines import reference
from pipelines.reference import (
    DRUG_CLASSES,
    NOISE_WORDS,
    diagnosis_group,
    drug_ingredients,
    drug_table,
    normalise_drug_names,
    normalise_effects,
)

ATC_SHAPE = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")

#: DOMAIN.md section 9.1, in the order of its table (the serotonin/NMS/lithium row holds three).
_VOCABULARY_TEXT = (
    "sedation weight_gain appetite_weight_loss sexual_dysfunction nausea_gi anticholinergic "
    "insomnia headache dizziness_orthostasis activation_agitation akathisia eps tardive_dyskinesia "
    "tremor hyperprolactinaemia metabolic qtc_prolongation hyponatraemia rash_sjs haematological "
    "hepatic renal_thyroid sialorrhoea seizure cardiovascular serotonin_syndrome nms "
    "lithium_toxicity discontinuation_syndrome emergent_suicidality falls_cognition_dependence "
    "dissociation other"
)
VOCABULARY_CODES = _VOCABULARY_TEXT.split()


def _one(function, value):
    return function(pl.Series([value])).item()


# --- drugs.csv -------------------------------------------------------------------------------


def test_drug_table_has_the_agreed_columns_and_at_least_100_unique_ingredients():
    drugs = drug_table()
    assert drugs.columns == [
        "ingredient", "drug_class", "drug_subclass", "atc_code", "rxnorm_cui", "brands",
    ]
    assert drugs.height >= 100
    assert drugs["ingredient"].n_unique() == drugs.height
    assert drugs["ingredient"].null_count() == 0
    # ingredients are stored lower case, as the synonym table and the warehouse use them
    assert (drugs["ingredient"] == drugs["ingredient"].str.to_lowercase()).all()


def test_every_class_is_one_of_the_six_and_every_row_has_a_subclass():
    drugs = drug_table()
    assert set(drugs["drug_class"].unique()) == set(DRUG_CLASSES)
    assert drugs["drug_subclass"].null_count() == 0


def test_subclasses_belong_to_the_expected_class():
    drugs = drug_table()
    expected_class = {
        "SSRI": "antidepressant", "SNRI": "antidepressant", "TCA": "antidepressant",
        "MAOI": "antidepressant", "atypical_antidepressant": "antidepressant",
        "FGA": "antipsychotic", "SGA": "antipsychotic", "lithium": "mood_stabiliser",
        "benzodiazepine": "anxiolytic_hypnotic", "z_drug": "anxiolytic_hypnotic",
        "other_anxiolytic": "anxiolytic_hypnotic", "stimulant": "adhd_medication",
        "non_stimulant": "adhd_medication",
    }
    for subclass, drug_class in expected_class.items():
        classes = set(drugs.filter(pl.col("drug_subclass") == subclass)["drug_class"])
        assert classes == {drug_class}, subclass


@pytest.mark.parametrize(
    ("ingredient", "drug_class", "drug_subclass"),
    [
        ("sertraline", "antidepressant", "SSRI"),
        ("venlafaxine", "antidepressant", "SNRI"),
        ("nortriptyline", "antidepressant", "TCA"),
        ("phenelzine", "antidepressant", "MAOI"),
        ("mirtazapine", "antidepressant", "atypical_antidepressant"),
        ("haloperidol", "antipsychotic", "FGA"),
        ("paliperidone", "antipsychotic", "SGA"),
        ("lithium", "mood_stabiliser", "lithium"),
        ("valproate", "mood_stabiliser", "anticonvulsant"),
        ("clonazepam", "anxiolytic_hypnotic", "benzodiazepine"),
        ("zolpidem", "anxiolytic_hypnotic", "z_drug"),
        ("buspirone", "anxiolytic_hypnotic", "other_anxiolytic"),
        ("lisdexamfetamine", "adhd_medication", "stimulant"),
        ("atomoxetine", "adhd_medication", "non_stimulant"),
        ("prazosin", "other", "alpha_blocker"),
    ],
)
def test_known_ingredients_have_their_clinical_class(ingredient, drug_class, drug_subclass):
    row = drug_table().filter(pl.col("ingredient") == ingredient)
    assert row.select("drug_class", "drug_subclass").rows() == [(drug_class, drug_subclass)]


def test_the_brief_lists_every_named_ingredient():
    named_text = (
        "bupropion mirtazapine trazodone vortioxetine vilazodone esketamine paliperidone "
        "aripiprazole lithium valproate lamotrigine carbamazepine oxcarbazepine buspirone "
        "hydroxyzine ramelteon suvorexant prazosin naltrexone clonidine donepezil memantine "
        "galantamine propranolol"
    )
    assert set(named_text.split()) <= set(drug_table()["ingredient"])


def test_atc_codes_are_well_formed_and_psychiatric_ones_sit_in_the_nervous_system():
    drugs = drug_table().drop_nulls("atc_code")
    assert drugs.height >= 100
    for ingredient, drug_class, atc in drugs.select("ingredient", "drug_class", "atc_code").rows():
        assert ATC_SHAPE.match(atc), (ingredient, atc)
        if drug_class in {"antidepressant", "antipsychotic", "mood_stabiliser"}:
            # N04BD01 is selegiline's only ATC code (the transdermal MAOI shares it)
            assert atc[:3] in {"N05", "N06", "N03"} or atc == "N04BD01", (ingredient, atc)
        if drug_class == "anxiolytic_hypnotic":
            assert atc[:3] in {"N05", "N03"}, (ingredient, atc)


@pytest.mark.parametrize(
    ("ingredient", "atc"),
    [
        # DOMAIN.md section 8: ATC groups differ from clinical classes
        ("lithium", "N05AN01"),
        ("clonazepam", "N03AE01"),
        ("guanfacine", "C02AC02"),
        ("duloxetine", "N06AX21"),
        ("sertraline", "N06AB06"),
        ("haloperidol", "N05AD01"),
    ],
)
def test_atc_codes_from_the_domain_reference(ingredient, atc):
    assert drug_table().filter(pl.col("ingredient") == ingredient)["atc_code"].item() == atc


def test_atc_codes_are_unique_per_ingredient():
    atc = drug_table()["atc_code"].drop_nulls()
    assert atc.n_unique() == atc.len()


@pytest.mark.parametrize(
    ("ingredient", "cui"),
    [
        ("sertraline", "36437"), ("fluoxetine", "4493"), ("escitalopram", "321988"),
        ("citalopram", "2556"), ("lorazepam", "6470"), ("diazepam", "3322"),
        ("clonazepam", "2598"), ("carbamazepine", "2002"), ("memantine", "6719"),
        ("galantamine", "4637"), ("trazodone", "10737"), ("quetiapine", "51272"),
        ("haloperidol", "5093"), ("zolpidem", "39993"), ("hydroxyzine", "5553"),
        ("lithium", "6448"),
    ],
)
def test_rxnorm_ingredient_cuis_given_in_the_brief(ingredient, cui):
    assert drug_table().filter(pl.col("ingredient") == ingredient)["rxnorm_cui"].item() == cui


#: Opioid analgesics of drugs.csv, added without codes (see the README review log).
OPIOID_ANALGESICS = ("codeine", "dihydrocodeine", "fentanyl", "hydrocodone", "hydromorphone",
                     "levorphanol", "meperidine", "morphine", "oxycodone", "oxymorphone",
                     "pentazocine", "tapentadol", "tramadol")

#: Ingredients whose RxNorm ingredient (IN) CUI is deliberately empty, each with the reason. Filling
#: one means deleting it here, in the same change that records its source in the README review log.
RXNORM_TO_VERIFY = {
    "agomelatine": "not US-marketed; no source pairing it with an IN (extract's A file unread)",
    "levomepromazine": "RxNorm names it methotrimeprazine; no public source found yet",
    "flupentixol": "not US-marketed; no public source found yet",
    "sulpiride": "not US-marketed; absent from the RxNorm ingredient extract (may have no IN)",
    "amisulpride": "US IV antiemetic only; no public source found yet",
    "pimavanserin": "no public source found yet",
    "bromazepam": "not US-marketed; no public source found yet",
    "nitrazepam": "not US-marketed; no public source found yet",
    "zopiclone": "not US-marketed; absent from the RxNorm ingredient extract (may have no IN)",
    "daridorexant": "no public source found yet",
    "dexmethylphenidate": "no public source found yet",
    "benztropine": "no public source found yet",
    "amantadine": "no public source found yet",
    "deutetrabenazine": "no public source found yet",
    "acamprosate": "no public source found yet",
    # opioid analgesics (subclass opioid_analgesic, for the opioid-with-benzodiazepine rule):
    # added 2026-12-03 by name; codes to be filled from a cited source
    **dict.fromkeys(OPIOID_ANALGESICS, "added for PQA COB by name; no source cited yet"),
}

#: Ingredients whose ATC code is deliberately empty, with the reason (same rule as above).
ATC_TO_VERIFY = {
    "zuranolone": "no ATC code found in a public source",
    "lumateperone": "public sources disagree (one gives N05AX17, which is pimavanserin's)",
    "xanomeline": "public sources disagree (one gives N05AX17, which is pimavanserin's)",
    **dict.fromkeys(OPIOID_ANALGESICS, "added for PQA COB by name; no source cited yet"),
}

RXNORM_CUI_SHAPE = re.compile(r"^[1-9]\d{0,7}$")


def test_every_ingredient_has_a_well_formed_rxnorm_cui_or_is_listed_to_verify():
    rows = drug_table().select("ingredient", "rxnorm_cui").rows()
    for ingredient, cui in rows:
        if ingredient in RXNORM_TO_VERIFY:
            assert cui is None, (ingredient, cui, "filled: remove it from RXNORM_TO_VERIFY")
        else:
            assert cui is not None and RXNORM_CUI_SHAPE.match(cui), (ingredient, cui)
    # no stale entries: every name on the list is an ingredient of the table
    assert set(RXNORM_TO_VERIFY) <= {ingredient for ingredient, _ in rows}


def test_every_ingredient_has_an_atc_code_or_is_listed_to_verify():
    rows = drug_table().select("ingredient", "atc_code").rows()
    for ingredient, atc in rows:
        if ingredient in ATC_TO_VERIFY:
            assert atc is None, (ingredient, atc, "filled: remove it from ATC_TO_VERIFY")
        else:
            assert atc is not None and ATC_SHAPE.match(atc), (ingredient, atc)
    assert set(ATC_TO_VERIFY) <= {ingredient for ingredient, _ in rows}


@pytest.mark.parametrize(
    ("ingredient", "cui"),
    [
        # RxNorm IN codes confirmed in public sources (README review log, 2026-11-27)
        ("valproate", "40254"),     # IN; valproic acid 11118 and divalproex 266856 are salts
        ("pregabalin", "187832"),
        ("prazosin", "8629"),
        ("dosulepin", "3634"),      # RxNorm name: dothiepin
        ("lofepramine", "6465"),
        ("moclobemide", "30121"),
        ("mianserin", "6929"),
        ("reboxetine", "60842"),
        ("viloxazine", "11196"),
        # 2026-11-28 review: IN entries of the NLM RxNorm extract (README source A)
        ("zuranolone", "2669905"), ("xanomeline", "2694828"), ("quazepam", "35185"),
        ("suvorexant", "1547099"),  # not 1547220, which is eliglustat (CPIC)
        ("trihexyphenidyl", "10811"), ("valbenazine", "1918219"), ("varenicline", "591622"),
        ("lumateperone", "2275602"), ("lemborexant", "2272403"),
        # existing codes re-checked against CPIC drug.sql and the RxNav ATC-member list
        ("iloperidone", "73178"), ("vortioxetine", "1455099"), ("brexpiprazole", "1658314"),
        ("zuclopenthixol", "114176"), ("levomilnacipran", "1433212"), ("esketamine", "2119365"),
    ],
)
def test_rxnorm_ingredient_cuis_confirmed_in_public_sources(ingredient, cui):
    assert drug_table().filter(pl.col("ingredient") == ingredient)["rxnorm_cui"].item() == cui


@pytest.mark.parametrize(
    ("ingredient", "atc"),
    [
        ("levomilnacipran", "N06AX28"), ("armodafinil", "N06BA13"), ("valbenazine", "N07XX13"),
        ("deutetrabenazine", "N07XX16"), ("pimavanserin", "N05AX17"),
        # WHO ATC moved the orexin antagonists from N05CM to the new group N05CJ
        ("suvorexant", "N05CJ01"), ("lemborexant", "N05CJ02"), ("daridorexant", "N05CJ03"),
    ],
)
def test_atc_codes_confirmed_in_public_sources(ingredient, atc):
    assert drug_table().filter(pl.col("ingredient") == ingredient)["atc_code"].item() == atc


def test_rxnorm_cuis_are_numeric_and_unique():
    cuis = drug_table()["rxnorm_cui"].drop_nulls()
    assert cuis.str.contains(r"^[1-9]\d*$").all()
    assert cuis.n_unique() == cuis.len()


# --- rxnorm_code_synonyms.csv: salt-level (precise ingredient) RxNorm codes ----------------------

#: RxNorm term types a code synonym may carry: precise ingredient (a salt or ester of an IN).
CODE_SYNONYM_TERM_TYPES = {"PIN"}


def _code_synonyms() -> pl.DataFrame:
    path = Path(reference.__file__).parent / "reference" / "rxnorm_code_synonyms.csv"
    return pl.read_csv(path, infer_schema=False)


def test_code_synonyms_have_the_agreed_columns_a_term_type_and_a_source():
    synonyms = _code_synonyms()
    assert synonyms.columns == ["rxnorm_cui", "term_type", "ingredient", "source"]
    assert synonyms.null_count().row(0) == (0, 0, 0, 0)
    assert synonyms["rxnorm_cui"].str.contains(RXNORM_CUI_SHAPE.pattern).all()
    assert set(synonyms["term_type"]) <= CODE_SYNONYM_TERM_TYPES
    assert set(synonyms["ingredient"]) <= set(drug_table()["ingredient"])


def test_no_code_synonym_maps_to_two_ingredients_or_clashes_with_an_ingredient_code():
    synonyms = _code_synonyms()
    assert synonyms["rxnorm_cui"].n_unique() == synonyms.height
    in_codes = dict(drug_table().drop_nulls("rxnorm_cui").select("rxnorm_cui", "ingredient").rows())
    clashes = {cui: (in_codes[cui], ingredient)
               for cui, ingredient in synonyms.select("rxnorm_cui", "ingredient").rows()
               if cui in in_codes}
    assert clashes == {}


@pytest.mark.parametrize(
    ("cui", "ingredient"),
    [
        ("11118", "valproate"),    # valproic acid (PIN)
        ("266856", "valproate"),   # divalproex sodium (PIN)
        ("40254", "valproate"),    # the IN itself still maps
        ("1115", "trihexyphenidyl"),  # trihexyphenidyl hydrochloride (PIN)
        ("6448", "lithium"),
    ],
)
def test_adapters_map_salt_level_codes_to_the_ingredient(cui, ingredient):
    from pipelines.adapters.codes import rxnorm_ingredients

    assert rxnorm_ingredients()[cui] == ingredient


def test_brands_are_pipe_separated_names_without_stray_spaces():
    with_brands = drug_table().drop_nulls("brands")
    for ingredient, brands in with_brands.select("ingredient", "brands").rows():
        for brand in brands.split("|"):
            assert brand and brand == brand.strip(), (ingredient, brands)


# --- drug_synonyms.csv ------------------------------------------------------------------------


def test_every_synonym_is_lower_case_and_points_at_a_known_ingredient():
    synonyms = reference.synonym_table()
    assert synonyms.columns == ["synonym", "ingredient"]
    assert (synonyms["synonym"] == synonyms["synonym"].str.to_lowercase()).all()
    unknown = set(synonyms["ingredient"]) - set(drug_table()["ingredient"])
    assert unknown == set()


def test_no_synonym_maps_to_two_ingredients():
    per_synonym = reference.synonym_table().group_by("synonym").agg(pl.col("ingredient").n_unique())
    assert per_synonym.filter(pl.col("ingredient") > 1).height == 0


def test_names_brands_and_synonyms_are_unambiguous_after_normalisation():
    # drug_lookup_keys raises on a clash; every name must keep at least one identifying word
    keys = reference.drug_lookup_keys()
    assert len(keys) > drug_table().height


def test_no_noise_word_is_an_ingredient_or_brand():
    names = reference.drug_lookup_table()["name"].to_list()
    single_words = {name for name in names if " " not in name}
    assert single_words & NOISE_WORDS == set()


# --- normalise_drug_names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_written", "ingredient"),
    [
        ("Zoloft 50 mg tablet", "sertraline"),
        ("SERTRALINE HCL 100MG TAB", "sertraline"),
        ("sertraline hydrochloride 50 MG Oral Tablet", "sertraline"),
        ("quetiapine 25 MG Oral Tablet", "quetiapine"),
        ("1 ML haloperidol 5 MG/ML Injection", "haloperidol"),
        ("Carbamazepine[Tegretol]", "carbamazepine"),
        ("carbamazepine 20 MG/ML Oral Suspension [Tegretol]", "carbamazepine"),
        ("Adderall XR 20mg", "amphetamine"),
        ("Depakote ER 500", "valproate"),
        ("lithium carbonate 300mg cap", "lithium"),
        ("Seroquel XR", "quetiapine"),
        ("divalproex sodium 250 MG Delayed Release Oral Tablet", "valproate"),
        ("Valproic Acid 250 MG Oral Capsule", "valproate"),
        ("mixed amphetamine salts", "amphetamine"),
        ("amphetamine/dextroamphetamine 10 mg", "amphetamine"),
        ("Dextroamphetamine Saccharate 2.5 MG / Amphetamine Aspartate 2.5 MG / "
         "Dextroamphetamine Sulfate 2.5 MG / Amphetamine Sulfate 2.5 MG Oral Tablet",
         "amphetamine"),
        ("Dextroamphetamine sulfate 5 MG Oral Tablet", "dextroamphetamine"),
        ("Vyvanse 30 mg capsule", "lisdexamfetamine"),
        ("LISDEXAMFETAMINE DIMESYLATE 40MG CAP", "lisdexamfetamine"),
        ("busPIRone HCl 10 mg tab", "buspirone"),
        ("Invega Sustenna 234 MG/1.5ML Prefilled Syringe", "paliperidone"),
        ("Abilify Maintena 400 mg", "aripiprazole"),
        ("aripiprazole lauroxil 882 MG/3.2ML", "aripiprazole"),
        ("haloperidol decanoate 100 MG/ML Injectable Solution", "haloperidol"),
        ("Escitalopram Oxalate 10 MG Oral Tablet", "escitalopram"),
        ("sertaline 50mg", "sertraline"),
        ("clonazepam 0.5 mg ODT", "clonazepam"),
        ("Wellbutrin XL 150mg", "bupropion"),
        ("zolpidem tartrate ER 6.25", "zolpidem"),
        ("Symbyax 6/25", "olanzapine"),
        ("perphenazine 2 MG / amitriptyline 10 MG Oral Tablet", "perphenazine"),
        ("Spravato 28 MG nasal spray", "esketamine"),
        ("ZOLOFT50MG", "sertraline"),                  # strength glued to the name
        ("quetiapine25mg tab", "quetiapine"),
        ("d-amphetamine 5 mg", "dextroamphetamine"),
        ("S-citalopram 10mg", "escitalopram"),
        ("Cotempla XR-ODT 17.3 mg", "methylphenidate"),
    ],
)
def test_drug_names_normalise_to_their_ingredient(as_written, ingredient):
    assert _one(normalise_drug_names, as_written) == ingredient


@pytest.mark.parametrize(
    "not_psychiatric",
    ["amLODIPine 5 MG", "metformin 500 mg tab", "Lipitor 20", "acetaminophen 325 MG",
     "sodium chloride 0.9 % injection", "50 mg tablet", "", "   ", "midazolam 1 MG/ML"],
)
def test_non_psychiatric_names_give_null(not_psychiatric):
    assert _one(normalise_drug_names, not_psychiatric) is None


def test_normalisation_keeps_length_order_nulls_and_name():
    names = pl.Series("drug", ["Prozac 20", None, "amLODIPine 5 MG", "Prozac 20", "Ativan 1mg"])
    result = normalise_drug_names(names)
    assert result.name == "drug"
    assert result.to_list() == ["fluoxetine", None, None, "fluoxetine", "lorazepam"]


def test_empty_all_null_and_categorical_columns_are_accepted():
    assert normalise_drug_names(pl.Series("drug", [], dtype=pl.String)).to_list() == []
    assert normalise_drug_names(pl.Series("drug", [None, None])).to_list() == [None, None]
    categorical = pl.Series("drug", ["Prozac 20mg", "aspirin"], dtype=pl.Categorical)
    assert normalise_drug_names(categorical).to_list() == ["fluoxetine", None]


def test_a_caller_changing_its_copy_does_not_change_the_reference():
    mine = drug_table()
    mine.insert_column(0, pl.Series("scratch", [1] * mine.height))
    assert "scratch" not in drug_table().columns


def test_drug_ingredients_lists_every_ingredient_of_a_written_out_combination():
    names = pl.Series(["perphenazine 2 MG / amitriptyline 10 MG Oral Tablet",
                       "olanzapine 6 MG / fluoxetine 25 MG Oral Capsule", "metformin", None])
    assert drug_ingredients(names).to_list() == [
        ["perphenazine", "amitriptyline"], ["olanzapine", "fluoxetine"], [], None,
    ]


def test_normalising_a_million_rows_with_a_thousand_distinct_names():
    lookups = reference.drug_lookup_table()["name"].to_list()
    distinct = [f"{lookups[i % len(lookups)]} {i} MG Oral Tablet" for i in range(1000)]
    names = pl.Series("drug", distinct * 1000)
    result = normalise_drug_names(names)
    assert result.len() == 1_000_000
    assert result.null_count() == 0
    # row k holds distinct name k % 1000: the join back kept the original order
    assert result[0] == result[1000] == _one(normalise_drug_names, distinct[0])
    assert result[999_999] == _one(normalise_drug_names, distinct[999])


# --- side_effect_terms.csv and normalise_effects ----------------------------------------------


def test_effect_vocabulary_is_exactly_domain_section_9_1():
    table = reference.effect_table()
    assert table.columns == ["code", "label", "synonyms"]
    assert table["code"].to_list() == VOCABULARY_CODES
    assert table["label"].null_count() == 0


@pytest.mark.parametrize(
    ("term", "code"),
    [
        ("weight gain", "weight_gain"),
        ("Weight increased", "weight_gain"),
        ("weight_gain", "weight_gain"),
        ("sexual dysfunction", "sexual_dysfunction"),
        ("decreased libido", "sexual_dysfunction"),
        ("sleepiness", "sedation"),
        ("somnolence", "sedation"),
        ("  Somnolence ", "sedation"),
        ("restlessness", "akathisia"),
        ("EPS", "eps"),
        ("Extrapyramidal symptoms", "eps"),
        ("hyponatremia", "hyponatraemia"),
        ("Stevens-Johnson syndrome", "rash_sjs"),
        ("QTc prolongation", "qtc_prolongation"),
        ("neuroleptic malignant syndrome", "nms"),
        ("dry mouth", "anticholinergic"),
        ("diarrhea", "nausea_gi"),
        ("other", "other"),
    ],
)
def test_effect_terms_and_synonyms_map_to_codes(term, code):
    assert _one(normalise_effects, term) == code


def test_unknown_effect_terms_give_null():
    result = normalise_effects(pl.Series(["felt odd", "", None, "weight"]))
    assert result.to_list() == [None, None, None, None]


def test_no_effect_term_maps_to_two_codes():
    keys = reference.effect_lookup_keys()
    assert set(keys.values()) == set(VOCABULARY_CODES)


# --- diagnosis_groups.csv and diagnosis_group -------------------------------------------------


def test_diagnosis_group_table_prefixes_are_unique_and_groups_known():
    table = reference.diagnosis_group_table()
    assert table.columns == ["icd10_prefix", "diagnosis_group", "label"]
    assert table["icd10_prefix"].n_unique() == table.height
    assert set(table["diagnosis_group"]) <= {
        "major_depression", "dysthymia", "anxiety", "bipolar", "schizophrenia", "psychosis",
        "adhd", "ptsd", "ocd", "substance_use", "personality", "autism_spectrum", "other",
    }


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("F32.9", "major_depression"),
        ("F329", "major_depression"),
        ("F33.1", "major_depression"),
        ("F32.A", "major_depression"),
        ("F32.81", "other"),            # premenstrual dysphoric disorder sits under F32.8
        ("F34.1", "dysthymia"),
        ("F34.0", "bipolar"),           # cyclothymia
        ("F31.32", "bipolar"),
        ("F20.9", "schizophrenia"),
        ("F25.0", "schizophrenia"),     # schizoaffective counts with schizophrenia (SAA)
        ("F29", "psychosis"),
        ("F41.1", "anxiety"),
        ("F40.10", "anxiety"),
        ("F42.2", "ocd"),
        ("F43.10", "ptsd"),             # the longer prefix F43.1 wins over F43
        ("F43.1", "ptsd"),
        ("F4312", "ptsd"),
        ("F43.21", "other"),            # adjustment disorder: F43 only
        ("F90.2", "adhd"),
        ("F10.20", "substance_use"),
        ("F17.210", "substance_use"),
        ("F50.00", "other"),            # any other chapter-F code
        (" f43.10 ", "ptsd"),           # padded, lower case
        ("F 32 . 1", "major_depression"),
    ],
)
def test_icd10_codes_fall_in_their_group_by_longest_prefix(code, group):
    assert _one(diagnosis_group, code) == group


@pytest.mark.parametrize("code", ["I10", "E11.9", "Z00.00", "", "   ", "G30.9"])
def test_codes_outside_chapter_f_have_no_group(code):
    assert _one(diagnosis_group, code) is None


def test_diagnosis_group_keeps_nulls_and_order():
    codes = pl.Series("icd10_code", ["F33.2", None, "I10", "F43.10"])
    result = diagnosis_group(codes)
    assert result.name == "icd10_code"
    assert result.to_list() == ["major_depression", None, None, "ptsd"]
