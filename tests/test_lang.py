"""Language and script detection, Kazakh-aware."""

from __future__ import annotations

import pytest

from mediawatch.classify.lang import (
    LanguageDetector,
    Script,
    dominant_script,
    kazakh_latin_score,
    kazakh_script,
)
from mediawatch.classify.translit import to_cyrillic


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def test_py3langid_knows_kazakh(detector: LanguageDetector) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    assert "kk" in set(identifier.nb_classes)
    lang, _ = identifier.classify("Шетелдегі қазақтар Наурыз мерекесін тойлады")
    assert lang == "kk"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Моңғолиядағы қазақтар Наурыз мерекесін тойлады", Script.CYRILLIC),
        ("Mońǵolııadaǵy qazaqtar Naýryz merekesin toılady", Script.LATIN),
        ("Moñğoliyadağı qazaqtar Nauryz merekesin toyladı", Script.LATIN),
        ("Shynzhandagy qazaq mektepterinde ana tili sabagy qysqardy", Script.LATIN),
        ("شىنجاڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى", Script.ARABIC),
        ("ٴبىز ٴتىل ٴۇيرەنەمىز", Script.ARABIC),
    ],
)
def test_kazakh_in_each_script(text: str, script: Script) -> None:
    assert kazakh_script(text) is script


@pytest.mark.parametrize(
    "text",
    [
        "Казахи Монголии отметили Наурыз большим праздником",  # Russian
        "Монголын казахууд Наурыз баярыг тэмдэглэв",  # Mongolian (ө ү but no қ ұ)
        "Кыргызстандагы казактар Нооруз майрамын белгилешти",  # Kyrgyz
        "Казахи в Україні відзначили свято",  # Ukrainian (і)
        # Russian quoting a Kazakh term
        "Завершился мировой гран-при по қазақ күресі среди взрослых спортсменов в Шымкенте",
        "Kasahstan plaanib meelitada välisettevõtteid soodustingimustega, ütles peaminister",  # Estonian
        "Die Kasachen in Österreich feiern das Frühlingsfest mit Musik",  # German (ä ö ü)
        "Los kazajos de Mongolia celebran el festival del águila en Bayan-Ölgii",  # Spanish (á)
        "Kazakhs in Mongolia celebrate Nauryz",  # English
        "Moğolistan Kazakları Nevruz bayramını kutladı",  # Turkish
        "Qozogʻistonlik qozoqlar Toshkentda bayram qilib oʻtkazdi",  # Uzbek
        "ئۇيغۇر تىلى ۋە ئەدەبىياتى ئۈستىدە ئىزدىنىش",  # Uyghur
        "قزاق‌های استان گلستان در گرگان زندگی می‌کنند",  # Persian
        "新疆伊犁哈萨克族",
        "",
        "12345 !!!",
    ],
)
def test_not_kazakh(text: str) -> None:
    assert kazakh_script(text) is None


def test_latin_score_orders_languages() -> None:
    kazakh = kazakh_latin_score("Qazaqstan men Túrkııa arasyndaǵy baılanys jáne qandastar")
    turkish = kazakh_latin_score("Türkiye ile Kazakistan arasındaki ilişkiler ve soydaşlar")
    uzbek = kazakh_latin_score("O'zbekiston va Qozog'iston o'rtasidagi aloqalar bilan")
    assert kazakh > 1.0 > max(turkish, uzbek)


def test_dominant_script() -> None:
    assert dominant_script("新疆伊犁哈萨克族 Ili") is Script.HAN  # a Chinese headline with a Latin name
    assert dominant_script("Қазақ 2024") is Script.CYRILLIC
    assert dominant_script("...") is Script.OTHER


@pytest.mark.parametrize(
    ("text", "lang", "kk_script"),
    [
        ("Моңғолиядағы қазақтар Наурыз мерекесін тойлады", "kk", Script.CYRILLIC),
        ("Mońǵolııadaǵy qazaqtar Naýryz merekesin toılady", "kk", Script.LATIN),
        ("شىنجاڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى", "kk", Script.ARABIC),
        ("Казахи Монголии отметили Наурыз большим праздником в Баян-Улгии", "ru", None),
        ("Kazakh families in western Mongolia celebrated the spring holiday", "en", None),
        ("Batı Moğolistan'daki Kazak aileleri bahar bayramını at yarışlarıyla kutladı", "tr", None),
        ("蒙古国西部的哈萨克族家庭以赛马庆祝春季节日", "zh", None),
    ],
)
def test_detector(detector: LanguageDetector, text: str, lang: str, kk_script: Script | None) -> None:
    guess = detector.detect(text)
    assert guess.lang == lang
    assert guess.kazakh_script is kk_script
    assert 0.0 < guess.confidence <= 1.0


def test_detector_on_empty_text(detector: LanguageDetector) -> None:
    guess = detector.detect("   ")
    assert guess.lang == "und"
    assert guess.confidence == 0.0


@pytest.mark.parametrize(
    "text",
    [
        # Uyghur without its letters ې ۈ ئ: told apart by غ (Kazakh writes ғ as ع) and its function words
        "تۇرپان شەھىرىدە يىغىن",
        "شىنجاڭ ۋە قازاقىستان سودا ھەمكارلىقى",
        "قەشقەر بىلەن خوتەن",
        "مەكتەپ ۋە مائارىپ",
    ],
)
def test_uyghur_without_its_own_letters_is_not_kazakh(text: str) -> None:
    assert kazakh_script(text) is None
    assert to_cyrillic(text) == (text, None)


def test_kazakh_hamza_sign_outweighs_a_uyghur_looking_word() -> None:
    # Kazakh's own hamza sign, which Uyghur never writes, keeps a text quoting ۋە Kazakh
    assert kazakh_script("ٴبىز ٴتىل ٴۇيرەنەمىز ۋە قازاق ٴتىلى") is Script.ARABIC
