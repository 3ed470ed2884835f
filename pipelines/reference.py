"""Reviewed reference data: psychiatric drugs, side-effect vocabulary and diagnosis groups.

The data lives in ``pipelines/reference/*.csv`` (sources and review notes in
``pipelines/reference/README.md``); this module loads it and holds the matching rules.

Definitions:

* **Ingredient** is the key of everything drug-related (DOMAIN.md section 8): one row per active
  ingredient in ``drugs.csv`` with its class, subclass, WHO ATC code and RxNorm ingredient CUI. The
  class is fixed per ingredient; its *role* (quetiapine as augmentation) comes from the regimen.
* **Drug name normalisation** maps a name as written ("SERTRALINE HCL 100MG TAB",
  "Zoloft 50 mg tablet", "1 ML haloperidol 5 MG/ML Injection") to an ingredient, or to null when
  no psychiatric ingredient is named. The name is lower-cased and cut into words at every
  character that is not a letter (digits too, so strengths vanish and "Zoloft50mg" reads
  "zoloft mg"); the words in ``NOISE_WORDS`` (units, dose forms, release suffixes, salts,
  packaging) are dropped; the remaining words are scanned left to right for the
  longest run that is an ingredient, a brand or a synonym, each of those normalised the same way.
  The first match wins. A combination product therefore maps to the first ingredient named
  ("olanzapine and fluoxetine" -> olanzapine) and a combination brand to its primary ingredient
  (Symbyax -> olanzapine); ``drug_ingredients`` lists every ingredient a name mentions.
* **Side-effect terms** map a product code, its label or a listed synonym (case, spacing,
  ``_``/``-`` and punctuation ignored) to a code of the DOMAIN.md section 9.1 vocabulary.
* **Diagnosis groups** map an ICD-10 code to a group by the longest matching prefix, so F43.1
  (PTSD) wins over F43 (other stress reactions) and any other F code falls to ``other``; codes
  outside chapter F give null.

Matching works on the distinct values only and joins the result back, so a column of ten million
rows with a few thousand distinct names costs a few thousand lookups.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

import polars as pl

DRUG_CLASSES: tuple[str, ...] = (
    "antidepressant",
    "antipsychotic",
    "mood_stabiliser",
    "anxiolytic_hypnotic",
    "adhd_medication",
    "other",
)

#: Words that say how much, in what form or which salt, never which ingredient. Dropped before
#: lookup. A test checks that none of them is needed to tell two ingredients or brands apart.
_NOISE_TEXT = (
    # units and amounts
    "mg mcg ug g gm gram grams ml l meq mmol unit units iu hr hrs h hour hours day days daily "
    "per each x dose doses"
    # dose forms and routes
    " tab tabs tablet tablets cap caps capsule capsules oral orally solution soln suspension susp"
    " syrup elixir liquid concentrate drops powder granules sprinkle sprinkles chewable chew"
    " disintegrating dispersible odt film films coated sublingual buccal transdermal patch patches"
    " injection injectable inj intramuscular im iv intravenous subcutaneous sc sq pen syringe"
    " prefilled vial vials ampoule ampule kit pack blister bottle nasal spray inhaler inhalation"
    " implant depot suppository rectal gel topical device"
    # release and brand-suffix words
    " er xr sr xl cr la cd dr ec ir xt lp pr mr extended immediate delayed controlled modified"
    " prolonged sustained release released retard long acting"
    # salts, esters and hydrates
    " hcl hydrochloride dihydrochloride hbr hydrobromide sodium potassium dipotassium calcium"
    " magnesium carbonate citrate succinate fumarate hemifumarate maleate mesylate mesilate"
    " dimesylate besylate tartrate bitartrate sulfate sulphate saccharate aspartate oxalate"
    " pamoate embonate decanoate enanthate palmitate lactate acetate phosphate tosylate chloride"
    " bromide monohydrate hemihydrate dihydrate trihydrate anhydrous acid salt salts base"
    # connecting words and packaging text
    " and with w plus of in for generic brand"
)
NOISE_WORDS: frozenset[str] = frozenset(_NOISE_TEXT.split())

_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
# Digits end a word as well as separate words: no ingredient or brand holds a digit, and names
# such as "SERTRALINE100MG" or "Zoloft50mg" glue the strength to the name.
_DRUG_WORD_SPLIT = re.compile(r"[^a-z]+")


def _words(text: str) -> tuple[str, ...]:
    """The words of a drug name that can name an ingredient, in order."""
    return tuple(
        word for word in _DRUG_WORD_SPLIT.split(text.lower()) if word and word not in NOISE_WORDS
    )


def _term_key(text: str) -> str:
    """A side-effect term reduced to lower-case words joined by single spaces."""
    return " ".join(word for word in _WORD_SPLIT.split(text.lower()) if word)


def _icd10_key(code: str) -> str:
    """An ICD-10 code upper-cased, without dots or spaces ("f43.10 " -> "F4310")."""
    return re.sub(r"[\s.]", "", code).upper()


@cache
def _read_reference_csv(file_name: str) -> pl.DataFrame:
    """Read one reference CSV as strings (empty cells become null); columns are checked by tests.

    Cached for the life of the process; the public accessors hand out clones, so a caller that
    modifies its frame in place cannot change what the normalisers see.
    """
    path = resources.files("pipelines").joinpath("reference", file_name)
    with resources.as_file(path) as real_path:
        return pl.read_csv(real_path, infer_schema=False)


def drug_table() -> pl.DataFrame:
    """``drugs.csv``: ingredient, drug_class, drug_subclass, atc_code, rxnorm_cui, brands."""
    return _read_reference_csv("drugs.csv").clone()


def synonym_table() -> pl.DataFrame:
    """``drug_synonyms.csv``: synonym (lower case), ingredient."""
    return _read_reference_csv("drug_synonyms.csv").clone()


def effect_table() -> pl.DataFrame:
    """``side_effect_terms.csv``: code, label, synonyms (``|``-separated)."""
    return _read_reference_csv("side_effect_terms.csv").clone()


def diagnosis_group_table() -> pl.DataFrame:
    """``diagnosis_groups.csv``: icd10_prefix, diagnosis_group, label."""
    return _read_reference_csv("diagnosis_groups.csv").clone()


def drug_lookup_table() -> pl.DataFrame:
    """Every name that identifies an ingredient: ``name, ingredient, source``.

    ``source`` is ``ingredient``, ``brand`` or ``synonym``. Names are as written in the CSVs
    (lower-cased); ``drug_lookup_keys`` holds them as normalised word sequences.
    """
    drugs = drug_table()
    ingredients = drugs.select(
        pl.col("ingredient").alias("name"), "ingredient", pl.lit("ingredient").alias("source")
    )
    brands = (
        drugs.select(pl.col("brands").str.split("|").alias("name"), "ingredient")
        .explode("name")
        .drop_nulls("name")
        .select(pl.col("name").str.to_lowercase(), "ingredient", pl.lit("brand").alias("source"))
    )
    synonyms = synonym_table().select(
        pl.col("synonym").str.to_lowercase().alias("name"),
        "ingredient",
        pl.lit("synonym").alias("source"),
    )
    return pl.concat([ingredients, brands, synonyms]).unique(maintain_order=True)


@lru_cache(maxsize=1)
def drug_lookup_keys() -> dict[tuple[str, ...], str]:
    """Normalised word sequence -> ingredient, built from ``drug_lookup_table``.

    Raises ``ValueError`` when a name normalises to nothing or when two names that normalise alike
    point at different ingredients, naming the CSV rows; the reference data must be unambiguous.
    """
    keys: dict[tuple[str, ...], str] = {}
    origin: dict[tuple[str, ...], str] = {}
    for name, ingredient, source in drug_lookup_table().iter_rows():
        key = _words(name)
        if not key:
            raise ValueError(f"reference {source} {name!r} ({ingredient}) has no identifying word")
        if key in keys and keys[key] != ingredient:
            raise ValueError(
                f"reference {source} {name!r} -> {ingredient} clashes with {origin[key]} -> "
                f"{keys[key]} (both read as {' '.join(key)!r})"
            )
        keys[key] = ingredient
        origin[key] = f"{source} {name!r}"
    return keys


def _ingredients_in(name: str, keys: dict[tuple[str, ...], str], longest: int) -> list[str]:
    """Ingredients named in ``name``, in order of appearance, by longest-run matching."""
    words = _words(name)
    found: list[str] = []
    position = 0
    while position < len(words):
        for length in range(min(longest, len(words) - position), 0, -1):
            ingredient = keys.get(words[position : position + length])
            if ingredient is not None:
                if ingredient not in found:
                    found.append(ingredient)
                position += length
                break
        else:
            position += 1
    return found


def _map_unique(values: pl.Series, mapper, return_dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    """Apply ``mapper`` to each distinct non-null value and join the results back in order."""
    distinct = values.drop_nulls().unique()
    mapping = pl.DataFrame(
        {
            "value": distinct,
            "mapped": pl.Series([mapper(v) for v in distinct.to_list()], dtype=return_dtype),
        },
        schema={"value": values.dtype, "mapped": return_dtype},
    )
    joined = values.to_frame("value").join(mapping, on="value", how="left", maintain_order="left")
    return joined.get_column("mapped").alias(values.name)


def _as_strings(values: pl.Series) -> pl.Series:
    if values.dtype != pl.String:
        values = values.cast(pl.String)
    return values


def normalise_drug_names(names: pl.Series) -> pl.Series:
    """The ingredient named first in each drug name, or null when none is psychiatric.

    Case-insensitive and blind to strength, form, release suffix, salt and packaging words;
    a bracketed brand ("carbamazepine 20 MG/ML Oral Suspension [Tegretol]") is read like any other
    word. Only the distinct names are matched.
    """
    keys = drug_lookup_keys()
    longest = max(len(key) for key in keys)

    def first_ingredient(name: str) -> str | None:
        found = _ingredients_in(name, keys, longest)
        return found[0] if found else None

    return _map_unique(_as_strings(names), first_ingredient, pl.String)


def drug_ingredients(names: pl.Series) -> pl.Series:
    """Every psychiatric ingredient each drug name mentions, in order (empty list when none).

    For combination products written out ("perphenazine and amitriptyline"); a combination
    brand yields its primary ingredient only (see ``pipelines/reference/README.md``).
    """
    keys = drug_lookup_keys()
    longest = max(len(key) for key in keys)
    return _map_unique(
        _as_strings(names),
        lambda name: _ingredients_in(name, keys, longest),
        pl.List(pl.String),
    )


@lru_cache(maxsize=1)
def effect_lookup_keys() -> dict[str, str]:
    """Normalised term -> vocabulary code, from each code, label and synonym.

    Raises ``ValueError`` when one term would point at two codes.
    """
    keys: dict[str, str] = {}
    for code, label, synonyms in effect_table().select("code", "label", "synonyms").iter_rows():
        terms = [code, label, *(synonyms.split("|") if synonyms else [])]
        for term in terms:
            key = _term_key(term)
            if key in keys and keys[key] != code:
                raise ValueError(f"side-effect term {term!r} maps to both {keys[key]} and {code}")
            keys[key] = code
    return keys


def normalise_effects(terms: pl.Series) -> pl.Series:
    """The vocabulary code of each side-effect term, or null when the term is not known.

    Exact match after lower-casing and reducing punctuation, ``_`` and ``-`` to single spaces:
    "Weight increased" -> weight_gain, "somnolence" -> sedation, "weight_gain" -> weight_gain.
    """
    keys = effect_lookup_keys()
    return _map_unique(_as_strings(terms), lambda term: keys.get(_term_key(term)), pl.String)


@lru_cache(maxsize=1)
def _diagnosis_prefixes() -> dict[str, str]:
    table = diagnosis_group_table()
    return {
        _icd10_key(prefix): group
        for prefix, group in table.select("icd10_prefix", "diagnosis_group").iter_rows()
    }


def diagnosis_group(icd10: pl.Series) -> pl.Series:
    """The diagnosis group of each ICD-10 code by longest matching prefix, or null.

    Dots, spaces and case are ignored ("F43.10", "f4310", " F43.1 " are the same code).
    """
    prefixes = _diagnosis_prefixes()
    longest = max(len(prefix) for prefix in prefixes)

    def group_of(code: str) -> str | None:
        key = _icd10_key(code)
        for length in range(min(longest, len(key)), 0, -1):
            group = prefixes.get(key[:length])
            if group is not None:
                return group
        return None

    return _map_unique(_as_strings(icd10), group_of, pl.String)


@cache
def age_bands() -> tuple[tuple[str, int | None], ...]:
    """``(band, max_age)`` in order from ``age_bands.csv``: an age belongs to the first band whose
    ``max_age`` it does not exceed; the last band has no maximum. Ages are whole years (year of
    the event minus birth year); an unknown birth year gives the band ``unknown``."""
    text = (resources.files("pipelines") / "reference" / "age_bands.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines()[1:] if line.strip()]
    return tuple((band, int(top) if top.strip() else None) for band, top in rows)


def age_band_labels() -> tuple[str, ...]:
    """Every age band a mart can hold, ``unknown`` last (for pickers and fallbacks)."""
    return (*(band for band, _ in age_bands()), "unknown")


def age_band_macro() -> str:
    """``create or replace macro age_band(age)``: the CASE of ``age_bands()``, the one definition
    the models and metric files call."""
    branches = " ".join(f"when age <= {top} then '{band}'" for band, top in age_bands() if top is not None)
    last = next(band for band, top in age_bands() if top is None)
    return (f"create or replace macro age_band(age) as case when age is null then 'unknown' "
            f"{branches} else '{last}' end")
