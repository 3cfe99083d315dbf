"""Memory of the log-det's gradient in a Residual Flow: backprop through the series against the Neumann gradient.

    python -m benchmarks.residual_memory [--dim 64] [--hidden 512 512] [--blocks 4] [--batch 1024]
                                         [--terms 2 4 8 16 32 64] [--threads 2] [--quick]

One training loss, -mean log p(x), of `residual_flow(dim, blocks, hidden_sizes)` on a batch of standard normal
points, with the log-det of every block estimated from exactly n terms (p = 1, `exact_terms = n`, so the
number of terms is fixed rather than drawn):

- naive backprop: `russian_roulette_logdet`, whose gradient autograd computes by backpropagating through all
  n vector-Jacobian products, so it keeps the graph of every one of them;
- Neumann gradient: `russian_roulette_logdet_with_neumann_gradient`, the same value, whose gradient comes
  from one product with a graph (the other n are computed without one).

The table gives the bytes autograd saves for the backward pass (`nfcourse.residual.saved_bytes`, the
tensors the graph keeps alive, parameters included), the ratio to the same method with the fewest terms,
and, where CUDA is available, the peak GPU memory of the forward and backward pass
(`torch.cuda.max_memory_allocated`).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch

from nfcourse.bijectors import residual_flow, set_training_logdet
from nfcourse.flow import Flow
from nfcourse.residual import russian_roulette_logdet, russian_roulette_logdet_with_neumann_gradient, saved_bytes
from nfcourse.runtime import device

METHODS = {"naive backprop": russian_roulette_logdet, "Neumann gradient": russian_roulette_logdet_with_neumann_gradient}


def flow_with(estimator: object, terms: int, args: argparse.Namespace) -> Flow:
    """The benchmark's Residual Flow, every block's training log-det set to `estimator` with exactly `terms` terms."""
    torch.manual_seed(0)
    flow = Flow(residual_flow(args.dim, blocks=args.blocks, hidden_sizes=tuple(args.hidden)), args.dim)
    set_training_logdet(flow, partial(estimator, p=1.0, exact_terms=terms))
    return flow.train()


def measure(estimator: object, terms: int, args: argparse.Namespace) -> tuple[int, float, float]:
    """(saved bytes, peak GPU bytes or NaN, seconds) of one forward and backward pass of the loss."""
    where = device()
    flow = flow_with(estimator, terms, args).to(where)
    x = torch.randn(args.batch, args.dim, generator=torch.Generator().manual_seed(1)).to(where)
    losses = []
    start = time.perf_counter()
    if where.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    saved = saved_bytes(lambda: losses.append(-flow.log_prob(x).mean()))
    losses[0].backward()
    peak = float(torch.cuda.max_memory_allocated()) if where.type == "cuda" else float("nan")
    if where.type == "cuda":
        torch.cuda.synchronize()
    return saved, peak, time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--dim", type=int, default=64)
    options.add_argument("--hidden", type=int, nargs="+", default=[512, 512])
    options.add_argument("--blocks", type=int, default=4)
    options.add_argument("--batch", type=int, default=1024)
    options.add_argument("--terms", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    options.add_argument("--threads", type=int, default=2)
    options.add_argument("--quick", action="store_true", help="a small size, for a smoke run")
    args = options.parse_args()
    if args.quick:
        args.dim, args.hidden, args.blocks, args.batch, args.terms = 8, [32], 2, 64, [2, 8]
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__} on {device()}: D = {args.dim}, MLP {'-'.join(map(str, args.hidden))}, "
        f"{args.blocks} blocks, batch {args.batch}"
    )
    print("| method | terms | saved for backward (MB) | ratio to the fewest terms | peak GPU memory (MB) | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, estimator in METHODS.items():
        first = None
        for terms in args.terms:
            saved, peak, seconds = measure(estimator, terms, args)
            first = first or saved
            megabytes = f"{saved / 2**20:.1f} | {saved / first:.2f} | {peak / 2**20:.1f}"
            print(f"| {name} | {terms} | {megabytes} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
