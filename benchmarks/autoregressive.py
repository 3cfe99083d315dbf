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
3. Start: both keep PyTorch's default random start of MADE's last layer. The row "nfcourse MAF, identity
   start" (`zero_last_layer=True`) starts that layer at zero instead, so that every layer starts as the
   identity map: the choice nfcourse made by default until this benchmark showed that it fits worse.
4. IAF: zuko has no IAF class; the IAF is `zuko.flows.Flow(maf.transform.inv, maf.base)`, the pattern
   zuko's maintainers recommend, i.e. the MAF above with its directions swapped, as nfcourse's
   `iaf = Invert(maf)`. Its density costs D + 1 conditioner calls per layer (the D-pass recursion, then
   one more for the log-determinant); nfcourse's costs D (the last pass also gives the log-scales).
5. Where the shift goes: nfcourse computes the density direction as the MAF paper writes it,
   u = (x - mu) exp(-alpha), the shift before the scale; zuko as u = x exp(a) + b, the shift after the
   scale. Both describe the same maps (b = -mu exp(-alpha), a = -alpha), but the network's outputs enter
   the loss differently, so training follows another path. The row "nfcourse MAF, shift after scale"
   (not run unless named in `--models`) is nfcourse's MAF with zuko's form, to measure what that changes;
   the library keeps the paper's form, which lessons 01 to 03 teach and their exercise sheets grade.
6. Masked weights still count as parameters in both libraries; "unmasked" counts only the weights
   the masks let through (plus biases), the number that actually takes part.

Other programs running on the machine at the same time move the timings: compare models within one run,
and rerun when two numbers are close.

One seed draws the data set, the initialization and the batches. With several `--seeds` every seed gets its
own tables, and a last table gives each model's gap to the oracle and its step time averaged over the
seeds, with standard errors: one seed's NLL moves by a few hundredths of a nat, as much as two libraries
differ.

The loop, the timing and the tables live in `benchmarks/sidebyside.py`, shared with `benchmarks.coupling`
(Real-NVP and MAF + BatchNorm against zuko, normflows and nflows).
"""

from __future__ import annotations

import argparse
import os

import torch
from torch import nn

from benchmarks.sidebyside import ModelFactory, ZukoFlow, add_options, apply_quick, run
from nfcourse.bijectors import AffineAutoregressive, Compose, iaf, maf
from nfcourse.flow import Flow

try:
    import zuko
except ImportError:  # the nfcourse rows still run; the zuko rows say how to get it
    zuko = None

DIM = 2


def nfcourse_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def nfcourse_maf_identity_start(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(maf(DIM, layers, hidden, permutation="reverse", seed=seed, zero_last_layer=True), DIM)


class ShiftAfterScale(AffineAutoregressive):
    """nfcourse's layer in zuko's form: density u = x exp(a) + b, sampling x = (u - b) exp(-a), log-dets -+sum a.

    (b, a) are the conditioner's two outputs, a soft-clamped as in the library; only the benchmark uses it.
    """

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros_like(u)
        for _step in range(self.dim):
            b, a = self.shift_and_log_scale(x)
            x = (u - b) * torch.exp(-a)
        return x, -a.sum(dim=1)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, a = self.shift_and_log_scale(x)
        return x * torch.exp(a) + b, a.sum(dim=1)


def nfcourse_maf_shift_after_scale(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    stack = maf(DIM, layers, hidden, permutation="reverse", seed=seed)
    steps = [
        ShiftAfterScale(step.conditioner, DIM) if isinstance(step, AffineAutoregressive) else step for step in stack
    ]
    return Flow(Compose(*steps), DIM)


def nfcourse_iaf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return Flow(iaf(DIM, layers, hidden, permutation="reverse", seed=seed), DIM)


def zuko_maf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    return ZukoFlow(zuko.flows.MAF(DIM, transforms=layers, hidden_features=hidden), DIM)


def zuko_iaf(layers: int, hidden: tuple[int, ...], seed: int) -> nn.Module:
    flow = zuko.flows.MAF(DIM, transforms=layers, hidden_features=hidden)
    return ZukoFlow(zuko.flows.Flow(flow.transform.inv, flow.base), DIM)


MODELS: dict[str, ModelFactory] = {
    "nfcourse MAF": nfcourse_maf,
    "nfcourse MAF, identity start": nfcourse_maf_identity_start,
    "nfcourse MAF, shift after scale": nfcourse_maf_shift_after_scale,
    "zuko MAF": zuko_maf,
    "nfcourse IAF": nfcourse_iaf,
    "zuko IAF": zuko_iaf,
}
DEFAULT_MODELS = [name for name in MODELS if name != "nfcourse MAF, shift after scale"]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(options, MODELS, datasets=["moons", "eight_gaussians"], default_models=DEFAULT_MODELS)
    args = options.parse_args()
    apply_quick(args)
    torch.set_num_threads(args.threads)
    names = [name for name in args.models if zuko is not None or not name.startswith("zuko")]
    version = zuko.__version__ if zuko is not None else 'not installed: pip install -e ".[benchmark]"'
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s) of {os.cpu_count()} CPUs), zuko {version}")
    print(
        f"{args.layers} layers of MADE {'x'.join(map(str, args.hidden))} (ReLU), {args.steps} steps, "
        f"batch {args.batch_size}, Adam lr {args.lr:g} with cosine decay, seeds {', '.join(map(str, args.seeds))}"
    )
    run(MODELS, names, args)


if __name__ == "__main__":
    main()
