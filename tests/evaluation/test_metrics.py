"""Every metric against small cases computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from assistant.evaluation.metrics import (
    MAX_CITATION_CHARS,
    METRICS,
    Gold,
    aggregate,
    citation_hit,
    citation_matches,
    citation_precision,
    covers_half,
    error_scores,
    fact_recall,
    first_match_rank,
    hit_at,
    item_matches,
    longest_common_substring,
    normalize,
    percentile,
    reciprocal_rank,
    score_question,
)

GOLD = Gold("L1", "全省累计开通5G基站2.36万个")  # 16 characters


# --------------------------------------------------------------------------- normalisation


def test_normalize_applies_nfkc_and_removes_every_whitespace() -> None:
    # full-width digits/letters/comma → ASCII; space, ideographic space U+3000, tab, newline removed
    assert normalize("２０１９年，全省\u3000共建成 ５Ｇ基站\n超1万个\t") == "2019年,全省共建成5G基站超1万个"
    assert normalize("   ") == ""


def test_item_matching_uses_the_normalisation_on_both_sides() -> None:
    # the chunk has full-width digits and a line break inside the quote; the gold is half-width
    assert item_matches("L1", "截至7月底，全省累计开通\n５Ｇ基站２.３６万个，实现……", GOLD)
    assert not item_matches("L2", "全省累计开通5G基站2.36万个", GOLD)  # right text, wrong letter
    assert not item_matches("L1", "全省累计开通5G基站", GOLD)  # only part of the quote
    assert not item_matches("L1", "anything", Gold("L1", " \u3000"))  # an empty gold never matches


# --------------------------------------------------------------------------- retrieval


def test_rank_hits_and_reciprocal_rank() -> None:
    retrieved = [
        ("L2", "全省累计开通5G基站2.36万个"),  # rank 1: wrong letter
        ("L1", "其他内容"),  # rank 2: right letter, no quote
        ("L1", "……全省累计开通5G基站2.36万个。"),  # rank 3: match
        ("L1", "全省累计开通5G基站2.36万个"),  # rank 4: also a match, but not the first
    ]
    rank = first_match_rank(retrieved, [GOLD])
    assert rank == 3
    # hit@1 = 0 (3 > 1), hit@3 = 1 (3 ≤ 3), hit@5 = 1; RR = 1/3
    assert (hit_at(rank, 1), hit_at(rank, 3), hit_at(rank, 5)) == (0.0, 1.0, 1.0)
    assert reciprocal_rank(rank) == pytest.approx(1 / 3)


def test_rank_is_searched_within_the_top_10_only() -> None:
    retrieved = [("L9", "x")] * 10 + [("L1", GOLD.quote)]  # the only match is at rank 11
    assert first_match_rank(retrieved, [GOLD]) is None
    assert reciprocal_rank(None) == 0.0 and hit_at(None, 5) == 0.0
    assert reciprocal_rank(11) == 0.0  # even when given, beyond the MRR depth


def test_any_gold_item_counts_for_a_hit() -> None:
    other = Gold("L5", "新增托位3000个")
    retrieved = [("L7", "无关"), ("L5", "今年新增托位3000个。")]
    assert first_match_rank(retrieved, [GOLD, other]) == 2  # the second gold matches at rank 2


# --------------------------------------------------------------------------- citations


def test_longest_common_substring() -> None:
    assert longest_common_substring("abcdef", "zcdez") == 3  # "cde"
    assert longest_common_substring("", "abc") == 0
    assert longest_common_substring("abc", "xyz") == 0


def test_citation_containing_the_gold_matches() -> None:
    quote = "截至2020年7月底，全省累计开通5G基站2.36万个，实现各市主城区覆盖。"
    assert citation_matches("L1", quote, GOLD)
    assert not citation_matches("L2", quote, GOLD)  # same words, other letter


def test_half_coverage_rule_is_a_contiguous_run_of_at_least_half_the_gold() -> None:
    # gold: 全省累计开通5G基站2.36万个 = 16 characters, half = 8.
    # "累计开通5G基站" is a common run of 8 characters → 2 * 8 = 16 ≥ 16 → matches.
    assert covers_half("我省累计开通5G基站", GOLD.quote)
    assert citation_matches("L1", "今年累计开通5G基站", GOLD)
    # "计开通5G基站" is 7 characters → 2 * 7 = 14 < 16 → no match.
    assert not citation_matches("L1", "今年计开通5G基站", GOLD)
    # scattered shared characters do not add up: "全省…2.36万个" shares "全省" (2) and "2.36万个" (6),
    # 8 characters in all, but the longest run is 6 → 12 < 16 → no match.
    assert not citation_matches("L1", "全省去年为2.36万个", GOLD)


def test_half_coverage_is_measured_after_normalisation() -> None:
    # full-width "５Ｇ" and a space inside: normalised it is "累计开通5G基站" (8 of 16) → match
    assert citation_matches("L1", "累计开通 ５Ｇ基站", GOLD)


def test_citation_quotes_longer_than_300_characters_never_match() -> None:
    filler = "字" * (MAX_CITATION_CHARS - len(GOLD.quote))
    at_limit = filler + GOLD.quote  # 284 + 16 = 300 characters: allowed
    assert len(normalize(at_limit)) == 300
    assert citation_matches("L1", at_limit, GOLD)
    over = "字" + at_limit  # 301 characters: never matches, although it contains the gold
    assert not citation_matches("L1", over, GOLD)
    # whitespace does not count towards the limit (it is removed first)
    assert citation_matches("L1", at_limit + "   \n", GOLD)


def test_citation_hit_and_precision() -> None:
    citations = [
        ("L1", "全省累计开通5G基站2.36万个。"),  # matches
        ("L1", "感谢您对工作的关心和支持。"),  # same letter, no match
        ("L3", "全省累计开通5G基站2.36万个"),  # wrong letter
    ]
    assert citation_hit(citations, [GOLD]) == 1.0
    # 1 matching citation out of 3 → 1/3
    assert citation_precision(citations, [GOLD]) == pytest.approx(1 / 3)
    assert citation_hit(citations[1:], [GOLD]) == 0.0
    assert citation_precision(citations[1:], [GOLD]) == 0.0  # 0 of 2
    assert citation_precision([], [GOLD]) is None  # undefined without citations
    assert citation_hit([], [GOLD]) == 0.0


# --------------------------------------------------------------------------- facts, latency


def test_fact_recall() -> None:
    text = "全市完成投资１８.６亿元，新建 612 公里。"
    # "18.6亿元" is there after NFKC; "612公里" after removing the space; "3.2亿元" is not → 2/3
    assert fact_recall(text, ["18.6亿元", "612公里", "3.2亿元"]) == pytest.approx(2 / 3)
    assert fact_recall(text, []) is None


def test_percentile_interpolates_between_order_statistics() -> None:
    values = [40.0, 10.0, 30.0, 20.0]  # sorted: 10, 20, 30, 40
    # p50: position (4-1)*0.5 = 1.5 → 20 + 0.5*(30-20) = 25
    assert percentile(values, 50) == pytest.approx(25.0)
    # p95: position 3*0.95 = 2.85 → 30 + 0.85*(40-30) = 38.5
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


# --------------------------------------------------------------------------- per question


def _score(**overrides: object):  # -> QuestionScores
    args: dict[str, object] = {
        "answerable": True, "gold": [GOLD], "facts": ["2.36万个"], "found": True,
        "text": "答复：“全省累计开通5G基站2.36万个”[1]",
        "citations": [("L1", "全省累计开通5G基站2.36万个"), ("L1", "其他句子")],
        "retrieved": [("L4", "x"), ("L1", "累计开通5G基站2.36万个"), ("L1", GOLD.quote)],
        "latency_ms": 12.0,
    }
    args.update(overrides)
    return score_question(**args)  # type: ignore[arg-type]


def test_answered_question_scores() -> None:
    s = _score()
    # first full match at rank 3 ("累计开通…" at rank 2 lacks 全省): hit@1 0, hit@3 1, hit@5 1, RR 1/3
    assert (s.rank, s.hit_1, s.hit_3, s.hit_5) == (3, 0.0, 1.0, 1.0)
    assert s.rr_10 == pytest.approx(1 / 3)
    # citations: 1 of 2 match → hit 1, precision 0.5; facts 1 of 1; not a refusal
    assert (s.citation_hit, s.citation_precision, s.fact_recall) == (1.0, 0.5, 1.0)
    assert s.false_refusal == 0.0 and s.refusal_correct is None


def test_refused_answerable_question_misses_but_is_left_out_of_precision() -> None:
    s = _score(found=False, citations=[], text="未找到。以下答复可能相关：《……2.36万个……》")
    assert s.false_refusal == 1.0
    assert s.citation_hit == 0.0  # a refusal is a citation miss
    assert s.citation_precision is None  # and says nothing about precision
    assert s.fact_recall == 0.0 and s.missing_facts == ("2.36万个",)  # a lead's title is no answer
    assert s.hit_3 == 1.0  # retrieval is scored all the same


def test_unanswerable_question_scores_only_refusal() -> None:
    refused = _score(answerable=False, gold=[], facts=[], found=False, citations=[])
    assert refused.refusal_correct == 1.0
    assert refused.false_refusal is None and refused.hit_1 is None and refused.citation_precision is None
    answered = _score(answerable=False, gold=[], facts=[])
    assert answered.refusal_correct == 0.0
    assert answered.citation_precision is None  # counted by refusal accuracy, not precision


def test_error_scores_are_misses_everywhere() -> None:
    s = error_scores(answerable=True, gold=[GOLD], facts=["a", "b"], latency_ms=5.0, error="Boom")
    assert (s.hit_1, s.hit_5, s.rr_10, s.citation_hit, s.fact_recall, s.false_refusal) == (0, 0, 0, 0, 0, 1)
    u = error_scores(answerable=False, gold=[], facts=[], latency_ms=5.0, error="Boom")
    assert u.refusal_correct == 0.0  # a crash is never a correct refusal


# --------------------------------------------------------------------------- aggregation


def test_aggregate_macro_averages_over_the_right_questions() -> None:
    a = _score(latency_ms=10.0)  # hit@1 0, hit@3 1, RR 1/3, cit hit 1, precision 0.5, facts 1
    b = _score(  # rank 1, both citations match, facts 0/1
        retrieved=[("L1", GOLD.quote)], citations=[("L1", GOLD.quote), ("L1", "开通5G基站2.36万个")],
        text="没有数字", latency_ms=20.0,
    )
    c = _score(found=False, citations=[], latency_ms=30.0)  # refused: rank 3, cit hit 0, facts 0
    d = _score(answerable=False, gold=[], facts=[], found=False, citations=[], latency_ms=40.0)  # correct refusal
    e = _score(answerable=False, gold=[], facts=[], found=True, latency_ms=50.0)  # wrong answer
    f = _score(gold=[], facts=[], latency_ms=60.0)  # answerable without gold or facts
    m = aggregate([a, b, c, d, e, f])
    # retrieval over a, b, c (f has no gold): hit@1 (0+1+0)/3, hit@3 (1+1+1)/3, MRR (1/3+1+1/3)/3 = 5/9
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@3"] == pytest.approx(1.0)
    assert m["mrr@10"] == pytest.approx(5 / 9)
    # citation hit over a, b, c: (1+1+0)/3; precision over answered a, b only: (0.5 + 1.0)/2 = 0.75
    # ("开通5G基站2.36万个" is 12 of 16 characters: covers more than half)
    assert m["citation_hit"] == pytest.approx(2 / 3)
    assert m["citation_precision"] == pytest.approx(0.75)
    # facts over a, b, c: (1 + 0 + 0)/3
    assert m["fact_recall"] == pytest.approx(1 / 3)
    # refusal accuracy over d, e: 1/2; false refusals over a, b, c, f: 1/4
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusal_rate"] == 0.25
    # latencies 10..60: p50 position 2.5 → 35; p95 position 4.75 → 50 + 0.75*10 = 57.5
    assert m["latency_p50_ms"] == pytest.approx(35.0)
    assert m["latency_p95_ms"] == pytest.approx(57.5)
    assert (m["questions"], m["answerable"], m["unanswerable"], m["errors"]) == (6, 4, 2, 0)
    assert set(METRICS) <= set(m)


def test_aggregate_without_applicable_questions_is_none_not_zero() -> None:
    only_unanswerable = aggregate([_score(answerable=False, gold=[], facts=[], found=False, citations=[])])
    assert only_unanswerable["refusal_accuracy"] == 1.0
    for metric in ("hit@1", "mrr@10", "citation_hit", "citation_precision", "fact_recall", "false_refusal_rate"):
        assert only_unanswerable[metric] is None
    empty = aggregate([])
    assert empty["latency_p50_ms"] is None and empty["questions"] == 0
