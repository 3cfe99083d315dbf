r"""Counting the network passes a flow makes: the cost measure behind "one pass per layer" and "D passes per layer".

Every network of the course's flows (MADE, the coupling networks, the residual branches) is made of
`nn.Linear` layers (masked or spectrally normalized ones included), and a pass of a network calls each of
its linear layers once. So

    passes per layer = (calls of all linear layers) / (number of linear layers)

is the number of times each network ran, on average: 1 for a MAF's density or a Real-NVP in either
direction, D for a MAF's sampling, and the number of fixed-point iterations (plus the log-det's passes)
for a residual block. Batch size does not matter: one call handles the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import nn

from nfcourse.i18n import _


def linear_layers(module: nn.Module) -> list[nn.Linear]:
    return [layer for layer in module.modules() if isinstance(layer, nn.Linear)]


@contextmanager
def counting_calls(layers: list[nn.Linear]) -> Iterator[list[int]]:
    """While the body runs, count the calls of `layers`: the yielded one-element list holds the count so far."""
    calls = [0]

    def count(_layer: nn.Module, _inputs: object, _output: object) -> None:
        calls[0] += 1

    handles = [layer.register_forward_hook(count) for layer in layers]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def network_passes(module: nn.Module, run: Callable[[], object]) -> float:
    """Run `run()` once and return how many times, on average, each linear layer of `module` was called."""
    layers = linear_layers(module)
    if not layers:
        raise ValueError(_("network_passes needs a module with at least one nn.Linear layer."))
    with counting_calls(layers) as calls:
        run()
    return calls[0] / len(layers)
