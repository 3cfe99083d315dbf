r"""One row of the comparison table: train a flow with `fit`, then score and time it the same way as every other.

test NLL minus entropy   $\mathrm{NLL}_{\text{test}} - H(p_{\text{data}})$ in nats, 0 for a perfect model
                         (`evaluate_oracle` gives the entropy's estimate on the same test points)
training step            the training time divided by the steps (`fit`'s clock, test evaluations included)
sampling, density        the fastest of a few calls of `sample(n)` and `log_prob(x)` on n points
                         (`seconds_per_call`: one thread, gradients off)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nfcourse.datasets import Dataset
from nfcourse.flow import Flow
from nfcourse.lab.flows import build_flow
from nfcourse.timing import seconds_per_call
from nfcourse.training import History, cosine_schedule, evaluate_nll, evaluate_oracle, fit

TIMED_POINTS = 10_000
TIMING_REPEATS = 3  # the fastest of 3 calls (a residual flow's sampling takes about a second each)


@dataclass(frozen=True)
class Measurement:
    """What `measure_flow` found for one flow on one data set."""

    name: str
    flow: Flow
    history: History
    nll_gap: float  # test NLL minus the data's entropy, nats
    step_ms: float  # milliseconds per training step
    sample_seconds: float  # seconds for TIMED_POINTS samples
    density_seconds: float  # seconds for the log-density of TIMED_POINTS points


def measure_flow(
    name: str,
    data: Dataset,
    *,
    depth: int,
    steps: int,
    lr: float = 2e-3,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = False,
) -> Measurement:
    """Build flow `name` (see `build_flow`), train it on `data.train` with a cosine schedule, and measure it."""
    flow = build_flow(name, data.train.shape[1], depth, seed=seed)
    history = fit(
        flow,
        data.train,
        data.test,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        schedule=cosine_schedule(steps),
        eval_every=steps,
        seed=seed,
        progress=progress,
    )
    flow = flow.cpu().eval()
    points = data.test.repeat(TIMED_POINTS // len(data.test) + 1, 1)[:TIMED_POINTS]
    with torch.no_grad():
        sample_seconds = seconds_per_call(lambda: flow.sample(TIMED_POINTS), repeats=TIMING_REPEATS)
        density_seconds = seconds_per_call(lambda: flow.log_prob(points), repeats=TIMING_REPEATS)
    return Measurement(
        name=name,
        flow=flow,
        history=history,
        nll_gap=evaluate_nll(flow, data.test).total - evaluate_oracle(data).total,
        step_ms=1e3 * history.seconds / steps,
        sample_seconds=sample_seconds,
        density_seconds=density_seconds,
    )
