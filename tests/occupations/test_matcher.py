"""The title matcher's exact names: a name several occupations share goes to the one it is the label of."""

from __future__ import annotations

import numpy as np

from service.embeddings.fake import FakeEncoder
from service.occupations.matcher import ENGLISH, MULTILINGUAL, Entry, Fusion, TitleMatcher

ENTRIES = [
    # listed first, so that an order by position alone would put it first
    Entry(
        "leather",
        "esco",
        "2141.1",
        "leather goods industrial engineer",
        ("leather goods industrial engineer", "manufacturing engineer", "production engineer"),
    ),
    Entry(
        "manufacturing",
        "esco",
        "2141.3",
        "manufacturing engineer",
        ("manufacturing engineer", "production engineer"),
    ),
    Entry("quality", "esco", "2141.4", "quality engineer", ("quality engineer", "quality control engineer")),
    Entry("welder", "esco", "7212.1", "welder", ("welder", "arc welder")),
]


def _top(matcher: TitleMatcher, title: str) -> list[tuple[str, float]]:
    (hits,) = matcher.rank([title], {}, top_k=4)
    return [(matcher.entries[h.entry].occupation_id, h.score) for h in hits]


def test_a_shared_name_goes_to_the_occupation_it_is_the_label_of() -> None:
    matcher = TitleMatcher(ENTRIES, {}, Fusion())
    hits = _top(matcher, "Manufacturing Engineer (Contract)")
    assert hits[0] == ("manufacturing", 1.0)
    assert hits[1][0] == "leather"
    assert 0.99 <= hits[1][1] <= 0.999  # still an exact name: above every occupation that lacks it
    assert all(score < hits[1][1] for _, score in hits[2:])


def test_a_name_of_one_occupation_only_scores_one_even_as_an_alias() -> None:
    matcher = TitleMatcher(ENTRIES, {}, Fusion())
    assert _top(matcher, "Arc Welder")[0] == ("welder", 1.0)


def test_an_alias_several_occupations_share_orders_them_by_their_fused_scores() -> None:
    # the English channel with an even share of centroid: "production engineer" is closer to the names of
    # "manufacturing engineer" as a whole than to those of the leather goods engineer
    encoder = FakeEncoder()
    channels = {ENGLISH: encoder.encode}
    fusion = Fusion(centroid_share={"latin": 0.5})
    matcher = TitleMatcher(ENTRIES, channels, fusion)
    (hits,) = matcher.rank(["production engineer"], channels, top_k=4)
    scores = {matcher.entries[h.entry].occupation_id: h.score for h in hits}
    assert 0.99 <= scores["leather"] < scores["manufacturing"] <= 0.999  # the label of neither
    assert [matcher.entries[h.entry].occupation_id for h in hits[:2]] == ["manufacturing", "leather"]


def test_an_english_title_against_chinese_names_is_matched_by_meaning_not_by_letters() -> None:
    # a Chinese classification with a few Latin aliases: "fae" shares letters with every English title
    entries = [
        Entry("4-01-05-01", "csco", "4-01-05-01", "营销员", ("营销员", "销售代表")),
        Entry("4-01-06-02", "csco", "4-01-06-02", "客户服务管理员", ("客户服务管理员", "fae")),
    ]
    meaning = {
        "sales representative": [1.0, 0.0, 0.0, 0.0],
        "营销员": [0.9, 0.436, 0.0, 0.0],
        "销售代表": [1.0, 0.0, 0.0, 0.0],
        "客户服务管理员": [0.0, 0.0, 1.0, 0.0],
        "fae": [0.0, 0.0, 0.0, 1.0],
    }

    def vectors(texts: list[str]) -> np.ndarray:
        return np.asarray([meaning[t] for t in texts], dtype=np.float32)

    def english(texts: list[str]) -> np.ndarray:
        # an English-only encoder: Chinese names come out alike, and "fae" happens to sit near the title
        return np.asarray([[0.0, 1.0] if t in ("fae", "sales representative") else [1.0, 0.0] for t in texts])

    channels = {MULTILINGUAL: vectors, ENGLISH: english}
    matcher = TitleMatcher(entries, channels, Fusion())
    (hits,) = matcher.rank(["Sales Representative"], channels, top_k=2)
    scores = {matcher.entries[h.entry].code: h.score for h in hits}
    assert scores["4-01-05-01"] > 0.9
    assert scores.get("4-01-06-02", 0.0) == 0.0  # nothing in common by meaning: no credit for letters
    # a Chinese title against the same names keeps the lexical channel
    meaning["客户服务"] = [0.0, 0.0, 0.9, 0.436]
    (zh,) = matcher.rank(["客户服务"], channels, top_k=1)
    assert matcher.entries[zh[0].entry].code == "4-01-06-02"
    semantic_part = Fusion().for_text("客户服务", [MULTILINGUAL])[MULTILINGUAL] * 0.9
    assert zh[0].score > semantic_part  # the shared characters add to it
