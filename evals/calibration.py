"""Fit a confidence calibration (temperature, Platt or isotonic) and store it for the chat pipeline.

Stored params (``calibration`` table, read by ``chatbot.confidence.apply_calibration``):

- ``temperature``: ``{"temperature": T}``            -> sigmoid(logit(p) / T)
- ``platt``:       ``{"a": a, "b": b}``               -> sigmoid(a * p + b)
- ``isotonic``:    ``{"x": [...], "y": [...]}``       -> piecewise-linear interpolation through (x, y), clipped

``p`` is the pipeline's raw score (weighted mean of the confidence components, before any calibration). The
method is chosen by 5-fold cross-validated Brier score (fixed seed) and refitted on all items.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from evals.metrics import brier_score, expected_calibration_error

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

METHODS = ("temperature", "platt", "isotonic")
MIN_ITEMS = 20
_EPS = 1e-6


@dataclass(frozen=True)
class FittedCalibration:
    method: str
    params: dict[str, Any]
    cv_brier: dict[str, float] = field(default_factory=dict)  # method -> cross-validated Brier score


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(p / (1 - p)))


def apply_params(method: str, params: dict[str, Any], confidences: Sequence[float] | np.ndarray) -> np.ndarray:
    """Calibrated confidences, through the chat pipeline's own ``apply_calibration`` so both always agree."""
    from chatbot.confidence import apply_calibration

    return np.asarray([apply_calibration(float(p), method, params) for p in np.asarray(confidences, dtype=float)])


def fit_method(method: str, confidences: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    if method == "temperature":
        from scipy.optimize import minimize_scalar

        z = logit(confidences)

        def nll(log_t: float) -> float:
            q = np.clip(1 / (1 + np.exp(-z / math.exp(log_t))), _EPS, 1 - _EPS)
            return float(-np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q)))

        best = minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded")
        return {"temperature": float(math.exp(best.x))}
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e4).fit(confidences.reshape(-1, 1), labels.astype(int))
        return {"a": float(model.coef_[0][0]), "b": float(model.intercept_[0])}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(confidences, labels)
        return {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}
    raise ValueError(f"unknown calibration method {method!r}")


def fit_calibration(
    confidences: Sequence[float], labels: Sequence[bool | int], *, folds: int = 5, seed: int = 0
) -> FittedCalibration | None:
    """The method with the lowest cross-validated Brier score, refitted on everything; None when the data cannot
    support a fit (fewer than MIN_ITEMS items, or only right or only wrong answers)."""
    p = np.asarray(confidences, dtype=float)
    y = np.asarray(labels, dtype=float)
    if p.size < MIN_ITEMS or y.min() == y.max():
        return None
    from sklearn.model_selection import StratifiedKFold

    n_splits = int(min(folds, y.sum(), (1 - y).sum()))
    cv: dict[str, float] = {}
    for method in METHODS:
        if n_splits < 2:
            break
        predicted = np.empty_like(p)
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for train, test in splitter.split(p, y.astype(int)):
            predicted[test] = apply_params(method, fit_method(method, p[train], y[train]), p[test])
        cv[method] = brier_score(predicted.tolist(), y.tolist())
    method = min(cv, key=lambda m: cv[m]) if cv else "temperature"
    return FittedCalibration(method=method, params=fit_method(method, p, y), cv_brier=cv)


def calibrated_metrics(fit: FittedCalibration, confidences: Sequence[float], labels: Sequence[bool | int]) -> dict:
    """ECE and Brier after applying the fit (in-sample: an optimistic view; the CV Brier is the honest one)."""
    q = apply_params(fit.method, fit.params, confidences).tolist()
    return {"ece": expected_calibration_error(q, labels), "brier": brier_score(q, labels)}


def store_calibration(app: AppDatabase, fit: FittedCalibration, *, eval_run_id: uuid.UUID | None) -> uuid.UUID:
    """Insert the fit as the one active calibration, deactivating older rows in the same transaction."""
    from sqlmodel import select

    from chatbot.db.models import Calibration

    with app.session() as session:
        for row in session.exec(select(Calibration).where(Calibration.active == True)).all():  # noqa: E712
            row.active = False
            session.add(row)
        row = Calibration(method=fit.method, params=fit.params, eval_run_id=eval_run_id, active=True)
        session.add(row)
        session.commit()
        session.refresh(row)
        return row.id
