"""Where Kazakh communities live, named the way news items name them: each probe must place the community in
its country and nowhere else (regions, cities and community names in English, Russian, Kazakh, Chinese,
Turkish, Uzbek, Persian and Arabic). Written from knowledge of the domain, not from the labeled files."""

from __future__ import annotations

import pytest

from mediawatch.classify.gazetteer import Gazetteer, evidence, load_gazetteer

PROBES: dict[str, list[str]] = {
    "CN": [
        "Kazakhs of Tacheng",
        "Kazakh herders in Altay prefecture",
        "Kazakhs in Urumqi",
        "塔城地区哈萨克族",
        "伊犁哈萨克自治州",
        "阿勒泰地区牧民",
        "Казахи Синьцзяна",
        "Шыңжаң қазақтары",
        "Ile Kazak Özerk Oblastı",
        "Kazakhs of Barkol",
        "Aksay Kazakh county in Gansu",
        "Kazakhs of Ghulja",
        "Құлжадағы қазақтар",
        "Тарбағатай қазақтары",
        "Doğu Türkistan Kazakları",
        "Kazakhs in Bortala",
        "Kazakhs of Chöchek",
    ],
    "MN": [
        "Kazakhs of Khovd",
        "Kazakhs in Nalaikh",
        "Баян-Өлгий қазақтары",
        "Баян-Улгий",
        "Bayan-Ölgiy Kazakları",
        "Ulaanbaatar Kazakhs",
        "巴彦乌列盖省哈萨克族",
        "Kazakhs of Tsengel",
    ],
    "RU": [
        "Kazakhs of Orenburg region",
        "Kazakhs in Astrakhan",
        "Kazakhs of Altai Krai",
        "Kazakhs in Saratov",
        "Volgograd Kazakhs",
        "Samara Kazakhs",
        "Казахи Тюменской области",
        "Kurgan Kazakhs",
        "Chelyabinsk Kazakhs",
        "Novosibirsk Kazakhs",
        "Омбы қазақтары",
        "Орынбор қазақтары",
        "Астрахань қазақтары",
        "Казахи Алтайского края",
        "Kazakhs of the Altai Republic",
        "Kazakhs in Moscow",
        "Kazakhs in St Petersburg",
    ],
    "UZ": [
        "Kazakhs of Karakalpakstan",
        "Kazakhs in Tashkent",
        "Kazakhs of Bukhara",
        "Kazakhs of Navoi",
        "Jizzakh Kazakhs",
        "Қарақалпақстан қазақтары",
        "Ташкент қазақтары",
        "Qoraqalpog'iston qozoqlari",
        "Казахи Каракалпакстана",
        "Kazakhs of the Syrdarya region of Uzbekistan",
    ],
    "TM": [
        "Kazakhs of Turkmenistan's Balkan province",
        "Kazakhs in Dashoguz",
        "Түрікменстан қазақтары",
        "Ashgabat Kazakhs",
    ],
    "TR": [
        "Zeytinburnu Kazakları",
        "Kayseri Kazakları",
        "Salihli Kazakları",
        "Kazakhs of Istanbul",
        "Niğde Kazakları",
        "Manisa Kazakları",
        "Konya Kazakları",
        "Түркиядағы қазақтар",
        "Стамбул қазақтары",
        "Aksaray Kazakları",
    ],
    "IR": ["Kazakhs of Gorgan", "Golestan Kazakhs", "Иран қазақтары", "Kazakhs in Mazandaran", "گرگان قزاق"],
    "AF": [
        "Kazakhs of Herat",
        "Mazar-i-Sharif Kazakhs",
        "Ауғанстан қазақтары",
        "Kazakhs in Kunduz",
        "Jowzjan Kazakhs",
    ],
    "KG": ["Kazakhs of Chui region", "Issyk-Kul Kazakhs", "Бишкек қазақтары", "Kazakhs of Kyrgyzstan"],
    "DE": ["Kazakhs in Berlin", "Kasachen in Köln", "Kazakhs of Munich", "Германия қазақтары"],
    "FR": ["Kazakhs in Paris", "Франция қазақтары", "Kazakhs of Lyon"],
    "GB": ["Kazakhs in London", "Лондон қазақтары", "Kazakh community in Manchester"],
    "US": [
        "Kazakhs in New York",
        "Kazakh community in Washington DC",
        "Kazakhs in California",
        "АҚШ қазақтары",
        "Kazakhs of Chicago",
        "Kazakh students in Boston",
    ],
    "CA": [
        "Kazakhs in Toronto",
        "Kazakhs of Vancouver",
        "Kazakh community in Montreal",
        "Канада қазақтары",
        "Kazakhs in Calgary",
    ],
    "AU": ["Kazakhs in Sydney", "Kazakhs of Melbourne", "Австралия қазақтары"],
    "SE": ["Kazakhs of Sweden", "Kazakhs in Stockholm"],
    "NL": ["Kazakhs in the Netherlands", "Kazakhs in Amsterdam"],
    "AT": ["Kazakhs in Vienna", "Kazakhs of Austria"],
    "UA": ["Kazakhs in Kyiv", "Kazakhs in Kharkiv", "Kazakhs of Odesa", "Казахи Украины"],
    "BY": ["Kazakhs in Minsk", "Казахи Беларуси"],
    "AZ": ["Kazakhs in Baku"],
    "TJ": ["Kazakhs of Tajikistan", "Kazakhs in Dushanbe"],
    "CZ": ["Kazakhs in Prague"],
    "PL": ["Kazakhs in Warsaw", "Kazakhs of Poland"],
    "KR": ["Kazakhs in Seoul", "Kazakh workers in South Korea"],
    "JP": ["Kazakh students in Tokyo"],
    "AE": ["Kazakhs in Dubai", "الكازاخ في دبي"],
    "SA": ["Kazakhs in Saudi Arabia", "Kazakh pilgrims in Mecca", "الجالية الكازاخية في جدة",
           "الكازاخ في السعودية"],
    "EG": ["Kazakh students in Cairo", "الطلاب الكازاخ في القاهرة"],
    "IT": ["Kazakhs in Italy", "Kazakhs in Rome"],
    "ES": ["Kazakhs in Spain", "Kazakhs in Madrid"],
    "CH": ["Kazakhs in Switzerland", "Kazakhs in Geneva"],
}


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer()


@pytest.mark.parametrize("code", sorted(PROBES))
def test_places_of_the_community_name_their_country(gaz: Gazetteer, code: str) -> None:
    wrong = {text: sorted(evidence(gaz, [text]).country_support()) for text in PROBES[code]}
    assert {text: got for text, got in wrong.items() if got != [code]} == {}
