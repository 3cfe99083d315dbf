"""What the side-by-side benchmarks (`benchmarks.autoregressive`, `benchmarks.coupling`) share.

A benchmark is a table of models, `{name: build(layers, hidden, seed) -> model}`; every model has nfcourse's
`Flow` interface (`dim`, `log_prob(x)`, `sample(n)`), other libraries' flows behind a thin adapter. This
module trains each model with the same loop, data, budget and seed, times it in turns, and prints the
tables; the benchmarks' docstrings say what the columns mean and where their models differ.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nfcourse.datasets import Dataset, load
from nfcourse.runtime import seed_everything
from nfcourse.stats import mean_and_error
from nfcourse.timing import seconds_per_call
from nfcourse.training import NonFiniteLossError, cosine_schedule, evaluate_nll, fit

ModelFactory = Callable[[int, tuple[int, ...], int], nn.Module]


class ZukoFlow(nn.Module):
    """A zuko flow behind nfcourse's `Flow` interface (`dim`, `log_prob`, `sample`), so `fit` can train it."""

    def __init__(self, flow: nn.Module, dim: int) -> None:
        super().__init__()
        self.flow = flow
        self.dim = dim

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow().log_prob(x)

    def sample(self, n: int) -> torch.Tensor:
        return self.flow().sample((n,))


class PeerFlow(nn.Module):
    """A normflows or nflows flow behind nfcourse's `Flow` interface.

    Both have `log_prob(x)` and `sample(n)`; normflows' `sample` also returns the samples' log-density,
    which is dropped.
    """

    def __init__(self, flow: nn.Module, dim: int) -> None:
        super().__init__()
        self.flow = flow
        self.dim = dim

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(x)

    def sample(self, n: int) -> torch.Tensor:
        samples = self.flow.sample(n)
        return samples[0] if isinstance(samples, tuple) else samples


@dataclass
class Row:
    model: str
    flow: nn.Module
    parameters: int
    unmasked: int
    nll: float  # nats per point on the test split (NaN when training stopped on a non-finite loss)
    loop_cpu: float  # this process's CPU seconds per step of the training loop
    step: float = math.inf  # seconds per training step, the best round
    sample: float = math.inf  # seconds for n samples, the best round
    density: float = math.inf  # seconds for log_prob of n points, the best round


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """All parameters, and those a MADE mask lets through (a masked weight counts only where its mask is 1)."""
    total = sum(p.numel() for p in model.parameters())
    unmasked = total
    for module in model.modules():
        mask = getattr(module, "mask", None)
        weight = getattr(module, "weight", None)
        if isinstance(mask, torch.Tensor) and isinstance(weight, nn.Parameter) and mask.shape == weight.shape:
            unmasked -= weight.numel() - int((mask != 0).sum())
    return total, unmasked


def warm_up(models: dict[str, ModelFactory], names: list[str], data: Dataset, args: argparse.Namespace) -> None:
    """A few untimed steps and calls of every model, before anything is timed.

    The process's first training pays one-time costs (lazy initialization inside PyTorch, about a
    second) that would otherwise land on the first row's step time.
    """
    for name in names:
        model = models[name](args.layers, tuple(args.hidden), 0)
        with contextlib.suppress(NonFiniteLossError):  # train() reports it, when it happens again
            fit(model, data.train, steps=5, batch_size=args.batch_size, lr=args.lr, seed=0, progress=False)
        model.eval()
        seconds_per_call(lambda model=model: (model.sample(100), model.log_prob(data.test[:100])), repeats=1)


def train(models: dict[str, ModelFactory], name: str, data: Dataset, args: argparse.Namespace, seed: int) -> Row:
    """Build `name` from the seed, train it with the shared budget, and score it on the test split.

    A model whose loss turns non-finite keeps its row, with a NaN test NLL, and the run goes on.
    """
    seed_everything(seed)
    model = models[name](args.layers, tuple(args.hidden), seed)
    parameters, unmasked = parameter_counts(model)
    cpu = time.process_time()
    try:
        fit(
            model,  # a Flow, or an adapter with the same interface
            data.train,
            None,  # no evaluation inside the timed loop
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            schedule=cosine_schedule(args.steps),
            seed=seed,
            progress=False,
        )
        stopped = None
    except NonFiniteLossError as error:
        stopped = error
    cpu = time.process_time() - cpu
    model.eval()
    if stopped is None:
        nll = evaluate_nll(model, data.test).total
    else:
        print(f"{name}, {data.name}, seed {seed}: {stopped}")
        nll = math.nan
    return Row(model=name, flow=model, parameters=parameters, unmasked=unmasked, nll=nll, loop_cpu=cpu / args.steps)


def training_step(flow: nn.Module, batch: torch.Tensor, lr: float) -> Callable[[], None]:
    """A call that does one maximum-likelihood step of Adam on `batch`, for `seconds_per_call`.

    The flow is put in training mode, as in `fit`: a BatchNorm layer then uses the batch's statistics.
    """
    flow.train()
    optimizer = torch.optim.Adam(flow.parameters(), lr=lr)

    def step() -> None:
        with torch.enable_grad():  # seconds_per_call turns gradients off; a training step needs them
            optimizer.zero_grad()
            (-flow.log_prob(batch).mean()).backward()
            optimizer.step()

    return step


def time_calls(rows: list[Row], data: Dataset, args: argparse.Namespace) -> None:
    """Step, sampling and density times, the models taking turns for `rounds` rounds; each keeps its best round.

    Taking turns spreads a burst of load from other programs over all models instead of one, and the
    best round is the one least disturbed. Sampling and density are timed in eval mode.
    """
    points = data.test[: args.n]
    batch = data.train[: args.batch_size]
    steps = [training_step(copy.deepcopy(row.flow), batch, args.lr) for row in rows]  # the trained flows stay
    for _round in range(args.rounds):
        for row, step in zip(rows, steps, strict=True):
            flow = row.flow
            row.step = min(row.step, seconds_per_call(step, repeats=args.repeats, threads=args.threads))
            sample = seconds_per_call(
                lambda flow=flow: flow.sample(len(points)), repeats=args.repeats, threads=args.threads
            )
            density = seconds_per_call(
                lambda flow=flow: flow.log_prob(points), repeats=args.repeats, threads=args.threads
            )
            row.sample, row.density = min(row.sample, sample), min(row.density, density)


def print_table(title: str, data: Dataset, oracle: float, rows: list[Row], args: argparse.Namespace) -> None:
    print(
        f"\n{title}: {len(data.train)} training points, {len(data.test)} test points; oracle NLL "
        f"{oracle:.3f} ± {data.oracle_nll_standard_error():.3f} nats"
    )
    print(
        f"| model | parameters (unmasked) | test NLL (nats) | - oracle | step (ms) | loop CPU (ms) "
        f"| sample {args.n:,} (ms) | log_prob {args.n:,} (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.model} | {row.parameters:,} ({row.unmasked:,}) | {row.nll:.3f} | {row.nll - oracle:+.3f} "
            f"| {row.step * 1e3:.2f} | {row.loop_cpu * 1e3:.2f} | {row.sample * 1e3:.1f} "
            f"| {row.density * 1e3:.1f} |"
        )


def format_mean_and_error(values: list[float], digits: int) -> str:
    """`mean ± standard error` of the values, with `digits` decimals (the mean alone if one is not finite)."""
    if not all(math.isfinite(value) for value in values):
        stopped = sum(not math.isfinite(value) for value in values)
        return f"{statistics.fmean(values)} (not finite for {stopped} of {len(values)})"
    mean, error = mean_and_error(values)
    return f"{mean:.{digits}f} ± {error:.{digits}f}"


def print_over_seeds(
    results: dict[tuple[str, str], list[Row]],
    oracles: dict[tuple[str, int], float],
    calls: bool = False,
    n: int = 0,
) -> None:
    """Per data set and model, over the seeds: the gap to the oracle (each seed's and the mean) and the step time.

    With `calls`, also the time to sample `n` points and to evaluate the density of `n` points.
    """
    print("\nover the seeds: test NLL - oracle (nats, smaller is better) and one training step (ms)")
    if calls:
        print(
            f"| data set | model | NLL - oracle, mean ± s.e. | per seed | step (ms), mean ± s.e. "
            f"| sample {n:,} (ms) | log_prob {n:,} (ms) |"
        )
        print("|---|---|---:|---|---:|---:|---:|")
    else:
        print("| data set | model | NLL - oracle, mean ± s.e. | per seed | step (ms), mean ± s.e. |")
        print("|---|---|---:|---|---:|")
    for (dataset, model), rows in results.items():
        gaps = [row.nll - oracles[dataset, seed] for seed, row in enumerate(rows)]
        per_seed = ", ".join(f"{gap:+.3f}" for gap in gaps)
        steps = [row.step * 1e3 for row in rows]
        gap, step = format_mean_and_error(gaps, 3), format_mean_and_error(steps, 2)
        line = f"| {dataset} | {model} | {gap} | {per_seed} | {step} |"
        if calls:
            samples = format_mean_and_error([row.sample * 1e3 for row in rows], 1)
            densities = format_mean_and_error([row.density * 1e3 for row in rows], 1)
            line += f" {samples} | {densities} |"
        print(line)


def add_options(
    options: argparse.ArgumentParser, models: Sequence[str], datasets: Sequence[str], default_models: Sequence[str]
) -> None:
    """The options every side-by-side benchmark takes (budget, architecture, data sets, models, timing, seeds)."""
    options.add_argument("--steps", type=int, default=2000, help="training steps per model")
    options.add_argument("--batch-size", type=int, default=256)
    options.add_argument("--lr", type=float, default=2e-3, help="Adam's start value, cosine decay to 0")
    options.add_argument("--layers", type=int, default=5)
    options.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="hidden sizes of every network")
    options.add_argument("--datasets", nargs="+", default=list(datasets), help="nfcourse.datasets names")
    options.add_argument("--models", nargs="+", default=list(default_models), choices=list(models), help="rows to run")
    options.add_argument("--n", type=int, default=10_000, help="samples drawn / points evaluated when timing")
    options.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (the fastest counts)")
    options.add_argument("--rounds", type=int, default=3, help="measurements per model, taking turns (best)")
    options.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for every model")
    options.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed, then their mean")
    options.add_argument("--quick", action="store_true", help="a smoke run: 50 steps, 1,000 points, 1 round")


def apply_quick(args: argparse.Namespace) -> None:
    """`--quick`: at most 50 steps, 1,000 points timed, 2 repeats, 1 round."""
    if args.quick:
        args.steps, args.n, args.repeats, args.rounds = min(args.steps, 50), min(args.n, 1_000), 2, 1


def run(
    models: dict[str, ModelFactory], names: list[str], args: argparse.Namespace, calls_over_seeds: bool = False
) -> None:
    """Train, score and time every model on every data set and seed; print one table each, then the means."""
    start = time.perf_counter()
    results: dict[tuple[str, str], list[Row]] = {}  # (data set, model): one row per seed
    oracles: dict[tuple[str, int], float] = {}  # (data set, seed's position): oracle NLL
    warm_up(models, names, load(args.datasets[0], n_train=1_000, n_test=100), args)
    for number, seed in enumerate(args.seeds):
        for name in args.datasets:
            data = load(name, n_train=10_000, n_test=max(args.n, 2_000), seed=seed)
            rows = [train(models, model, data, args, seed) for model in names]
            time_calls(rows, data, args)
            oracles[name, number] = data.oracle_nll()
            print_table(f"{name}, seed {seed}", data, oracles[name, number], rows, args)
            for row in rows:
                results.setdefault((name, row.model), []).append(row)
    if len(args.seeds) > 1:
        print_over_seeds(results, oracles, calls_over_seeds, args.n)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s; the module docstring says where the models differ")
