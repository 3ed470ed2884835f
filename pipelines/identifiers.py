"""Detectors for structured identifiers inside string values, and the masked form of a value.

Pure: no I/O, no database. ``pipelines.domains`` runs the same patterns over a whole extract in
DuckDB (RE2), so every pattern here is written in the subset that Python ``re`` and RE2 read
alike: no look-around, no back-references, ``[0-9]`` rather than ``\\d``, and case-insensitive
parts as scoped groups ``(?i:...)``. A test checks that both engines agree on every hand-written
case.

A detector finds the *shape* of an identifier of HIPAA Safe Harbor (45 CFR 164.514(b)(2)),
DOMAIN.md section 10: SSN, phone and fax, email, URL, IPv4 and IPv6, ZIP5 and ZIP+4, MRN-like
runs of digits, dates inside strings (dates of birth), long base64 or hex blobs (an encoded photo
or a hash of an identifier), MAC addresses (device identifiers), payment card or account
numbers in groups of four digits, latitude/longitude pairs, street addresses. The patterns
follow Microsoft Presidio's predefined pattern recognizers where one exists (``UsSsnRecognizer``,
``PhoneRecognizer``, ``EmailRecognizer``, ``UrlRecognizer``, ``IpRecognizer``,
``DateRecognizer``), simplified to what RE2 can run in one vectorised pass.

Each detector applies to a set of contract column kinds (``Column.kind``): a bare run of digits
is suspicious in a string column (an ID, a code, a drug name) but is the expected shape of a
number in an ``int`` column; a date is the expected shape of a ``date`` column.

Person names cannot be found by pattern with any confidence; ``looks_like_person_name`` is a
weak detector used only where a value has already failed its column's domain (an unmapped drug
string), to decide between listing it for mapping and quarantining it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Contract column kinds (``pipelines.contract.ColumnType``) grouped for detector scopes.
STRING_KINDS = frozenset({"id", "text", "enum"})
ALL_KINDS = STRING_KINDS | {"int", "float", "date"}
NOT_DATE_KINDS = ALL_KINDS - {"date"}

_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|"
           "NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI")
_STREET_SUFFIX = ("Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
                  "Place|Pl|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Alley")
_HEX4 = "[0-9A-Fa-f]{1,4}"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"


@dataclass(frozen=True)
class Detector:
    """One identifier shape: a name, a label for messages, an RE2/Python pattern (searched, not
    matched in full) and the column kinds it is run on."""

    name: str
    label: str
    pattern: str
    kinds: frozenset[str]


#: In order of precedence: a value matching several is reported under the first.
DETECTORS: tuple[Detector, ...] = (
    Detector("email", "an email address",
             r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", ALL_KINDS),
    Detector("url", "a URL",
             r"(?i:\b(https?|ftp|file)://[^\s]+)|(?i:\bwww\.[a-z0-9-]+\.[a-z]{2,})"
             r"|(?i:\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|edu|gov|mil|int|info|biz|io|us"
             r"|uk|ca|de|fr|health|care)(/[^\s]*)?$)", ALL_KINDS),
    Detector("ssn", "an SSN", r"\b[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}\b"
             r"|(?i:\b(ssn|social security)\b)", ALL_KINDS),
    Detector("phone_or_fax", "a phone or fax number",
             r"\([0-9]{3}\)\s*[0-9]{3}[-. ][0-9]{4}\b"
             r"|\b[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}\b"
             r"|\+[0-9]{1,3}[-. ]?\(?[0-9]{1,4}\)?[-. ][0-9]{3,4}[-. ]?[0-9]{3,4}\b"
             r"|(?i:\b(tel|phone|fax|mobile|cell)\b\.?\s*(no\.?|number|#)?\s*[:#]?\s*[+(0-9])",
             ALL_KINDS),
    Detector("card_number", "a payment card or account number",
             r"\b[0-9]{4}[- ][0-9]{4}[- ][0-9]{4}[- ][0-9]{1,7}\b", ALL_KINDS),
    Detector("coordinates", "geographic coordinates",
             r"-?\b[0-9]{1,3}\.[0-9]{3,}\s*,\s*-?[0-9]{1,3}\.[0-9]{3,}\b", ALL_KINDS),
    Detector("zip_plus4", "a ZIP+4 code", r"\b[0-9]{5}-[0-9]{4}\b", ALL_KINDS),
    Detector("ipv4", "an IPv4 address", rf"\b{_OCTET}(\.{_OCTET}){{3}}\b", ALL_KINDS),
    Detector("ipv6", "an IPv6 address",
             rf"\b{_HEX4}(:{_HEX4}){{7}}\b|({_HEX4}:){{1,7}}(:{_HEX4}){{1,7}}\b"
             rf"|\b({_HEX4}:){{1,7}}:(\s|$)|(^|\s)::({_HEX4})(:{_HEX4}){{0,6}}\b", ALL_KINDS),
    Detector("mac_address", "a device (MAC) address",
             r"\b[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\b", ALL_KINDS),
    Detector("date", "a date (of birth?) inside a string",
             r"\b(1[89]|20)[0-9]{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12][0-9]|3[01])\b"
             r"|\b(0?[1-9]|[12][0-9]|3[01])[-/.](0?[1-9]|[12][0-9]|3[01])[-/.]((1[89]|20)?[0-9]{2})\b"
             rf"|(?i:\b[0-9]{{1,2}}(st|nd|rd|th)?\s+{_MONTH},?\s+(1[89]|20)[0-9]{{2}}\b)"
             rf"|(?i:\b{_MONTH}\s+[0-9]{{1,2}}(st|nd|rd|th)?,?\s+(1[89]|20)[0-9]{{2}}\b)"
             r"|(?i:\b(dob|d\.o\.b|born|birth ?date|date of birth)\b)", NOT_DATE_KINDS),
    Detector("mrn", "a medical record number (a run of digits)",
             r"^[0-9]{6,}$|(?i:\b(mrn|mr#|medical record|chart)\s*(no\.?|number|#)?\s*[:#]?\s*[0-9])",
             STRING_KINDS),
    # A run standing as a word of its own: one inside a slash-separated name ("influenza A virus
    # A/Switzerland/9715293/2013", an RxNorm drug name) is part of that name, not a record number.
    Detector("mrn_in_text", "a medical record number (a run of digits)",
             r"(^|[\s,;:#(])[0-9]{7,}($|[\s,;:.)])", frozenset({"text"})),
    Detector("zip5", "a ZIP code", rf"^[0-9]{{5}}$|\b({_STATES}),?\s+[0-9]{{5}}\b"
             r"|(?i:\bzip(code)?\b)", STRING_KINDS),
    Detector("hex_blob", "a long hex blob (encoded data or a hash)",
             r"\b(0x)?[0-9A-Fa-f]{40,}\b", ALL_KINDS),
    Detector("base64_blob", "a long base64 blob (encoded data, e.g. a photo)",
             r"[A-Za-z0-9+/]{40,}={0,2}|(?i:\bdata:[a-z]+/[a-z0-9.+-]+;base64,)", ALL_KINDS),
    Detector("street_address", "a street address",
             rf"\b[0-9]{{1,6}}[A-Za-z]?\s+([A-Z][a-z]+\.?\s+){{1,3}}({_STREET_SUFFIX})\b"
             rf"|\b[0-9]{{1,6}}[A-Z]?\s+([A-Z]+\.?\s+){{1,3}}({_STREET_SUFFIX.upper()})\b"
             r"|(?i:\b[0-9]{1,6}\s+([a-z]+\s+){1,3}(street|avenue|road|boulevard|lane|drive"
             r"|terrace|parkway|highway)\b)|(?i:\bp\.?\s?o\.?\s+box\s+[0-9]+)"
             r"|(?i:\b(apt|apartment|suite)\.?\s*#?\s*[0-9]+[a-z]?\b)", ALL_KINDS),
)

DETECTOR_NAMES: tuple[str, ...] = tuple(d.name for d in DETECTORS)
_COMPILED = tuple((d, re.compile(d.pattern)) for d in DETECTORS)


def detectors_for(kind: str) -> tuple[Detector, ...]:
    """The detectors run on values of a column of this contract kind."""
    return tuple(d for d in DETECTORS if kind in d.kinds)


def combined_pattern(kind: str) -> str:
    """One pattern matching when any detector for ``kind`` matches (one scan per value)."""
    return "|".join(f"({d.pattern})" for d in detectors_for(kind))


#: A drug product code as the OMOP adapter writes an unnamed drug (``NDC 00002751101``): a code of
#: the drug, not of a person, although its 11 digits have the shape of a record number. The whole
#: value must be the code; digits anywhere else are checked as usual.
DRUG_PRODUCT_CODE = r"^NDC [0-9]{10,11}$"
_DRUG_PRODUCT_CODE = re.compile(DRUG_PRODUCT_CODE)


def detect(value: str, kind: str = "text") -> tuple[str, ...]:
    """Names of every detector for a ``kind`` column that finds an identifier in ``value``."""
    if _DRUG_PRODUCT_CODE.match(value):
        return ()
    return tuple(d.name for d, rx in _COMPILED if kind in d.kinds and rx.search(value))


def first_detector(value: str, kind: str = "text") -> Detector | None:
    """The detector of highest precedence that matches ``value``, or None."""
    if _DRUG_PRODUCT_CODE.match(value):
        return None
    for detector, rx in _COMPILED:
        if kind in detector.kinds and rx.search(value):
            return detector
    return None


def detector(name: str) -> Detector:
    return next(d for d in DETECTORS if d.name == name)


# --- weak detector: person names ------------------------------------------------------------

_NAME_WORD = r"[A-Z][a-z]*(['-][A-Z]?[a-z]+)?\.?"
PERSON_NAME_PATTERN = (
    rf"^{_NAME_WORD}(\s+([A-Z]\.?|{_NAME_WORD})){{1,3}}$"  # Maria Gonzalez, John F. Kennedy
    rf"|^[A-Z][a-z]+(['-][A-Z]?[a-z]+)?,\s*{_NAME_WORD}(\s+[A-Z]\.?)?$"  # Gonzalez, Maria
    r"|^[A-Z]+(['-][A-Z]+)?(\s+[A-Z]+\.?){1,3}$"  # MARIA GONZALEZ
    r"|^[A-Z]+,\s*[A-Z]+(\s+[A-Z]\.?)?$"  # GONZALEZ, MARIA
    r"|(?i:^(mr|mrs|ms|miss|dr|prof)\.?\s+[a-z])"  # Dr. Smith
)
_PERSON_NAME = re.compile(PERSON_NAME_PATTERN)


def looks_like_person_name(value: str) -> bool:
    """Two to four capitalised words of letters only, ``Last, First``, or a title and a word.

    Weak by nature ("Fish Oil" matches, "smith" does not), so it is used only on values that
    already failed their domain: an unmapped drug string that looks like this is quarantined
    instead of listed for mapping.
    """
    return bool(_PERSON_NAME.search(value.strip()))


# --- masking and hashing --------------------------------------------------------------------

#: Longest masked pattern shown; longer values show this many characters and an ellipsis.
MASK_WIDTH = 32


def mask(value: str) -> str:
    """The value with upper-case letters as ``A``, other letters ``a``, digits ``9``.

    Other characters (spaces, punctuation) are kept, and the length is stated:
    ``'Maria Gonzalez'`` -> ``'Aaaaa Aaaaaaaa (14 chars)'``. ``pipelines.domains.MASK_SQL`` is
    the same function in SQL.
    """
    shape = "".join("A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c
                    for c in value)
    if len(shape) > MASK_WIDTH:
        shape = shape[:MASK_WIDTH] + "..."
    return f"{shape} ({len(value)} chars)"


def salted_hash(value: str, salt: str) -> str:
    """First 12 hex digits of SHA-256(salt + value): equal values share it within one salt.

    The ingest draws a random salt per load and keeps it nowhere, so the hash groups equal
    values in one load's listing but cannot be reversed by enumerating SSNs or ZIP codes.
    """
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()[:12]


# --- string domains -------------------------------------------------------------------------

#: Default opaque identifier: letters, digits, '-' and '_', 1 to 64 characters, no spaces.
DEFAULT_ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"
#: ICD-10-CM code, with or without the dot: a letter, two characters, up to four more.
ICD10_PATTERN = r"[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?"
#: A measure code: a letter then letters, digits or '_' (``weight_kg``, ``hba1c_pct``).
MEASURE_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,63}"


def valid_id_pattern(pattern: str) -> str:
    """``pattern`` if it compiles and cannot match a space; else ``ValueError`` saying why."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"id_pattern {pattern!r} is not a regular expression ({exc})") from exc
    if compiled.fullmatch("a b") or compiled.fullmatch(" "):
        raise ValueError(f"id_pattern {pattern!r} accepts spaces; an opaque identifier has none")
    return pattern


def matches_domain(value: str, pattern: str) -> bool:
    return re.fullmatch(pattern, value) is not None
