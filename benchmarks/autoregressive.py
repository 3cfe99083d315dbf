"""nfcourse's MAF and IAF against the same architecture in zuko: test NLL and speed (a benchmark, not a test).

    pip install -e ".[benchmark]"        # adds zuko
    python -m benchmarks.autoregressive [--steps 2000] [--datasets moons eight_gaussians] [--models ...]
                                        [--seeds 0 1 2 3] [--threads 1] [--quick]

Every model is trained by maximum likelihood with the same loop (`nfcourse.training.fit`, zuko's flows go
through a thin adapter), on the same standardized 2-D data, with the same budget (steps, batch size, Adam
learning rate, cosine schedule), the same seed (the same initial random state and the same batches) and
the same number of CPU threads. One table per data set, one row per model:

- test NLL: nats per 2-D point (total, not per dimension) on the test split (N points, at least 2,000); the data
  set's oracle NLL (its true density on the same points, an estimate of its entropy, with its standard
  error) is printed above the table, and "- oracle" is the model's gap to it;
- step: one training step on a batch (forward, backward, Adam), timed after training on a copy of the
  trained model, the fastest of `--repeats` steps;
- sample / log_prob: time to draw N samples / evaluate the density of N test points, the fastest of
  `--repeats` calls (`nfcourse.timing.seconds_per_call`, `--threads` threads, no gradients);
- for all three the models take turns for `--rounds` rounds and each keeps its best round, so that no
  model is favoured by its place in the table (the first model trained runs on a colder machine);
- loop CPU: the training loop's CPU time divided by the number of steps (drawing the batches included),
  from the one training run, so it depends more on the row's place and on other programs.

The IAF is trained by maximum likelihood too, with the same budget: its density is the slow direction
(D sequential conditioner passes per layer instead of one), which is the point of the comparison.

How closely the architectures match (5 layers, MADE with 2 x 64 hidden units and ReLU, shift and
log-scale per coordinate, the order reversed between layers; identical parameter counts):

1. Order between layers: nfcourse inserts an explicit `reverse` permutation bijector between layers;
   zuko's `MAF` instead builds every other MADE with the reversed input order. Same function class.
2. Log-scale bound: nfcourse uses 5 tanh(a / 5), a scale in (e^-5, e^5); zuko uses
   a / (1 + |a| / ln 1000), a scale in (1e-3, 1e3).
3. Initialization: nfcourse zeroes MADE's last layer, so every layer starts as the identity; zuko keeps
   PyTorch's default random initialization of that layer. The row "nfcourse MAF, random start"
   (`zero_last_layer=False`) starts like zuko, which separates the implementation from this choice.
4. IAF: zuko has no IAF class; the IAF is `zuko.flows.Flow(maf.transform.inv, maf.base)`, the pattern
   zuko's maintainers recommend, i.e. the MAF above with its directions swapped, as nfcourse's
   `iaf = Invert(maf)`. Its density costs D + 1 conditioner calls per layer (the D-pass recursion, then
   one more for the log-determinant); nfcourse's costs D (the last pass also gives the log-scales).
5. Masked weights still count as parameters in both libraries; "unmasked" counts only the weights
   the masks let through (plus biases), the number that actually takes part.

Other programs running on the machine at the same time move the timings: compare models within one run,
and rerun when two numbers are close.

One seed draws the data set, the initialization and the batches. With several `--seeds` every seed gets its
own tables, and a last table gives each model's gap to the oracle and its step time averaged over the
seeds, with standard errors: one seed's NLL moves by a few hundredths of a nat, as much as two libraries
differ.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nfcourse.bijectors import iaf, maf
from nfcourse.datasets import Dataset, load
from nfcourse.flow import Flow
from nfcourse.runtime import seed_everything
from nfcourse.timing import seconds_per_call
from nfcourse.training import cosine_schedule, evaluate_nll, fit

try:
    import zuko
except ImportError:  # the nfcourse rows still run; the zuko rows say how to get it
    zuko = None

DIM = 2


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


def nfcourse_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def nfcourse_maf_random_start(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed, zero_last_layer=False), DIM)


def nfcourse_iaf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(iaf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def zuko_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return ZukoFlow(zuko.flows.MAF(DIM, transforms=layers, hidden_features=hidden), DIM)


def zuko_iaf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    flow = zuko.flows.MAF(DIM, transforms=layers, hidden_features=hidden)
    return ZukoFlow(zuko.flows.Flow(flow.transform.inv, flow.base), DIM)


MODELS: dict[str, Callable[[int, tuple[int, ...], int], nn.Module]] = {
    "nfcourse MAF": nfcourse_maf,
    "nfcourse MAF, random start": nfcourse_maf_random_start,
    "zuko MAF": zuko_maf,
    "nfcourse IAF": nfcourse_iaf,
    "zuko IAF": zuko_iaf,
}


@dataclass
class Row:
    model: str
    flow: nn.Module
    parameters: int
    unmasked: int
    nll: float  # nats per point on the test split
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
        if isinstance(mask, torch.Tensor) and isinstance(getattr(module, "weight", None), nn.Parameter):
            unmasked -= module.weight.numel() - int((mask != 0).sum())
    return total, unmasked


def warm_up(names: list[str], data: Dataset, args: argparse.Namespace, seed: int) -> None:
    """A few untimed steps and calls of every model, before anything is timed.

    The process's first training pays one-time costs (lazy initialization inside PyTorch, about a
    second) that would otherwise land on the first row's step time.
    """
    for name in names:
        model = MODELS[name](args.layers, tuple(args.hidden), seed)
        fit(model, data.train, steps=5, batch_size=args.batch_size, lr=args.lr, seed=seed, progress=False)
        model.eval()
        seconds_per_call(lambda model=model: (model.sample(100), model.log_prob(data.test[:100])), repeats=1)


def train(name: str, data: Dataset, args: argparse.Namespace, seed: int) -> Row:
    """Build `name` from the seed, train it with the shared budget, and score it on the test split."""
    seed_everything(seed)
    model = MODELS[name](args.layers, tuple(args.hidden), seed)
    parameters, unmasked = parameter_counts(model)
    cpu = time.process_time()
    fit(
        model,  # a Flow, or a ZukoFlow with the same interface
        data.train,
        None,  # no evaluation inside the timed loop
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule=cosine_schedule(args.steps),
        seed=seed,
        progress=False,
    )
    cpu = time.process_time() - cpu
    model.eval()
    return Row(
        model=name,
        flow=model,
        parameters=parameters,
        unmasked=unmasked,
        nll=evaluate_nll(model, data.test).total,
        loop_cpu=cpu / args.steps,
    )


def training_step(flow: nn.Module, batch: torch.Tensor, lr: float) -> Callable[[], None]:
    """A call that does one maximum-likelihood step of Adam on `batch`, for `seconds_per_call`."""
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
    best round is the one least disturbed.
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


def mean_and_error(values: list[float], digits: int) -> str:
    """`mean ± standard error` of the values, with `digits` decimals."""
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values) / math.sqrt(len(values)):.{digits}f}"


def print_over_seeds(results: dict[tuple[str, str], list[Row]], oracles: dict[tuple[str, int], float]) -> None:
    """Per data set and model, over the seeds: the gap to the oracle (each seed's and the mean) and the step time."""
    print("\nover the seeds: test NLL - oracle (nats, smaller is better) and one training step (ms)")
    print("| data set | model | NLL - oracle, mean ± s.e. | per seed | step (ms), mean ± s.e. |")
    print("|---|---|---:|---|---:|")
    for (dataset, model), rows in results.items():
        gaps = [row.nll - oracles[dataset, seed] for seed, row in enumerate(rows)]
        per_seed = ", ".join(f"{gap:+.3f}" for gap in gaps)
        steps = [row.step * 1e3 for row in rows]
        print(f"| {dataset} | {model} | {mean_and_error(gaps, 3)} | {per_seed} | {mean_and_error(steps, 2)} |")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--steps", type=int, default=2000, help="training steps per model")
    options.add_argument("--batch-size", type=int, default=256)
    options.add_argument("--lr", type=float, default=2e-3, help="Adam's start value, cosine decay to 0")
    options.add_argument("--layers", type=int, default=5)
    options.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="MADE hidden sizes")
    options.add_argument("--datasets", nargs="+", default=["moons", "eight_gaussians"], help="nfcourse.datasets names")
    options.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="rows to run")
    options.add_argument("--n", type=int, default=10_000, help="samples drawn / points evaluated when timing")
    options.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (the fastest counts)")
    options.add_argument("--rounds", type=int, default=3, help="measurements per model, taking turns (best)")
    options.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for every model")
    options.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed, then their mean")
    options.add_argument("--quick", action="store_true", help="a smoke run: 50 steps, 1,000 points, 1 round")
    args = options.parse_args()
    if args.quick:
        args.steps, args.n, args.repeats, args.rounds = min(args.steps, 50), min(args.n, 1_000), 2, 1
    torch.set_num_threads(args.threads)
    names = [name for name in args.models if zuko is not None or not name.startswith("zuko")]
    version = zuko.__version__ if zuko is not None else 'not installed: pip install -e ".[benchmark]"'
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s) of {os.cpu_count()} CPUs), zuko {version}")
    print(
        f"{args.layers} layers of MADE {'x'.join(map(str, args.hidden))} (ReLU), {args.steps} steps, "
        f"batch {args.batch_size}, Adam lr {args.lr:g} with cosine decay, seeds {', '.join(map(str, args.seeds))}"
    )
    start = time.perf_counter()
    results: dict[tuple[str, str], list[Row]] = {}  # (data set, model): one row per seed
    oracles: dict[tuple[str, int], float] = {}  # (data set, seed's position): oracle NLL
    warm_up(names, load(args.datasets[0], n_train=1_000, n_test=100), args, seed=0)
    for number, seed in enumerate(args.seeds):
        for name in args.datasets:
            data = load(name, n_train=10_000, n_test=max(args.n, 2_000), seed=seed)
            rows = [train(model, data, args, seed) for model in names]
            time_calls(rows, data, args)
            oracles[name, number] = data.oracle_nll()
            print_table(f"{name}, seed {seed}", data, oracles[name, number], rows, args)
            for row in rows:
                results.setdefault((name, row.model), []).append(row)
    if len(args.seeds) > 1:
        print_over_seeds(results, oracles)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s; the module docstring says where the models differ")


if __name__ == "__main__":
    main()
