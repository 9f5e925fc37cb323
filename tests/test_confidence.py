"""Confidence: components, the weighted score, calibrations, and reading the active calibration row."""

from __future__ import annotations

import math
from typing import Any

import pytest

from chatbot.confidence import (
    ConfidenceParams,
    apply_calibration,
    combine,
    confidence_components,
    raw_score,
    read_active_calibration,
    retrieval_certainty,
)

HALF, QUARTER = math.log(0.5), math.log(0.25)


def test_components_by_hand() -> None:
    c = confidence_components([HALF, QUARTER], [0.5, 0.8, 0.3])
    assert c["mean_token_prob"] == pytest.approx(0.375)  # (0.5 + 0.25) / 2
    assert c["min_token_prob"] == pytest.approx(0.25)
    assert c["seq_prob_norm"] == pytest.approx(math.sqrt(0.125))  # geometric mean of 0.5 and 0.25
    assert c["top_score"] == pytest.approx(0.8)
    assert c["margin"] == pytest.approx(0.3)  # 0.8 - 0.5, whatever order the scores come in
    assert c["rank_margin"] == pytest.approx(0.375)  # no ranking scores: the scores rank, (0.8 - 0.5) / 0.8
    assert c["n_tokens"] == 2


def test_retrieval_certainty_is_the_retrieval_part_of_the_weighted_mean() -> None:
    c = {"mean_token_prob": 0.9, "seq_prob_norm": 0.9, "top_score": 0.8, "margin": 0.3, "rank_margin": 0.4}
    # (0.20 * 0.8 + 0.10 * 0.3 + 0.25 * 0.4) / 0.55 = 0.29 / 0.55: the model's token parts play no part
    assert retrieval_certainty(c) == pytest.approx(0.29 / 0.55)
    assert retrieval_certainty(c, {"top_score": 1.0, "margin": 1.0}) == pytest.approx(0.55)
    assert retrieval_certainty(c, {"mean_token_prob": 1.0}) == pytest.approx(0.8)  # no retrieval weight: top score


def test_rank_margin_reads_the_ranking_not_the_evidence() -> None:
    # two articles equally close to the question (evidence 0.9 vs 0.85) that the example vote split clearly
    c = confidence_components([], [0.9, 0.85, 0.4], [0.6, 0.15, 0.1])
    assert c["margin"] == pytest.approx(0.05)
    assert c["rank_margin"] == pytest.approx(0.75)  # (0.6 - 0.15) / 0.6
    assert confidence_components([], [0.7], [0.4])["rank_margin"] == 1.0  # one candidate: nothing competes
    assert confidence_components([], [0.7, 0.2], [0.0, 0.0])["rank_margin"] == 0.0


def test_components_without_generation_or_sources() -> None:
    c = confidence_components([], [])
    assert c == {
        "mean_token_prob": 0.0,
        "min_token_prob": 0.0,
        "seq_prob_norm": 0.0,
        "top_score": 0.0,
        "margin": 0.0,
        "rank_margin": 0.0,
        "n_tokens": 0.0,
    }
    assert combine(c) == 0.0
    assert confidence_components([], [0.7])["margin"] == pytest.approx(0.7)  # a single source: margin over nothing


def test_raw_score_is_the_weighted_mean() -> None:
    c = confidence_components([HALF, QUARTER], [0.5, 0.8, 0.3])
    # 0.15*0.375 + 0.05*0.25 + 0.25*0.353553 + 0.20*0.8 + 0.10*0.3 + 0.25*0.375
    assert raw_score(c) == pytest.approx(0.05625 + 0.0125 + 0.0883883 + 0.16 + 0.03 + 0.09375, abs=1e-6)
    assert raw_score(c, {"top_score": 1.0}) == pytest.approx(0.8)
    assert raw_score(c, {"top_score": 2.0, "margin": 2.0}) == pytest.approx(0.55)
    with pytest.raises(ValueError):
        raw_score(c, {"top_score": 0.0})


def test_calibrations_by_hand() -> None:
    raw = 0.6
    assert apply_calibration(raw, None, {}) == 0.6
    assert apply_calibration(raw, "platt", {"a": 2.0, "b": -1.0}) == pytest.approx(1 / (1 + math.exp(-0.2)))
    # logit(0.6) = ln 1.5; halved, then back: sqrt(1.5) / (1 + sqrt(1.5))
    assert apply_calibration(raw, "temperature", {"temperature": 2.0}) == pytest.approx(
        math.sqrt(1.5) / (1 + math.sqrt(1.5))
    )
    iso = {"x": [0.0, 0.5, 1.0], "y": [0.1, 0.3, 0.9]}
    assert apply_calibration(raw, "isotonic", iso) == pytest.approx(0.3 + 0.6 * 0.2)
    assert apply_calibration(-1.0, "isotonic", iso) == pytest.approx(0.1)  # flat outside the fitted range
    assert apply_calibration(0.25, "isotonic", iso) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        apply_calibration(raw, "magic", {})
    with pytest.raises(ValueError):
        apply_calibration(raw, "temperature", {"temperature": 0})


def test_combine_uses_the_calibration_and_its_weights() -> None:
    c = confidence_components([HALF], [0.9, 0.1])
    params = ConfidenceParams.from_calibration("platt", {"a": 4.0, "b": -2.0, "weights": {"top_score": 1.0}})
    assert combine(c, params) == pytest.approx(1 / (1 + math.exp(-(4 * 0.9 - 2))))
    assert 0.0 <= combine(c) <= 1.0
    with pytest.raises(ValueError):
        ConfidenceParams.from_calibration("bogus", {})


def test_more_certain_model_and_better_retrieval_score_higher() -> None:
    sure = combine(confidence_components([-0.05] * 10, [0.8, 0.3]))
    unsure = combine(confidence_components([-1.5] * 10, [0.8, 0.3]))
    weak_retrieval = combine(confidence_components([-0.05] * 10, [0.35, 0.33]))
    assert sure > unsure
    assert sure > weak_retrieval


def test_reads_the_newest_active_calibration(migrated_engine: Any) -> None:
    from datetime import timedelta

    from sqlmodel import Session

    from chatbot.db.models import Calibration, utcnow

    with Session(migrated_engine) as session:
        assert read_active_calibration(session) == ConfidenceParams()
        now = utcnow()
        session.add(Calibration(method="platt", params={"a": 1.0, "b": 0.0}, created_at=now - timedelta(days=2)))
        session.add(Calibration(method="temperature", params={"temperature": 1.5}, created_at=now - timedelta(days=1)))
        session.add(Calibration(method="isotonic", params={"x": [0, 1], "y": [0, 1]}, active=False, created_at=now))
        session.commit()
        params = read_active_calibration(session)
    assert params.method == "temperature"
    assert params.params["temperature"] == 1.5


def test_the_production_bundle_names_its_calibration_and_threshold(migrated_engine: Any) -> None:
    from sqlmodel import Session

    from chatbot.db.models import Calibration, ModelStatus, ModelVersion, utcnow

    with Session(migrated_engine) as session:
        session.add(Calibration(method="temperature", params={"temperature": 1.5}))  # bankbot eval's active fit
        own = Calibration(method="platt", params={"a": 2.0, "b": -1.0}, active=False)
        session.add(own)
        session.flush()
        legacy = ModelVersion(version="v1", base_model="b", status=ModelStatus.retired)
        bundle = ModelVersion(
            version="v2",
            base_model="b",
            status=ModelStatus.production,
            promoted_at=utcnow(),
            calibration_id=own.id,
            abstain_threshold=0.62,
        )
        session.add_all([legacy, bundle])
        session.commit()
        served = read_active_calibration(session)
        assert (served.method, served.params["a"], served.abstain_below(0.35)) == ("platt", 2.0, 0.62)
        # a bundle from before calibrations were part of bundles reads the active row; no threshold of its own
        bundle.status = ModelStatus.retired
        session.add(bundle)
        session.flush()  # retired first: the database allows one production bundle at a time
        legacy.status = ModelStatus.production
        session.add(legacy)
        session.commit()
        served = read_active_calibration(session)
        assert (served.method, served.abstain_below(0.35)) == ("temperature", 0.35)
