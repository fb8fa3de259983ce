"""Display names for the digest: topics and countries (ISO 3166-1 alpha-2) in English."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "language": "Language",
    "festivals": "Festivals",
    "trade": "Trade",
    "education": "Education",
    "repatriation": "Repatriation",
    "media": "Media",
    "sport": "Sport",
    "religion": "Religion",
    "politics": "Politics",
    "heritage": "Heritage",
}

COUNTRIES: dict[str, str] = {
    "AE": "United Arab Emirates", "AF": "Afghanistan", "AM": "Armenia", "AR": "Argentina", "AT": "Austria",
    "AU": "Australia", "AZ": "Azerbaijan", "BE": "Belgium", "BG": "Bulgaria", "BR": "Brazil", "BY": "Belarus",
    "CA": "Canada", "CH": "Switzerland", "CN": "China", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark",
    "EE": "Estonia", "EG": "Egypt", "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom",
    "GE": "Georgia", "GR": "Greece", "HK": "Hong Kong", "HU": "Hungary", "ID": "Indonesia", "IE": "Ireland",
    "IL": "Israel", "IN": "India", "IQ": "Iraq", "IR": "Iran", "IT": "Italy", "JP": "Japan", "KG": "Kyrgyzstan",
    "KR": "South Korea", "KW": "Kuwait", "KZ": "Kazakhstan", "LT": "Lithuania", "LV": "Latvia", "MD": "Moldova",
    "MN": "Mongolia", "MY": "Malaysia", "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand", "PK": "Pakistan",
    "PL": "Poland", "PT": "Portugal", "QA": "Qatar", "RO": "Romania", "RS": "Serbia", "RU": "Russia",
    "SA": "Saudi Arabia", "SE": "Sweden", "SG": "Singapore", "SK": "Slovakia", "SY": "Syria", "TJ": "Tajikistan",
    "TM": "Turkmenistan", "TR": "Türkiye", "TW": "Taiwan", "UA": "Ukraine", "US": "United States",
    "UZ": "Uzbekistan",
}


def topic_name(code: str) -> str:
    return TOPICS.get(code, code.replace("_", " ").capitalize())


def country_name(code: str) -> str:
    return COUNTRIES.get(code.upper(), code.upper())


def topic_order(code: str) -> tuple[int, str]:
    """Known topics in the taxonomy's order, unknown ones after them by code."""
    keys = list(TOPICS)
    return (keys.index(code), code) if code in TOPICS else (len(keys), code)


__all__ = ["COUNTRIES", "TOPICS", "country_name", "topic_name", "topic_order"]
