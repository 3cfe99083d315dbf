r"""Training curves: the negative log-likelihood per dimension on the training and the test data.

Both curves are in nats per dimension, $-\frac{1}{D}\,\mathbb{E}[\log p(x)]$. A horizontal reference
line can mark the best value any model can reach on average, the entropy of the data per dimension
$H(p_{\mathrm{data}})/D$: the gap between the test curve and that line is the KL divergence
$\mathrm{KL}(p_{\mathrm{data}} \,\|\, p)/D$ the model has left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nfcourse.i18n import _
from nfcourse.plotting.style import DATA_COLOR, PALETTE, new_figure


class TrainingHistory(Protocol):
    """What the training loop records (`nfcourse.training.History` is one): NLLs in nats per dimension."""

    @property
    def steps(self) -> Sequence[int]: ...
    @property
    def train_nll(self) -> Sequence[float]: ...
    @property
    def eval_steps(self) -> Sequence[int]: ...
    @property
    def test_nll(self) -> Sequence[float]: ...


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of `window` consecutive values: shape (len(values) - window + 1,)."""
    return np.convolve(values, np.ones(window) / window, mode="valid")


def robust_upper_limit(values: np.ndarray, quantile: float = 0.9, margin: float = 0.25) -> float:
    """An upper y-limit that ignores the first, very high losses of a training run.

    The top `1 - quantile` of the values (mostly the first steps) may leave the plot, so that the
    part of the curve where the models differ fills the height.
    """
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(np.quantile(finite, quantile))
    return high + margin * max(high - low, 0.05)


def plot_training_curves(
    history: TrainingHistory,
    *,
    reference: float | None = None,
    reference_label: str | None = None,
    smooth: int | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Training NLL (raw, faint, and a moving average over `smooth` records) and test NLL against the step.

    `reference`: an optional horizontal line, e.g. the entropy of the data per dimension, labelled
    `reference_label`. `smooth` defaults to about 4% of the records. Returns the figure.
    """
    steps, train = np.asarray(history.steps, dtype=float), np.asarray(history.train_nll, dtype=float)
    eval_steps, test = np.asarray(history.eval_steps, dtype=float), np.asarray(history.test_nll, dtype=float)
    if ax is None:
        _fig, axes = new_figure(width=6.0, height=3.6)
        ax = axes[0, 0]
    train_color, test_color = PALETTE[0], PALETTE[3]
    if len(train):
        window = min(len(train), smooth if smooth is not None else max(1, len(train) // 25))
        if window > 1:
            ax.plot(steps, train, color=train_color, alpha=0.3, linewidth=0.8)
        ax.plot(steps[window - 1 :], moving_average(train, window), color=train_color, label=_("training"))
    if len(test):
        ax.plot(eval_steps, test, color=test_color, marker="o", markersize=3.5, label=_("test"))
    if reference is not None:
        label = _("reference") if reference_label is None else reference_label
        ax.axhline(reference, color=DATA_COLOR, linestyle="--", linewidth=1.2, label=label)
    values = np.concatenate([train, test, [reference] if reference is not None else []])
    if np.isfinite(values).any():
        bottom = float(np.nanmin(np.where(np.isfinite(values), values, np.nan)))
        top = robust_upper_limit(values)
        ax.set_ylim(bottom - 0.05 * (top - bottom), top)
    ax.set_xlabel(_("training step") if xlabel is None else xlabel)
    ax.set_ylabel(_("NLL (nats per dimension)") if ylabel is None else ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    return ax.figure
