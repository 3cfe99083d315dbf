"""nfcourse's Real-NVP and MAF + BatchNorm against zuko, normflows and nflows: test NLL and speed (a benchmark).

    pip install -e ".[benchmark]"        # adds zuko, normflows and nflows
    python -m benchmarks.coupling [--steps 2000] [--datasets moons eight_gaussians checkerboard word]
                                  [--models ...] [--seeds 0 1 2] [--threads 1] [--quick]

The same loop, data, budget, seeds and tables as `benchmarks.autoregressive` (`benchmarks.sidebyside`
holds them; that module's docstring explains the columns): every model is trained by maximum likelihood
with `nfcourse.training.fit`, the other libraries' flows behind a thin adapter, on the same standardized
2-D data. The last table gives, over the seeds, the gap to the oracle, the training step, and the time
to draw `--n` samples and to evaluate the density of `--n` test points (mean ± standard error).

The rows (5 layers, networks of 2 x 64 hidden units with ReLU, unless the options say otherwise):

- nfcourse Real-NVP: `realnvp(2, mask="half")`, affine coupling layers whose kept half alternates;
  "identity start" is the same with `zero_last_layer=True`: the networks' last layers start at zero.
- zuko RealNVP: `zuko.flows.RealNVP`, its default alternating masks.
- normflows RealNVP: `AffineCouplingBlock(MLP([1, 64, 64, 2], init_zeros=True))` per layer with
  `Permute(2, mode="swap")` between layers, the recipe of normflows' own Real-NVP example.
- nfcourse MAF + BatchNorm: `maf(2, permutation="reverse", normalization="batch")`.
- nflows MAF + BatchNorm: `nflows.flows.MaskedAutoregressiveFlow(2, hidden_features=64, num_layers=5,
  num_blocks_per_layer=1, use_residual_blocks=False, batch_norm_between_layers=True)`, i.e. MADE 2-64-64-4.
- nfcourse MAF and nflows MAF: the same two without BatchNorm, to show what BatchNorm changes.
- nfcourse NICE (not run unless named in `--models`): `nice(2)`, additive coupling and a final scale.

Where the implementations differ (the function classes are the same, up to the log-scale bounds):

1. Log-scale: nfcourse bounds it with 5 tanh(a / 5) (a scale in (e^-5, e^5)); zuko with
   a / (1 + |a| / ln 1000) (a scale in (1e-3, 1e3)); normflows' coupling uses exp(a), unbounded; nflows' MAF
   uses the scale softplus(a) + 1e-3 (at most about e^a for large a, at least 1e-3).
2. Start: nfcourse, zuko and nflows keep PyTorch's default random start of each network's last layer;
   normflows (`init_zeros=True`) and the "identity start" row start it at zero, every layer as the identity.
3. Network input: nfcourse's coupling network reads all D coordinates, the transformed half multiplied by 0,
   and returns values for all D (those of the kept half are dropped): for D = 2 it holds 194 more parameters
   per layer than zuko's and normflows' networks (1 input, 2 outputs), none of which changes the function
   (the weights of the zeroed input get no gradient, the dropped outputs reach nothing).
4. BatchNorm: nfcourse puts one between two layers (4 for 5 layers), running averages with momentum 0.05;
   nflows puts one after every layer (5), momentum 0.1. Both use the batch's statistics in training mode
   (the step column times that mode) and the running averages in eval mode (sampling and density columns).
5. Order: nflows reverses the coordinates before every layer, the first included; the others start with
   the natural order. In 2-D this only decides which coordinate the first layer moves.

Other programs running on the machine at the same time move the timings: compare models within one run.
"""

from __future__ import annotations

import argparse
import os
from importlib import metadata

import torch
from torch import nn

from benchmarks.sidebyside import ModelFactory, PeerFlow, ZukoFlow, add_options, apply_quick, run
from nfcourse.bijectors import maf, nice, realnvp
from nfcourse.flow import Flow

PEERS: dict[str, object] = {}  # library name -> module, for those that import
MISSING: dict[str, str] = {}  # library name -> why it is left out
try:
    import zuko

    PEERS["zuko"] = zuko
except ImportError as error:
    MISSING["zuko"] = str(error)
try:
    import normflows

    PEERS["normflows"] = normflows
except ImportError as error:
    MISSING["normflows"] = str(error)
try:
    import nflows.flows

    PEERS["nflows"] = nflows
except ImportError as error:
    MISSING["nflows"] = str(error)

DIM = 2


def nfcourse_realnvp(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(realnvp(DIM, layers, hidden, mask="half", seed=seed), DIM)


def nfcourse_realnvp_identity_start(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(realnvp(DIM, layers, hidden, mask="half", seed=seed, zero_last_layer=True), DIM)


def nfcourse_nice(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(nice(DIM, layers, hidden, mask="half", seed=seed), DIM)


def zuko_realnvp(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return ZukoFlow(zuko.flows.RealNVP(DIM, transforms=layers, hidden_features=hidden), DIM)


def normflows_realnvp(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    kept = DIM // 2
    steps: list[nn.Module] = []
    for k in range(layers):
        if k > 0:
            steps.append(normflows.flows.Permute(DIM, mode="swap"))
        network = normflows.nets.MLP([kept, *hidden, 2 * (DIM - kept)], init_zeros=True)
        steps.append(normflows.flows.AffineCouplingBlock(network))
    base = normflows.distributions.DiagGaussian(DIM, trainable=False)
    return PeerFlow(normflows.NormalizingFlow(base, steps), DIM)


def nfcourse_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def nfcourse_maf_batch_norm(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", normalization="batch", seed=seed), DIM)


def nflows_maf(layers: int, hidden: tuple[int, ...], seed: int, batch_norm: bool = False) -> nn.Module:
    if len(set(hidden)) != 1:
        raise ValueError(f"nflows' MADE has one hidden width for all its layers, got --hidden {hidden}")
    flow = nflows.flows.MaskedAutoregressiveFlow(
        features=DIM,
        hidden_features=hidden[0],
        num_layers=layers,
        num_blocks_per_layer=len(hidden) - 1,  # the first hidden layer is MADE's initial layer
        use_residual_blocks=False,
        batch_norm_between_layers=batch_norm,
    )
    return PeerFlow(flow, DIM)


def nflows_maf_batch_norm(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return nflows_maf(layers, hidden, seed, batch_norm=True)


MODELS: dict[str, ModelFactory] = {
    "nfcourse Real-NVP": nfcourse_realnvp,
    "nfcourse Real-NVP, identity start": nfcourse_realnvp_identity_start,
    "zuko RealNVP": zuko_realnvp,
    "normflows RealNVP": normflows_realnvp,
    "nfcourse MAF + BatchNorm": nfcourse_maf_batch_norm,
    "nflows MAF + BatchNorm": nflows_maf_batch_norm,
    "nfcourse MAF": nfcourse_maf,
    "nflows MAF": nflows_maf,
    "nfcourse NICE": nfcourse_nice,
}
DEFAULT_MODELS = [name for name in MODELS if name != "nfcourse NICE"]
DATASETS = ["moons", "eight_gaussians", "checkerboard", "word"]


def version(library: str) -> str:
    if library in MISSING:
        return f"not installed ({MISSING[library]})"
    return metadata.version(library)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(options, MODELS, datasets=DATASETS, default_models=DEFAULT_MODELS)
    args = options.parse_args()
    apply_quick(args)
    torch.set_num_threads(args.threads)
    names = [name for name in args.models if name.split()[0] == "nfcourse" or name.split()[0] in PEERS]
    for name in args.models:
        if name not in names:
            library = name.split()[0]
            print(f'left out "{name}": {library} does not import ({MISSING[library]}); pip install -e ".[benchmark]"')
    libraries = ", ".join(f"{library} {version(library)}" for library in ("zuko", "normflows", "nflows"))
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s) of {os.cpu_count()} CPUs), {libraries}")
    print(
        f"{args.layers} layers, networks {'x'.join(map(str, args.hidden))} (ReLU), {args.steps} steps, "
        f"batch {args.batch_size}, Adam lr {args.lr:g} with cosine decay, seeds {', '.join(map(str, args.seeds))}"
    )
    run(MODELS, names, args, calls_over_seeds=True)


if __name__ == "__main__":
    main()
