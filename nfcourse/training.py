r"""Maximum-likelihood training of a flow: a short loop you can read in one sitting.

Each step draws a batch of training points and takes one Adam step on the mean negative
log-likelihood $-\frac1B\sum_b \log p(x_b)$. Every `eval_every` steps the held-out NLL is
recorded. All NLLs are in nats; the history keeps them *per dimension* so lessons with
different D can be compared (total = per dimension x D).

Lessons: 00 onwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from nfcourse.datasets import Dataset
from nfcourse.flow import Flow
from nfcourse.i18n import _
from nfcourse.runtime import device as default_device
from nfcourse.validation import check_points, check_positive_int

SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the message says at which step and what to try."""


@dataclass(frozen=True)
class NLL:
    """A negative log-likelihood in nats: per sample (`total`) and per dimension (`per_dim`)."""

    total: float
    per_dim: float

    def __str__(self) -> str:
        return _("{total:.3f} nats ({per_dim:.3f} per dimension)").format(total=self.total, per_dim=self.per_dim)


@dataclass
class History:
    """What `fit` recorded: the training NLL every `log_every` steps and the test NLL every `eval_every`."""

    steps: list[int] = field(default_factory=list)
    train_nll: list[float] = field(default_factory=list)  # nats per dimension, mean over the logged steps
    eval_steps: list[int] = field(default_factory=list)
    test_nll: list[float] = field(default_factory=list)  # nats per dimension
    seconds: float = 0.0


@torch.no_grad()
def evaluate_nll(flow: Flow, x: torch.Tensor, batch_size: int = 8192) -> NLL:
    r"""$-\frac1N \sum_n \log p(x_n)$ over all of `x`, in batches, with the flow in eval mode."""
    check_points(x, flow.dim, "x", finite=True)
    was_training = flow.training
    flow.eval()
    where = next(flow.parameters(), x).device
    total = sum(-flow.log_prob(batch.to(where)).sum().item() for batch in x.split(batch_size)) / len(x)
    flow.train(was_training)
    return NLL(total=total, per_dim=total / flow.dim)


def evaluate_oracle(data: Dataset) -> NLL:
    r"""The test NLL of the data's true density, $-\frac1N \sum_n \log p(x_n)$ over `data.test`: the best
    test NLL any model can reach (an estimate of the data's entropy), as an `NLL` to print beside a model's."""
    total = data.oracle_nll()
    return NLL(total=total, per_dim=total / data.test.shape[1])


def progress_bar(steps: int, description: str, show: bool) -> tqdm:
    """The steps 1..`steps` with a progress bar (in a notebook, its widget) that vanishes when done.

    The bar redraws at most once a second: each redraw is a message from the notebook's kernel, and a
    cell that trains for minutes would otherwise send thousands, more than a front end (or nbval) keeps.
    """
    return tqdm(range(1, steps + 1), desc=description, disable=not show, leave=False, mininterval=1.0)


def cosine_schedule(steps: int) -> SchedulerFactory:
    """A learning rate that decays from its start value to 0 along a half cosine over `steps` steps."""
    return lambda optimizer: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)


def fit(
    flow: Flow,
    train: torch.Tensor,
    test: torch.Tensor | None = None,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    schedule: SchedulerFactory | None = None,
    clip_grad_norm: float | None = None,
    eval_every: int = 250,
    log_every: int = 25,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = True,
    callback: Callable[[int, History], None] | None = None,
) -> History:
    """Train `flow` by maximum likelihood on the rows of `train`; return the `History`.

    The flow is moved to `device` (default: `nfcourse.runtime.device()`), batches are drawn with
    replacement by a generator seeded with `seed`, and a non-finite loss raises `NonFiniteLossError`.
    `callback(step, history)`, if given, runs after every `log_every` steps and after the last one, once the
    history holds them (lesson 08's widgets redraw the density there); the flow is in training mode.
    """
    check_points(train, flow.dim, "train", finite=True)
    if test is not None:
        check_points(test, flow.dim, "test", finite=True)
    counts = {"steps": steps, "batch_size": batch_size, "eval_every": eval_every, "log_every": log_every}
    for name, value in counts.items():
        check_positive_int(value, name)
    where = torch.device(device) if device is not None else default_device()
    flow.to(where).train()
    train = train.to(where)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(flow.parameters(), lr=lr)
    scheduler = schedule(optimizer) if schedule is not None else None
    history, window = History(), []
    start = time.perf_counter()
    bar = progress_bar(steps, _("training"), progress)
    for step in bar:
        batch = train[torch.randint(len(train), (batch_size,), generator=generator).to(where)]
        loss = -flow.log_prob(batch).mean()
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                _(
                    "Training stopped at step {step}: the loss became {loss}. Try a lower learning rate "
                    "(now {lr:g}), gradient clipping (clip_grad_norm=1.0), or a tighter bound on the log-scales."
                ).format(step=step, loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(flow.parameters(), clip_grad_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        window.append(loss.item() / flow.dim)
        if step % log_every == 0 or step == steps:
            history.steps.append(step)
            history.train_nll.append(sum(window) / len(window))
            bar.set_postfix_str(_("NLL {nll:.3f} per dimension").format(nll=history.train_nll[-1]))
            window = []
        if test is not None and (step % eval_every == 0 or step == steps):
            history.eval_steps.append(step)
            history.test_nll.append(evaluate_nll(flow, test).per_dim)
        if callback is not None and (step % log_every == 0 or step == steps):
            callback(step, history)
    history.seconds = time.perf_counter() - start
    return history
