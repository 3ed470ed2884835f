"""The de-identification guard (DOMAIN.md section 10): refuse direct identifiers and free text.

The warehouse holds a limited data set at most: day-level dates, opaque surrogate ids, codes.
A load is refused, naming the file and the column, when

* a column is *named* like one of the HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)):
  names, geography below state (address, street, city, ZIP codes -- ZIP3 included, since the
  contract carries no geography finer than ``site_id``), phone, fax, email, SSN, medical record,
  health-plan member, account, certificate/licence, vehicle and device numbers, URLs, IP
  addresses, photographs/biometrics, full dates of birth, and free text (notes, comments, sig);
* a value in any text column is *shaped* like an SSN (``123-45-6789``), a phone or fax number
  (``(555) 123-4567``, ``555.123.4567``, ``+44 20 7946 0958``) or an email address. The scan is
  one vectorised DuckDB pass per table (RE2 regular expressions), never a Python loop over rows.

Birth years implying an age of 90 or more at the load are top-coded: stored as
``load_year - 90`` with ``is_birth_year_top_coded = true`` (Safe Harbor groups ages over 89).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from pipelines.contract import TOP_CODE_AGE

# --- column names --------------------------------------------------------------------------

#: Single tokens that make a column a direct identifier, with the identifier they stand for.
_IDENTIFIER_TOKENS: dict[str, str] = {
    **dict.fromkeys(("name", "names", "surname", "forename", "firstname", "lastname",
                     "fullname", "middlename", "givenname", "familyname", "maidenname",
                     "initials"), "a person's name"),
    **dict.fromkeys(("address", "addr", "street", "city", "town", "county", "zip", "zipcode",
                     "zip3", "zip5", "zip4", "postal", "postcode", "postalcode", "geocode",
                     "latitude", "longitude", "lat", "lon", "lng"), "geography below state level"),
    **dict.fromkeys(("phone", "telephone", "tel", "mobile", "cellphone", "fax"),
                    "a phone or fax number"),
    **dict.fromkeys(("email", "mail"), "an email address"),
    **dict.fromkeys(("ssn", "ssn4", "sin", "nino", "nhs"), "a national identity number (SSN)"),
    **dict.fromkeys(("mrn", "chart"), "a medical record number"),
    **dict.fromkeys(("account", "acct", "beneficiary", "subscriber", "member", "policy",
                     "insurance"), "a health-plan or account number"),
    **dict.fromkeys(("licence", "license", "certificate", "dea"),
                    "a certificate or licence number"),
    **dict.fromkeys(("vehicle", "vin", "plate", "device", "serial", "imei", "udi"),
                    "a vehicle or device identifier"),
    **dict.fromkeys(("url", "uri", "website", "ip", "ipaddress", "ipv4", "ipv6", "mac"),
                    "a URL or IP address"),
    **dict.fromkeys(("photo", "image", "picture", "biometric", "fingerprint", "face"),
                    "a photograph or biometric"),
    **dict.fromkeys(("note", "notes", "comment", "comments", "narrative", "freetext",
                     "remark", "remarks", "memo", "sig", "instructions", "transcript"),
                    "free text"),
    **dict.fromkeys(("dob", "birthdate", "birthday"), "a full date of birth (send birth_year)"),
}

#: Token sequences that make a column a direct identifier.
_IDENTIFIER_PHRASES: dict[tuple[str, ...], str] = {
    ("first", "name"): "a person's name", ("last", "name"): "a person's name",
    ("full", "name"): "a person's name", ("given", "name"): "a person's name",
    ("family", "name"): "a person's name", ("patient", "name"): "a person's name",
    ("social", "security"): "a national identity number (SSN)",
    ("medical", "record"): "a medical record number",
    ("record", "number"): "a medical record number",
    ("health", "plan"): "a health-plan or account number",
    ("free", "text"): "free text",
    ("date", "of", "birth"): "a full date of birth (send birth_year)",
    ("birth", "date"): "a full date of birth (send birth_year)",
    ("e", "mail"): "an email address",
}

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def column_tokens(column: str) -> tuple[str, ...]:
    """``'PatientFirstName'`` -> ``('patient', 'first', 'name')``; ``'e-mail'`` -> ``('e', 'mail')``."""
    spaced = _CAMEL_BOUNDARY.sub("_", column.strip())
    return tuple(t for t in _NON_ALNUM.split(spaced.lower()) if t)


#: "<thing>_name" columns that name a thing, not a person (refused as unexpected, not as PHI).
_NAMES_OF_THINGS = frozenset(("drug", "site", "clinic", "measure", "instrument", "brand",
                              "generic", "product", "effect", "diagnosis", "test", "lab",
                              "facility", "practice", "file", "table", "column", "class"))


def identifier_kind(column: str) -> str | None:
    """What direct identifier a column *name* suggests, or None when it suggests none."""
    tokens = column_tokens(column)
    joined = "".join(tokens)
    if joined in _IDENTIFIER_TOKENS:
        return _IDENTIFIER_TOKENS[joined]
    for position, token in enumerate(tokens):
        if token in ("name", "names") and position > 0 and tokens[position - 1] in _NAMES_OF_THINGS:
            continue
        if token in _IDENTIFIER_TOKENS:
            return _IDENTIFIER_TOKENS[token]
    for phrase, kind in _IDENTIFIER_PHRASES.items():
        width = len(phrase)
        if any(tokens[i:i + width] == phrase for i in range(len(tokens) - width + 1)):
            return kind
    return None


# --- values --------------------------------------------------------------------------------

#: RE2 patterns (DuckDB ``regexp_matches``), each a value shape that is a direct identifier.
VALUE_PATTERNS: dict[str, str] = {
    "an SSN": r"\b\d{3}-\d{2}-\d{4}\b",
    "a phone or fax number": (r"(\(\d{3}\)\s*\d{3}[-. ]\d{4}\b)|(\b\d{3}[-. ]\d{3}[-. ]\d{4}\b)"
                              r"|(\+\d{1,3}[-. ]?\d{1,4}[-. ]\d{3,4}[-. ]?\d{3,4}\b)"),
    "an email address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}
#: All shapes in one pattern, so each value is scanned once.
ANY_IDENTIFIER_PATTERN = "|".join(f"({p})" for p in VALUE_PATTERNS.values())


@dataclass(frozen=True)
class IdentifierValue:
    """The first value in a column shaped like a direct identifier (the value is not kept)."""

    column: str
    kind: str
    rowid: int
    matches: int


def value_kind(value: str) -> str:
    """Which identifier shape a value has (Python ``re`` twin of the RE2 patterns)."""
    for kind, pattern in VALUE_PATTERNS.items():
        if re.search(pattern, value):
            return kind
    return "a direct identifier"


def scan_values(con: duckdb.DuckDBPyConnection, text_table: str,
                columns: tuple[str, ...]) -> IdentifierValue | None:
    """Scan every value of ``columns`` in ``text_table`` in one pass; return the first hit.

    ``text_table`` and ``columns`` are identifiers from our own code and the contract; the
    pattern is a bound parameter.
    """
    if not columns:
        return None
    # Each value is matched once (the inner projection); the outer aggregates count the hits and
    # find the first row with one.
    matched = ", ".join(f'regexp_matches("{c}", $pattern) as "m{i}"' for i, c in enumerate(columns))
    aggregates = ", ".join(f'count(*) filter (where "m{i}"), min(_rowid) filter (where "m{i}")'
                           for i in range(len(columns)))
    counts = con.sql(f"select {aggregates} from (select rowid as _rowid, {matched} "  # noqa: S608
                     f"from {text_table})",
                     params={"pattern": ANY_IDENTIFIER_PATTERN}).fetchall()[0]
    for position, column in enumerate(columns):
        matches, first_rowid = counts[2 * position], counts[2 * position + 1]
        if matches:
            value = con.sql(f'select "{column}" from {text_table} where rowid = $r',  # noqa: S608
                            params={"r": first_rowid}).fetchall()[0][0]
            return IdentifierValue(column, value_kind(value), first_rowid, matches)
    return None


def top_coded_birth_year_sql(column: str, load_year: int) -> tuple[str, str]:
    """SQL for the stored birth year and its top-coding flag.

    Age at the load is ``load_year - birth_year``; at ``TOP_CODE_AGE`` (90) or more the year is
    stored as ``load_year - 90`` (so every such patient shows as exactly 90) and flagged.
    """
    # Both numbers are integers of ours (a constant and the load's year): safe to place in SQL.
    threshold, year = int(TOP_CODE_AGE), int(load_year)
    is_top_coded = f"coalesce({year} - {column} >= {threshold}, false)"
    stored = f"case when {is_top_coded} then {year - threshold} else {column} end"
    return stored, is_top_coded
