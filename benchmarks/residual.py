"""nfcourse's Residual Flow and i-ResNet against normflows' Residual flow and two MAFs (a benchmark, not a test).

    pip install -e ".[benchmark]"        # adds zuko, normflows and nflows
    python -m benchmarks.residual [--steps 2000] [--datasets moons eight_gaussians] [--models ...]
                                  [--seeds 0 1 2 3] [--threads 1] [--quick]

The same loop, data, budget, seeds and tables as `benchmarks.autoregressive` and `benchmarks.coupling`
(`benchmarks.sidebyside` holds them): 5 blocks or layers, networks of 2 x 64 hidden units, 2,000 steps of
Adam (2e-3, cosine decay), batch 256. The last table gives, over the seeds, the gap to the oracle, the
training step, and the time to draw `--n` samples and to evaluate the density of `--n` test points; the
sampling and density calls are timed with fewer repeats than in the other benchmarks (`--repeats 2
--rounds 1` by default), because normflows' Residual flow takes seconds per call.

The rows:

- nfcourse Residual Flow: `residual_flow(2, blocks=5, hidden_sizes=(64, 64))`: LipSwish branches with
  spectral norm at most 0.97 per layer, ActNorm between blocks, training log-det by Russian roulette with
  the Neumann gradient, exact log-det in eval mode (2-D), fixed-point inverse to 1e-5 (at most 1,000 iterations).
- normflows Residual flow: the recipe of normflows' own example, per block
  `Residual(LipschitzMLP([2, 64, 64, 2], lipschitz_const=0.97, init_zeros=True), reduce_memory=True)` and
  `ActNorm(2)`; it also trains with Russian roulette and the Neumann gradient and evaluates the 2-D log-det
  exactly in eval mode.
- nfcourse i-ResNet: `iresnet(2, blocks=5, hidden_sizes=(64, 64), normalization="act")`: ELU branches with
  spectral norm at most 0.9 per layer, truncated series with 5 terms and one Hutchinson probe in training.
- nfcourse MAF and zuko MAF: the MAFs of `benchmarks.autoregressive`, for reference.

Where the residual flows differ: normflows' branch applies a (Lipschitz) Swish before every linear layer,
the input included, and starts its last layer near zero; its spectral normalization runs up to 5 power
iterations per call; its fixed-point inverse stops at a relative and absolute tolerance of 1e-5 (and gives
up silently after 1,000 iterations), nfcourse's at an absolute 1e-5 (and raises `FixedPointError` at its cap).
"""

from __future__ import annotations

import argparse
import os
from importlib import metadata

import torch
from torch import nn

from benchmarks.sidebyside import ModelFactory, PeerFlow, ZukoFlow, add_options, apply_quick, run
from nfcourse.bijectors import iresnet, maf, residual_flow
from nfcourse.flow import Flow

try:
    import normflows
    import zuko
except ImportError as error:  # the peers come with the benchmark extra
    raise SystemExit(f'{error}: pip install -e ".[benchmark]"') from error

DIM = 2


def nfcourse_residual_flow(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(residual_flow(DIM, blocks=layers, hidden_sizes=hidden, seed=seed), DIM)


def normflows_residual_flow(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    steps: list[nn.Module] = []
    for _block in range(layers):
        net = normflows.nets.LipschitzMLP([DIM, *hidden, DIM], lipschitz_const=0.97, init_zeros=True)
        steps += [normflows.flows.Residual(net, reduce_memory=True), normflows.flows.ActNorm(DIM)]
    base = normflows.distributions.DiagGaussian(DIM, trainable=False)
    return PeerFlow(normflows.NormalizingFlow(base, steps), DIM)


def nfcourse_iresnet(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(iresnet(DIM, blocks=layers, hidden_sizes=hidden, normalization="act", seed=seed), DIM)


def nfcourse_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def zuko_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return ZukoFlow(zuko.flows.MAF(DIM, transforms=layers, hidden_features=hidden), DIM)


MODELS: dict[str, ModelFactory] = {
    "nfcourse Residual Flow": nfcourse_residual_flow,
    "normflows Residual flow": normflows_residual_flow,
    "nfcourse i-ResNet": nfcourse_iresnet,
    "nfcourse MAF": nfcourse_maf,
    "zuko MAF": zuko_maf,
}


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(options, MODELS, datasets=["moons", "eight_gaussians"], default_models=MODELS)
    options.set_defaults(repeats=2, rounds=1)
    args = options.parse_args()
    apply_quick(args)
    torch.set_num_threads(args.threads)
    versions = ", ".join(f"{library} {metadata.version(library)}" for library in ("normflows", "zuko"))
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s) of {os.cpu_count()} CPUs), {versions}")
    print(
        f"{args.layers} blocks/layers, networks {'x'.join(map(str, args.hidden))}, {args.steps} steps, "
        f"batch {args.batch_size}, Adam lr {args.lr:g} with cosine decay, seeds {', '.join(map(str, args.seeds))}"
    )
    run(MODELS, args.models, args, calls_over_seeds=True)


if __name__ == "__main__":
    main()
