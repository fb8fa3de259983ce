"""Kazakh Latin and Arabic script to Cyrillic, and the text the model reads (text_for)."""

from __future__ import annotations

import pytest

from mediawatch.classify.lang import Script
from mediawatch.classify.translit import (
    LEAD_CHARS,
    MAX_WINDOWS,
    LatinVariant,
    arabic_to_cyrillic,
    detect_latin_variant,
    latin_to_cyrillic,
    lead_text,
    text_for,
    text_windows,
    to_cyrillic,
)


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        # 2018 alphabet with acute accents (ı = и/й, y = ы, ý = у, u = ұ, ú = ү)
        ("Mońǵolııadaǵy qazaqtar Naýryz merekesin toılady", "Моңғолиядағы қазақтар Наурыз мерекесін тойлады"),
        ("Qazaqstan Respýblıkasynyń Prezıdenti", "Қазақстан Республикасының Президенті"),
        ("Túrkııadaǵy qandastar", "Түркиядағы қандастар"),
        ("Ólgıı aımaǵy", "Өлгий аймағы"),
        ("Shyńjań", "Шыңжаң"),
    ],
)
def test_latin_2018_acute(latin: str, cyrillic: str) -> None:
    assert latin_to_cyrillic(latin, LatinVariant.ACUTE_2018) == cyrillic


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        # 2021 alphabet (ä ğ ñ ö ş ç ū ü, ı = ы, y = й next to a vowel)
        ("Moñğoliyadağı qazaqtar Nauryz merekesin toyladı", "Моңғолиядағы қазақтар Наурыз мерекесін тойлады"),
        ("Şetelde tūratyn qazaqtar", "Шетелде тұратын қазақтар"),
        ("Bayan-Ölgiy aymağı", "Баян-Өлгій аймағы"),
    ],
)
def test_latin_2021(latin: str, cyrillic: str) -> None:
    assert latin_to_cyrillic(latin, LatinVariant.OFFICIAL_2021) == cyrillic


def test_latin_2017_apostrophes() -> None:
    text = "Qazaqstan Respy'bli'kasy Tu'rki'yadag'y qandastarmen kezdesti"
    assert detect_latin_variant(text) is LatinVariant.APOSTROPHE_2017
    assert latin_to_cyrillic(text) == "Қазақстан Республикасы Түркиядағы қандастармен кездесті"
    assert latin_to_cyrillic("s'etelde", LatinVariant.APOSTROPHE_2017) == "шетелде"


def test_informal_digraphs() -> None:
    text = "Shynzhandagy qazaq mektepterinde ana tili sabagy qysqardy"
    assert detect_latin_variant(text) is LatinVariant.INFORMAL
    assert latin_to_cyrillic(text) == "Шынжандагы қазақ мектептерінде ана тілі сабагы қысқарды"
    assert latin_to_cyrillic("Altay", LatinVariant.INFORMAL) == "Алтай"
    assert latin_to_cyrillic("toyyn", LatinVariant.INFORMAL) == "тойын"


def test_variant_detection() -> None:
    assert detect_latin_variant("Naýryz merekesi ótti") is LatinVariant.ACUTE_2018
    assert detect_latin_variant("Nauryz merekesi ötti") is LatinVariant.OFFICIAL_2021
    assert detect_latin_variant("Nauryz merekesi otti") is LatinVariant.INFORMAL


def test_case_is_kept() -> None:
    assert latin_to_cyrillic("QAZAQ Eli", LatinVariant.ACUTE_2018) == "ҚАЗАҚ Елі"


def test_arabic_script_front_and_back_vowels() -> None:
    # back-vowel words keep а о ұ ы; ە or the hamza sign turn a word front (ә ө ү і)
    assert arabic_to_cyrillic("قازاقتار") == "қазақтар"
    assert arabic_to_cyrillic("مەرەكەسىن") == "мерекесін"
    assert arabic_to_cyrillic("ٴتىل") == "тіл"
    assert arabic_to_cyrillic("ٴبىز ٴتىل ٴۇيرەنەمىز") == "біз тіл үйренеміз"
    assert arabic_to_cyrillic("انا ءتىلى") == "ана тілі"  # the letter hamza typed for the hamza sign
    assert arabic_to_cyrillic("التاي ايماعى") == "алтай аймағы"  # word-final ي after a vowel is й
    assert arabic_to_cyrillic("شىنجاڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى") == (
        "шынжаңдағы қазақтар наурыз мерекесін тойлады"
    )


def test_arabic_punctuation_and_digits() -> None:
    assert arabic_to_cyrillic("قازاق، ٢٠٢٤") == "қазақ, 2024"


@pytest.mark.parametrize(
    "text",
    [
        "Kazakhs in Mongolia celebrate Nauryz in Bayan-Ölgii",  # English
        "Moğolistan Kazakları Nevruz bayramını kutladı",  # Turkish
        "Qozogʻistonlik qozoqlar Toshkentda bayram qilib oʻtkazdi",  # Uzbek
        "Казахи Монголии отметили Наурыз",  # Russian
        "Моңғолиядағы қазақтар Наурыз тойлады",  # Kazakh, already Cyrillic
        "ئۇيغۇر تىلى ۋە ئەدەبىياتى",  # Uyghur
        "新疆伊犁哈萨克族",
    ],
)
def test_to_cyrillic_leaves_other_text_alone(text: str) -> None:
    assert to_cyrillic(text) == (text, None)


def test_to_cyrillic_detects_kazakh_scripts() -> None:
    assert to_cyrillic("Qandastarǵa arnalǵan kvota bekitildi")[1] is Script.LATIN
    converted, script = to_cyrillic("اتاجۇرتقا ورالعان قانداستار")
    assert script is Script.ARABIC
    assert converted == "атажұртқа оралған қандастар"


def test_lead_text_cuts_at_a_sentence() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(100))
    lead = lead_text(text)
    assert len(lead) <= LEAD_CHARS
    assert lead.endswith(".")
    assert lead_text("  short\n text ") == "short text"


def test_text_windows_cut_a_long_text_into_successive_leads() -> None:
    sentences = [f"Paragraph sentence number {n} tells one more thing." for n in range(100)]
    text = "\n\n".join(" ".join(sentences[k : k + 4]) for k in range(0, 100, 4))
    windows = text_windows("Headline", "Headline\n" + text)  # a repeated headline is not part of the text
    body = " ".join(text.split())
    assert 1 < len(windows) <= MAX_WINDOWS
    assert windows[0] == lead_text(body)
    assert text_for("Headline", text) == f"Headline. {windows[0]}"  # the first window is what text_for reads
    assert all(0 < len(w) <= LEAD_CHARS and w.endswith(".") for w in windows)  # cut at sentences
    assert body.startswith(" ".join(windows))  # in order, nothing skipped or repeated
    assert len(" ".join(windows)) < len(body)  # 100 sentences are more than MAX_WINDOWS leads: the rest unread
    assert text_windows("", body, most=2) == windows[:2]


def test_text_windows_of_a_short_or_empty_text() -> None:
    assert text_windows("Title", " Body  text. ") == ["Body text."]
    assert text_windows("T", "a" * 601) == ["a" * 600, "a"]  # cut inside a word when there is no space
    assert text_windows("Title", "") == []
    assert text_windows("Title", "Title") == []


def test_text_for_joins_title_and_lead() -> None:
    assert text_for("Title", "Body text.") == "Title. Body text."
    assert text_for("Title?", "Body") == "Title? Body"
    assert (
        text_for("Title", "Title. The article repeats its headline.")
        == "Title. The article repeats its headline."
    )
    assert text_for("", "Only body") == "Only body"
    assert text_for("Only title", "   ") == "Only title"


def test_text_for_transliterates_kazakh() -> None:
    assert text_for("Qandastarǵa arnalǵan kvota bekitildi", "Soltústik óńirlerge kóshetin qazaqtar") == (
        "Қандастарға арналған квота бекітілді. Солтүстік өңірлерге көшетін қазақтар"
    )
    # a short Latin title is not recognised on its own; lang="kk" forces it
    assert text_for("Bayan-Olgii", "") == "Bayan-Olgii"
    assert text_for("Bayan-Olgii", "", lang="kk") == "Баян-Олгии"
    assert text_for("Kazakh news", "English text", lang="en") == "Kazakh news. English text"
