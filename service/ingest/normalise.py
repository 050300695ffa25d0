"""Normalisation of what storefronts send: countries, postcodes, phone numbers, SKUs.

Every function here is pure and total: it returns the normalised value, or None when the
input cannot be made valid, so adapters never crash on a customer's typo and the validator
can turn the None into a hold reason a person can act on.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import re
from collections.abc import Callable, Iterator

import phonenumbers

from sync.languages import normalise as normalise_language

# Every ISO 3166-1 alpha-2 code phonenumbers knows (it covers all inhabited countries);
# "001" is its pseudo-region for non-geographic numbers, not a country.
_ALPHA2: frozenset[str] = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if r.isalpha())

# Names and alpha-3 codes shops and CSV files actually use; keys are upper case.
_COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "UNITED KINGDOM": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "GBR": "GB",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "DEU": "DE",
    "NETHERLANDS": "NL",
    "THE NETHERLANDS": "NL",
    "HOLLAND": "NL",
    "NEDERLAND": "NL",
    "NLD": "NL",
    "BELGIUM": "BE",
    "BELGIQUE": "BE",
    "BELGIË": "BE",
    "BELGIE": "BE",
    "BEL": "BE",
    "FRANCE": "FR",
    "FRA": "FR",
    "ITALY": "IT",
    "ITALIA": "IT",
    "ITA": "IT",
    "SPAIN": "ES",
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "ESP": "ES",
    "AUSTRIA": "AT",
    "ÖSTERREICH": "AT",
    "OSTERREICH": "AT",
    "AUT": "AT",
    "CZECH REPUBLIC": "CZ",
    "CZECHIA": "CZ",
    "ČESKO": "CZ",
    "CZE": "CZ",
    "SLOVAKIA": "SK",
    "SLOVENSKO": "SK",
    "SVK": "SK",
    "POLAND": "PL",
    "POLSKA": "PL",
    "POL": "PL",
    "ROMANIA": "RO",
    "ROMÂNIA": "RO",
    "ROU": "RO",
    "HUNGARY": "HU",
    "MAGYARORSZÁG": "HU",
    "HUN": "HU",
    "SWITZERLAND": "CH",
    "SCHWEIZ": "CH",
    "CHE": "CH",
    "DENMARK": "DK",
    "DNK": "DK",
    "SWEDEN": "SE",
    "SWE": "SE",
    "NORWAY": "NO",
    "NOR": "NO",
    "FINLAND": "FI",
    "FIN": "FI",
    "IRELAND": "IE",
    "IRL": "IE",
    "PORTUGAL": "PT",
    "PRT": "PT",
    "LUXEMBOURG": "LU",
    "LUX": "LU",
    "SLOVENIA": "SI",
    "SVN": "SI",
    "CROATIA": "HR",
    "HRV": "HR",
    "BULGARIA": "BG",
    "BGR": "BG",
    "GREECE": "GR",
    "GRC": "GR",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "USA": "US",
    "CANADA": "CA",
    "CAN": "CA",
    "AUSTRALIA": "AU",
    "AUS": "AU",
}


def normalise_country(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a code, a common name or an alpha-3 code; None if unknown."""
    if not raw:
        return None
    key = " ".join(raw.split()).upper()
    if len(key) == 2 and key in _ALPHA2:
        return key
    return _COUNTRY_ALIASES.get(key)


def _digits(n: int, fmt: Callable[[str], str] = lambda d: d) -> Callable[[str], str | None]:
    """A rule for all-digit postcodes of length n; spaces and hyphens in the input are dropped."""

    def rule(value: str) -> str | None:
        compact = value.replace(" ", "").replace("-", "")
        if len(compact) != n or not compact.isdigit():
            return None
        return fmt(compact)

    return rule


def _nl(value: str) -> str | None:
    m = re.fullmatch(r"([1-9][0-9]{3}) ?([A-Z]{2})", value)
    # SA, SD and SS are never issued (historical connotations).
    if m is None or m.group(2) in {"SA", "SD", "SS"}:
        return None
    return f"{m.group(1)} {m.group(2)}"


def _be(value: str) -> str | None:
    d = _digits(4)(value)
    return d if d is not None and d[0] != "0" else None


def _es(value: str) -> str | None:
    d = _digits(5)(value)
    # The first two digits are the province, 01..52.
    return d if d is not None and 1 <= int(d[:2]) <= 52 else None


def _at(value: str) -> str | None:
    d = _digits(4)(value)
    return d if d is not None and d[0] != "0" else None


def _hu(value: str) -> str | None:
    d = _digits(4)(value)
    return d if d is not None and d[0] != "0" else None


_GB = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")


def _gb(value: str) -> str | None:
    if not _GB.fullmatch(value):
        return None
    compact = value.replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


def _us(value: str) -> str | None:
    compact = value.replace(" ", "").replace("-", "")
    if not compact.isdigit() or len(compact) not in (5, 9):
        return None
    return compact if len(compact) == 5 else f"{compact[:5]}-{compact[5:]}"


_POSTCODE_RULES: dict[str, Callable[[str], str | None]] = {
    "DE": _digits(5),
    "NL": _nl,
    "BE": _be,
    "FR": _digits(5),
    "IT": _digits(5),
    "ES": _es,
    "AT": _at,
    "CZ": _digits(5, lambda d: f"{d[:3]} {d[3:]}"),
    "SK": _digits(5, lambda d: f"{d[:3]} {d[3:]}"),
    "PL": _digits(5, lambda d: f"{d[:2]}-{d[2:]}"),
    "RO": _digits(6),
    "HU": _hu,
    "GB": _gb,
    "US": _us,
}

POSTCODE_COUNTRIES = frozenset(_POSTCODE_RULES)

# Pre-1993 European postal prefixes ("D-10115") that still appear on letterheads.
_OLD_PREFIX = {"DE": "D", "AT": "A", "FR": "F", "IT": "I", "BE": "B", "HU": "H"}


@functools.lru_cache(maxsize=512)
def _country_prefix(country: str) -> re.Pattern[str]:
    """A leading "D-" or "NL - " before the digits, for `country` (compiled once)."""
    prefixes = "|".join(re.escape(p) for p in (country, _OLD_PREFIX.get(country, country)))
    return re.compile(rf"^(?:{prefixes}) ?- ?(?=\d)")


def normalise_postcode(country: str, raw: str | None) -> str | None:
    """The postcode in its national format, or None if it is not valid for `country`.

    Countries without a rule accept any non-empty value (trimmed, upper case); a leading
    country prefix such as "D-" or "NL-" that customers copy from old letters is dropped.
    """
    if raw is None:
        return None
    value = _country_prefix(country).sub("", " ".join(raw.split()).upper())
    if not value:
        return None
    rule = _POSTCODE_RULES.get(country)
    return value if rule is None else rule(value)


# An order read only to check it before it is queued (service.ingest.inbox) is read again
# when it is applied: its phone numbers, which never make an order invalid (a number that
# does not parse is left out), are worked out then, not twice.
_PHONES_DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "phones_deferred", default=False
)


@contextlib.contextmanager
def phones_deferred() -> Iterator[None]:
    """Within this block normalise_phone() leaves every number out (returns None)."""
    token = _PHONES_DEFERRED.set(True)
    try:
        yield
    finally:
        _PHONES_DEFERRED.reset(token)


def normalise_phone(raw: str | None, region: str | None) -> str | None:
    """The number in E.164 (+4930901820), read in `region`'s national format; None if invalid
    (and inside phones_deferred())."""
    if not raw or not raw.strip() or _PHONES_DEFERRED.get():
        return None
    return _e164(raw, region or None)


# One order names its customer's number up to three times (shipping and billing address,
# the order itself), nearly always alike; phonenumbers takes ~50 us a parse, the largest
# part of reading a shop's order. The answer depends on the two strings only.
@functools.lru_cache(maxsize=4096)
def _e164(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_sku(raw: str | None) -> str:
    """SKUs are matched upper case without surrounding whitespace (as products store them)."""
    return (raw or "").strip().upper()


_log = logging.getLogger(__name__)
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_warned_locales: set[str] = set()


def shop_language(raw: object) -> str:
    """The language of the shop's locale for an order ("cs-CZ" -> "cs"), or "" when the shop
    gave none, a malformed one or one of a language Packbench does not print: the order is
    never refused for it, its papers then follow the destination country (logged once per
    value, so a shop sending junk in every order does not flood the log)."""
    if raw is None or raw == "":
        return ""
    text = raw.strip() if isinstance(raw, str) else ""
    code = normalise_language(text) if _LOCALE.match(text) else None
    if code is None:
        key = repr(raw)[:40]
        if key not in _warned_locales:
            _warned_locales.add(key)
            _log.warning(
                "shop locale %s is not a language Packbench prints; "
                "the order's papers follow its destination country",
                key,
            )
        return ""
    return code
