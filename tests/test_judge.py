"""The correctness judge with exact values: fact extraction and normalisation, verdicts on hand-written answers
(including the README's known failures), and its agreement with the hand labels in tests/data/judge_labels.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatbot.facts import extract_facts
from evals.judge import Verdict, judge, lead_facts
from evals.judge_agreement import BadLabels, agreement, demo_article_texts, read_labels, report
from retrieval.kb import load_articles

ARTICLES = {a.id: a for a in load_articles()}
LABELS = Path(__file__).parent / "data" / "judge_labels.jsonl"
MIN_LABELS = 150


def values(text: str) -> list[tuple[str, tuple[Any, ...]]]:
    return [(f.kind, f.value) for f in extract_facts(text)]


def judge_demo(answer: str, article_id: str, **kw: Any) -> Verdict:
    """The judge as the eval suites call it on a demo article: gold answer and article text, cited first."""
    article = ARTICLES[article_id]
    cited = kw.pop("cited", [article_id])
    return judge(answer, cited, article_id, article.gold_answer, article.body, **kw)


# --- extraction and normalisation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£5", [("money", (5.0, 5.0, "GBP"))]),
        ("It costs £5.00.", [("money", (5.0, 5.0, "GBP"))]),
        ("5 pounds, or GBP 1,000", [("money", (5.0, 5.0, "GBP")), ("money", (1000.0, 1000.0, "GBP"))]),
        ("a 50p fee and €20", [("money", (0.5, 0.5, "GBP")), ("money", (20.0, 20.0, "EUR"))]),
        ("between £10–£500 or £1k", [("money", (10.0, 500.0, "GBP")), ("money", (1000.0, 1000.0, "GBP"))]),
        ("0.5% or 2.5 per cent", [("percent", (0.5, 0.5)), ("percent", (2.5, 2.5))]),
        ("1.8 %", [("percent", (1.8, 1.8))]),
        ("takes 5–7 working days", [("duration", (5.0, 7.0, "day"))]),
        ("3 to 5 days, or 5-7 business days", [("duration", (3.0, 5.0, "day")), ("duration", (5.0, 7.0, "day"))]),
        ("five working days", [("duration", (5.0, 5.0, "day"))]),
        ("between 5 and 7 days", [("duration", (5.0, 7.0, "day"))]),
        ("within a week, or one working day", [("duration", (7.0, 7.0, "day")), ("duration", (1.0, 1.0, "day"))]),
        ("5-6 hours, 10 minutes", [("duration", (5.0, 6.0, "hour")), ("duration", (10.0, 10.0, "minute"))]),
        ("£500 a day", [("money", (500.0, 500.0, "GBP"))]),  # a rate, not a duration of one day
        (
            "5–7 working days in the UK (10–15 in the EEA)",
            [("duration", (5.0, 7.0, "day")), ("duration", (10.0, 15.0, "day"))],
        ),
        ("18 or over; 13–17 year olds", [("age", (18.0, 18.0)), ("age", (13.0, 17.0))]),
        ("If you're 13 to 17, ask", [("age", (13.0, 17.0))]),
        ("you are 2 days late", [("duration", (2.0, 2.0, "day"))]),
        ("Monday–Friday 08:00–20:00", [("time", (480, 1200))]),
        ("8am to 8pm, or from 10pm", [("time", (480, 1200)), ("time", (1320, 1320))]),
        ("+44 1632 960 999", [("phone", ("01632960999",))]),
        ("call 01632 960999", [("phone", ("01632960999",))]),
        (
            "Open 24/7 at https://www.bramblecove.example/help.",
            [("availability", ("24/7",)), ("url", ("bramblecove.example/help",))],
        ),
        ("mail complaints@bramblecove.example", [("url", ("complaints@bramblecove.example",))]),
        ("the 3-digit code, three wrong attempts", [("count", (3.0,))]),  # the same fact twice is listed once
        ("Often one of the two entries [1]. Use 3-D Secure on the 1st.", []),
        ("1. Open the app\n2. Tap Cards", []),
        ("It is often pounds, not euros", []),
    ],
)
def test_extract_facts_normalises(text: str, expected: list[tuple[str, tuple[Any, ...]]]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("open the app and go to Cards > Activate, then scan it", ("card", "activate")),
        ("at app > Cards > Freeze.", ("card", "freeze")),
        ("Tap Cards → Freeze", ("card", "freeze")),
        ("in the Bramblecove app > Cards » Show PIN", ("card", "show pin")),
        ("choose **Cards > Order physical card**", ("card", "order physical card")),
        ("Add money > Auto top-up", ("add money", "auto top-up")),
    ],
)
def test_menu_paths_are_normalised(text: str, path: tuple[str, ...]) -> None:
    assert values(text) == [("path", path)]


def test_a_conjunction_ends_one_path_and_starts_the_next() -> None:
    text = "freeze your cards under Cards > Freeze and choose Security > Devices > Sign out all devices"
    assert values(text) == [("path", ("card", "freeze")), ("path", ("security", "device", "sign out all device"))]


def test_gold_answer_facts_and_lead_facts() -> None:
    gold = ARTICLES["card_delivery_estimate"].gold_answer
    assert [str(f) for f in extract_facts(gold)] == [
        "duration: 5–7 working days",
        "duration: 10–15 working days",
        "money: £5.00",
        "duration: 2 working days",
        "path: Cards > Order physical card",
    ]
    assert [str(f) for f in lead_facts(gold)] == ["duration: 5–7 working days", "duration: 10–15 working days"]
    # the first sentence has no fact: the lead is the next sentence's
    assert [str(f) for f in lead_facts(ARTICLES["card_payment_fee_charged"].gold_answer)] == [
        "percent: 0.5%",
        "money: £1,000",
        "percent: 1%",
    ]


def test_every_gold_answer_is_right_for_its_own_article() -> None:
    wrong = [a.id for a in ARTICLES.values() if not judge_demo(a.gold_answer + " [1]", a.id).right]
    assert wrong == []


# --- verdicts ------------------------------------------------------------------------------------------------------
def test_readme_card_delivery_in_hours_is_a_contradiction() -> None:
    v = judge_demo("Your card will be delivered in 5-6 hours [1].", "card_delivery_estimate")
    assert (v.right, v.reason, v.contradictions, v.facts_found) == (
        False,
        "contradiction",
        ("duration: 5-6 hours",),
        (),
    )


def test_readme_invented_exchange_markup_is_a_contradiction() -> None:
    v = judge_demo("We charge 1.8 % above the market rate for exchanges [1].", "exchange_charge")
    assert (v.right, v.reason, v.contradictions) == (False, "contradiction", ("percent: 1.8 %",))


def test_a_paraphrase_with_other_number_words_is_right() -> None:
    v = judge_demo("Standard delivery takes five to seven business days [1].", "card_delivery_estimate")
    assert (v.right, v.reason, v.facts_found) == (True, "right", ("duration: 5–7 working days",))
    assert v.facts_missing == (
        "duration: 10–15 working days",
        "money: £5.00",
        "duration: 2 working days",
        "path: Cards > Order physical card",
    )


def test_the_top_of_a_range_states_it_but_a_value_inside_contradicts() -> None:
    assert judge_demo("It arrives within 7 working days [1].", "card_delivery_estimate").reason == "right"
    v = judge_demo("It arrives within 6 working days [1].", "card_delivery_estimate")
    assert (v.reason, v.contradictions) == ("contradiction", ("duration: 6 working days",))


def test_exchange_answer_with_allowance_and_markups_is_right() -> None:
    v = judge_demo("Above £1,000 a month we add 0.5%, and 1% at weekends [1].", "exchange_charge")
    assert (v.right, v.facts_found) == (True, ("money: £1,000", "percent: 0.5%", "percent: 1%"))
    assert v.facts_missing == ("time: 22:00", "path: Account > Exchange")


def test_citation_and_abstention_reasons() -> None:
    gold = ARTICLES["card_delivery_estimate"].gold_answer
    assert judge_demo(gold, "card_delivery_estimate", cited=["card_arrival"]).reason == "wrong_article"
    assert judge_demo(gold, "card_delivery_estimate", cited=[]).reason == "no_citation"
    over = judge_demo("Let me connect you with a colleague.", "card_delivery_estimate", abstained=True, cited=[],
                      retrieved=["card_delivery_estimate", "card_arrival"])  # fmt: skip
    assert (over.right, over.reason) == (False, "abstained")
    missed = judge_demo(
        "Let me connect you.", "card_delivery_estimate", abstained=True, cited=[], retrieved=["atm_support"]
    )
    assert missed.reason == "wrong_article"
    # an unknown article (a reviewed question without one): any citation will do
    assert judge(gold, [], None, gold).reason == "right"


def test_an_answer_without_the_lead_facts_is_missing_facts() -> None:
    v = judge_demo("You can order a card in the app [1].", "card_delivery_estimate")
    assert (v.right, v.reason, v.facts_found, v.contradictions) == (False, "missing_fact", (), ())
    # express price and time are facts of the article, but not the lead: what the customer asked is missing
    assert judge_demo("Express delivery costs £5.00 [1].", "card_delivery_estimate").reason == "missing_fact"


def test_a_bare_number_is_a_key_fact_only_when_the_lead_has_nothing_else() -> None:
    # card_linking's lead sentence: "go to Cards > Activate ... enter the 3-digit code": the path is the key fact
    assert [str(f) for f in lead_facts(ARTICLES["card_linking"].gold_answer)] == ["path: Cards > Activate"]
    real = "You need to use a 3-digit code printed on the card that is sent to your phone [1]."  # SmolLM2's answer
    v = judge_demo(real, "card_linking")
    assert (v.reason, v.facts_found) == ("missing_fact", ("count: 3-digit",))
    assert judge_demo("Go to Cards > Activate and enter the code [1].", "card_linking").reason == "right"
    # passcode_forgotten's lead has only the 6-digit passcode
    assert judge_demo("Tap Forgot passcode? and pick a new six-digit passcode [1].", "passcode_forgotten").right


def test_coverage_is_a_share_of_the_lead_facts() -> None:
    answer = "A single top-up can be up to £5,000 [1]."  # 1 of the 3 lead facts (£5,000, £10,000, 24 hours)
    assert judge_demo(answer, "top_up_limits").reason == "missing_fact"  # needs ceil(0.5 * 3) = 2
    assert judge_demo(answer, "top_up_limits", coverage=0.3).reason == "right"  # needs ceil(0.9) = 1
    both = "Up to £5,000 per top-up and £10,000 in 24 hours [1]."
    assert judge_demo(both, "top_up_limits", coverage=1.0).reason == "right"
    assert judge_demo("Up to £5,000 per top-up and £10,000 a day [1].", "top_up_limits", coverage=1.0).reason == (
        "missing_fact"
    )


def test_facts_of_the_article_and_the_question_are_not_contradictions() -> None:
    answer = "It takes 5–7 working days; your first physical card is free, see Profile > Personal details [1]."
    assert judge_demo(answer, "card_delivery_estimate").reason == "right"  # the path is in the article's body
    gold = ARTICLES["card_delivery_estimate"].gold_answer
    v = judge(answer, ["card_delivery_estimate"], "card_delivery_estimate", gold)  # without the article
    assert (v.reason, v.contradictions) == ("contradiction", ("path: Profile > Personal details",))
    extra = "Sorry about the £3.50 charge: refunds take 5–10 working days [1]."
    assert judge_demo(extra, "request_refund").reason == "contradiction"
    assert judge_demo(extra, "request_refund", question="Why was I charged £3.50?").reason == "right"


def test_invented_menu_paths_and_phone_numbers_contradict() -> None:
    assert judge_demo("Go to Cards > Activate [1].", "activate_my_card").reason == "right"
    assert judge_demo("Open the app's Cards → Activate screen [1].", "activate_my_card").reason == "right"
    v = judge_demo("Go to Settings > Cards > Activate card [1].", "activate_my_card")
    assert (v.reason, v.contradictions) == ("contradiction", ("path: Settings > Cards > Activate card",))
    v = judge_demo("Freeze it at Cards > Freeze and call 0800 123 4567 [1].", "lost_or_stolen_card")
    assert (v.reason, v.contradictions) == ("contradiction", ("phone: 0800 123 4567",))
    assert judge_demo("Freeze it at Cards > Freeze or call 01632 960999 [1].", "lost_or_stolen_card").right


def test_a_reference_without_typed_facts_needs_half_its_content_words() -> None:
    article = "apple_pay_or_google_pay"
    yes = (
        "Yes, Bramblecove cards work with Apple Pay and Google Pay: open the app, go to Cards, tap Add to Apple Wallet."
    )
    assert judge_demo(yes, article).reason == "right"
    assert judge_demo("Yes, you can [1].", article).reason == "missing_fact"
    assert judge_demo("Yes, it costs £2 a month [1].", article).reason == "contradiction"


def test_verdict_json_lists_its_facts() -> None:
    v = judge_demo("It takes 5-6 hours [1].", "card_delivery_estimate")
    assert v.to_json()["contradictions"] == ["duration: 5-6 hours"]
    assert v.to_json()["reason"] == "contradiction"


# --- agreement with hand labels ---------------------------------------------------------------------------------
def test_agreement_and_kappa_exact() -> None:
    result = agreement([True, True, False, False, True], [True, False, False, False, True])
    # agreement 4/5; chance: 3/5*2/5 + 2/5*3/5 = 0.48; kappa (0.8 - 0.48) / 0.52
    assert (result.n, result.agreement) == (5, 0.8)
    assert result.kappa == pytest.approx(0.32 / 0.52)
    assert result.confusion == {"true_right": 2, "false_right": 1, "false_wrong": 0, "true_wrong": 2}


def label_row(answer: str, label: str, **extra: Any) -> dict[str, Any]:
    article = ARTICLES["card_delivery_estimate"]
    row = {
        "question": "How long does card delivery take?",
        "expected_article": article.id,
        "reference": article.gold_answer,
        "answer": answer,
        "cited": [article.id],
        "label": label,
        "labeller_note": "",
    }
    return row | extra


def test_report_over_a_labels_file(tmp_path: Path) -> None:
    rows = [
        label_row("Standard delivery takes 5–7 working days [1].", "right", model="base"),
        label_row("It takes 5-6 hours [1].", "wrong", model="base"),
        label_row("Delivery is quick [1].", "right", labeller_note="lenient", model="v2"),
        label_row("It takes 5–7 working days [1].", "wrong", abstained=True, model="v2"),
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = report(read_labels(path), demo_article_texts())
    assert (result["n"], result["agreement"]) == (4, 0.75)
    assert result["confusion"] == {"true_right": 1, "false_right": 0, "false_wrong": 1, "true_wrong": 2}
    assert result["by_model"]["base"]["agreement"] == 1.0 and result["by_model"]["v2"]["agreement"] == 0.5
    [miss] = result["disagreements"]
    assert (miss["answer"], miss["reason"], miss["labeller_note"]) == (
        "Delivery is quick [1].",
        "missing_fact",
        "lenient",
    )


def test_bad_labels_files_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(label_row("x", "maybe")) + "\n", encoding="utf-8")
    with pytest.raises(BadLabels, match=r"labels.jsonl:1: label must be right or wrong"):
        read_labels(path)
    path.write_text("\n" + json.dumps({"question": "q"}) + "\n", encoding="utf-8")
    with pytest.raises(BadLabels, match=r"labels.jsonl:2: missing expected_article, reference"):
        read_labels(path)


def test_judge_agrees_with_the_hand_labels() -> None:
    rows = read_labels(LABELS) if LABELS.is_file() else []
    if len(rows) < MIN_LABELS:
        pytest.skip(f"{LABELS.name} holds {len(rows)} hand-labelled answers; the agreement check needs {MIN_LABELS}")
    result = report(rows, demo_article_texts())
    assert {r.label for r in rows} == {"right", "wrong"}
    assert result["agreement"] >= 0.90, json.dumps(result["disagreements"][:10], indent=1, ensure_ascii=False)
    # Both kinds of answer the judge scores in the loop: the base model's and an adapter's.
    by_model = result["by_model"]
    assert "base" in by_model and any(model != "base" for model in by_model)
    for model, part in by_model.items():
        assert part["agreement"] >= 0.90, f"{model}: {part['agreement']:.3f} over {part['n']} answers"
