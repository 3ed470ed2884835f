"""The identifier detectors, the mask, and the string domains (pipelines.identifiers, .domains).

Each detector has hand-written values it must find and ordinary values of the extract contract
(drug strings, codes, surrogate ids) it must leave alone. Every case is also run through DuckDB's
RE2 with the same pattern, since the ingest scans with RE2 and these tests read with Python.
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines import domains, identifiers
from pipelines.contract import TABLES

#: detector -> (values it finds in a ``text`` column, values it does not)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (("jane.doe@example.org", "call j_doe+psych@clinic.health", "A@B.CO"),
              ("sertraline 50 mg", "jane.doe at example", "@home")),
    "url": (("https://example.org/x", "http://10.0.0.1/", "www.janedoe.com", "janedoe.com",
             "see clinic.org/patients/7"),
            ("sertraline 50 mg", "F32.1", "Tab. 10 mg", "nausea_gi")),
    "ssn": (("123-45-6789", "pt 078-05-1120 seen", "123 45 6789", "SSN on file"),
            ("123-456-789", "12-345-6789", "RX-2024-0001", "1234-56-7890")),
    "phone_or_fax": (("(617) 555-0142", "617-555-0142", "617.555.0142", "617 555 0142",
                      "+44 20 7946 0958", "fax: 617 555", "Tel 0142", "+1 (617) 555-0142"),
                     ("sertraline 50 mg", "10:30", "2024-01-10", "617-55-0142", "telehealth")),
    "card_number": (("4111 1111 1111 1111", "acct 4111-1111-1111-1111", "3782 8224 6310 005"),
                    ("4111 1111", "2024-01-10", "411111111111111x")),
    "coordinates": (("42.3601, -71.0589", "lat 42.3601,-71.0589"),
                    ("1.5, 2.5", "F32.1, F41.1", "0.5 mg, 1.0 mg")),
    "zip_plus4": (("02139-4307", "Cambridge MA 02139-4307"), ("02139", "0213-94307")),
    "ipv4": (("192.168.10.24", "host 8.8.8.8 seen", "0.0.0.0"),
             ("1.2.3", "256.1.1.1", "10 mg 1.5 tabs", "F32.1")),
    "ipv6": (("2001:db8:85a3::8a2e:370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
              "fe80::1", "::1", "2001:db8::"),
             ("10:30:00", "F32:1", "a:b", "ratio 1:2")),
    "mac_address": (("00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e"), ("00:1A:2B", "10:30:00")),
    "date": (("1984-03-12", "born 1984", "03/12/1984", "3/12/84", "12 March 1984",
              "Mar 12, 1984", "DOB", "sertraline since 2021-03-04"),
             ("sertraline 50 mg", "F32.1", "PT0000001", "RX-2024-0001", "1/2", "12 mg")),
    "mrn": (("00482913", "123456", "MRN 4829", "mrn: 7", "chart # 12"),
            ("12345", "PT0000001", "A000000001", "C0035", "RX-2024-0001")),
    "mrn_in_text": (("refill for 00482913", "4155551234"),
                    ("Vitamin D 50000 IU", "heparin 100000 units", "PT00482913")),
    "zip5": (("02139", "Cambridge, MA 02139", "zip code"),
             ("0213", "021390", "Vitamin D 50000 IU", "F32.1")),
    "hex_blob": (("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                  "0x" + "ab" * 20),
                 ("550e8400-e29b-41d4-a716-446655440000", "deadbeef", "ab" * 19)),
    "base64_blob": (("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U",
                     "data:image/jpeg;base64,/9j/"),
                    ("sertraline 50 mg tablet", "QUJD", "A" * 39)),
    "street_address": (("221 Baker Street", "221B Baker St", "1600 PENNSYLVANIA AVE",
                        "12 elm street", "PO Box 42", "Apt 4B", "10 Downing St."),
                       ("sertraline 50 mg", "10 mg Tab", "LITHIUM CARBONATE 300MG CAP",
                        "2 Street", "ESCITALOPRAM OXALATE 10MG TAB")),
}

#: Values of the contract that every detector must leave alone in a string column.
ORDINARY = ("PT0000001", "A000000001D", "RX-2024-0001", "C0035", "S03", "V000000009", "P001",
            "F32.1", "F209", "Z91.19", "F",
            "follow_up", "escitalopram 10 mg", "ESCITALOPRAM OXALATE 10MG TAB",
            "Zoloft 50 mg tablet", "LITHIUM CARBONATE 300MG CAP", "aripiprazole 5mg",
            "Vitamin D3 1000 IU capsule", "nausea_gi", "difficulty sleeping", "weight_kg",
            "hba1c_pct", "PHQ-9", "HAM-D17", "QIDS-SR16", "adverse_effect", "dose_reduced",
            "quetiapine ER 300 mg 1 tab at bedtime", "Glorbazine 10 mg")


def re2_matches(value: str, pattern: str) -> bool:
    return duckdb.sql("select regexp_matches($v, $p)",
                      params={"v": value, "p": pattern}).fetchall()[0][0]


@pytest.mark.parametrize(("name", "value"), [
    (name, value) for name, (found, _) in CASES.items() for value in found])
def test_detector_finds(name, value):
    detector = identifiers.detector(name)
    kind = "text"
    assert name in identifiers.detect(value, kind)
    assert re2_matches(value, detector.pattern), "RE2 (the ingest's engine) must agree"


@pytest.mark.parametrize(("name", "value"), [
    (name, value) for name, (_, missed) in CASES.items() for value in missed])
def test_detector_leaves_alone(name, value):
    detector = identifiers.detector(name)
    assert name not in identifiers.detect(value, "text")
    assert not re2_matches(value, detector.pattern)


def test_every_detector_has_cases():
    assert set(CASES) == set(identifiers.DETECTOR_NAMES)


@pytest.mark.parametrize("value", ORDINARY)
@pytest.mark.parametrize("kind", ["id", "text", "enum"])
def test_ordinary_contract_values_pass_every_detector(value, kind):
    assert identifiers.detect(value, kind) == ()
    assert not re2_matches(value, identifiers.combined_pattern(kind))


def test_a_random_uuid_is_an_acceptable_identifier():
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert identifiers.detect(uuid, "id") == ()
    assert identifiers.matches_domain(uuid, identifiers.DEFAULT_ID_PATTERN)


def test_digit_runs_and_dates_are_not_suspicious_in_number_and_date_columns():
    assert identifiers.detect("123456", "int") == ()
    assert identifiers.detect("02139", "float") == ()
    assert identifiers.detect("1984-03-12", "date") == ()
    # but a phone number is a phone number in any column
    assert identifiers.detect("617-555-0142", "date") == ("phone_or_fax",)
    assert identifiers.detect("03/12/1984", "int") == ("date",)


def test_first_detector_follows_precedence():
    # An email address also ends in a domain name: it is reported as the email it is.
    assert identifiers.first_detector("jane.doe@example.org").name == "email"
    # 40 hex digits are also base64 characters: reported as the hex blob.
    assert identifiers.first_detector("ab" * 20).name == "hex_blob"
    assert identifiers.first_detector("sertraline 50 mg") is None


@pytest.mark.parametrize(("value", "is_name"), [
    ("Maria Gonzalez", True), ("John F. Kennedy", True), ("Gonzalez, Maria", True),
    ("MARIA GONZALEZ", True), ("Dr. Smith", True), ("Mary-Jane O'Neil", True),
    ("sertraline 50 mg", False), ("Zoloft 50 mg tablet", False), ("lithium", False),
    ("Glorbazine 10 mg", False), ("maria gonzalez", False), ("Sertraline", False),
])
def test_person_name_shape(value, is_name):
    assert identifiers.looks_like_person_name(value) is is_name
    assert re2_matches(value, identifiers.PERSON_NAME_PATTERN) is is_name


@pytest.mark.parametrize(("value", "masked"), [
    ("Maria Gonzalez", "Aaaaa Aaaaaaaa (14 chars)"),
    ("123-45-6789", "999-99-9999 (11 chars)"),
    ("jane.doe@example.org", "aaaa.aaa@aaaaaaa.aaa (20 chars)"),
    ("José", "Aaaa (4 chars)"),
    ("x" * 40, "a" * 32 + "... (40 chars)"),
])
def test_mask_keeps_only_the_shape_and_the_length(value, masked):
    assert identifiers.mask(value) == masked


def test_salted_hash_groups_equal_values_only_under_one_salt():
    a = identifiers.salted_hash("123-45-6789", "salt-1")
    assert a == identifiers.salted_hash("123-45-6789", "salt-1")
    assert a != identifiers.salted_hash("123-45-6789", "salt-2")
    assert a != identifiers.salted_hash("123-45-6788", "salt-1")
    assert len(a) == 12 and "6789" not in a


def test_every_string_column_of_the_contract_has_a_declared_domain():
    for table in TABLES.values():
        for column in table.columns:
            if column.kind in identifiers.STRING_KINDS:
                domain = domains.STRING_DOMAINS[(table.name, column.name)]
                assert domain.kind in ("enumeration", "vocabulary", "identifier", "drug")
    assert domains.STRING_DOMAINS[("prescriptions", "drug")].kind == "drug"
    assert domains.STRING_DOMAINS[("side_effects", "effect")].kind == "vocabulary"
    assert domains.STRING_DOMAINS[("diagnoses", "icd10_code")].kind == "vocabulary"
    assert domains.STRING_DOMAINS[("visits", "clinician_id")].kind == "identifier"
    assert domains.STRING_DOMAINS[("patients", "sex")].kind == "enumeration"


@pytest.mark.parametrize(("value", "ok"), [
    ("PT0000001", True), ("RX-2024_01", True), ("a" * 64, True), ("a" * 65, False),
    ("Maria Gonzalez", False), ("C1 ", False), ("", False), ("urn:uuid:1", False),
    ("P001/2", False), ("Zoë1", False),
])
def test_default_id_pattern(value, ok):
    assert identifiers.matches_domain(value, identifiers.DEFAULT_ID_PATTERN) is ok
    assert duckdb.sql("select regexp_full_match($v, $p)", params={
        "v": value, "p": identifiers.DEFAULT_ID_PATTERN}).fetchall()[0][0] is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("F32.1", True), ("F321", True), ("F20.9", True), ("Z91.19", True), ("F32", True),
    ("F32.A", True), ("32.1", False), ("F3", False), ("F32.12345", False), ("Maria", False),
])
def test_icd10_pattern(value, ok):
    assert identifiers.matches_domain(value, identifiers.ICD10_PATTERN) is ok


def test_id_pattern_is_configurable_and_checked(tmp_path):
    config = tmp_path / "outcomes.toml"
    assert domains.id_pattern_from_config(tmp_path / "absent.toml") == \
        identifiers.DEFAULT_ID_PATTERN
    config.write_text('[identifiers]\nid_pattern = "[A-Z]{2}[0-9]{7}"\n')
    assert domains.id_pattern_from_config(config) == "[A-Z]{2}[0-9]{7}"
    config.write_text('[identifiers]\nid_pattern = "[A-Za-z ]+"\n')
    with pytest.raises(Exception, match="accepts spaces"):
        domains.id_pattern_from_config(config)
    config.write_text('[identifiers]\nid_pattern = "[A-Z"\n')
    with pytest.raises(Exception, match="not a regular expression"):
        domains.id_pattern_from_config(config)


def test_a_drug_product_code_is_not_a_record_number() -> None:
    """The OMOP adapter writes an unnamed drug as ``NDC`` and its 11-digit product code (MIMIC's
    demo has 2,653 such rows). The digits have a record number's shape but name a drug; the
    whole value must be the code, so digits elsewhere are still caught."""
    import duckdb

    from pipelines import identifiers

    assert identifiers.detect("NDC 00002751101") == ()
    assert identifiers.first_detector("NDC 00002751101") is None
    assert "mrn_in_text" in identifiers.detect("NDC 00002751101 for MRN 1234567")
    assert "mrn_in_text" in identifiers.detect("00002751101")
    con = duckdb.connect()
    assert con.sql("select regexp_full_match('NDC 00002751101', $p)",
                   params={"p": identifiers.DRUG_PRODUCT_CODE}).fetchall() == [(True,)]


def test_a_strain_number_inside_a_drug_name_is_not_a_record_number() -> None:
    """RxNorm names flu vaccines by strain: 'influenza A virus A/Switzerland/9715293/2013 (H3N2)'.
    A run of digits between slashes is part of the name; one standing as a word is caught."""
    from pipelines import identifiers

    name = "0.5 ML influenza A virus A/Switzerland/9715293/2013 (H3N2) antigen 0.03 MG/ML"
    assert "mrn_in_text" not in identifiers.detect(name)
    assert "mrn_in_text" in identifiers.detect("refill for 00482913")
    assert "mrn_in_text" in identifiers.detect("lithium (chart 9715293)")
