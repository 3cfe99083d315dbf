r"""From a model to the numbers a picture shows: log-densities on a grid, samples, points as arrays.

Every evaluation here runs under `torch.no_grad()`, in batches, on the device and in the dtype of the
model's own parameters, with the model in evaluation mode for the duration (a `BatchNorm` layer must use
its running statistics, not the statistics of a grid of points); each submodule's mode is restored
afterwards. Results come back as NumPy arrays on the CPU, ready for matplotlib.

Math:   the heat map shows $p(x) = \exp(\log p(x))$ at the grid points; $\log p = -\infty$ is density 0
Shapes: points (N, 2); grid log-densities (R, R), rows along $x_2$, columns along $x_1$
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from nfcourse.i18n import _
from nfcourse.plotting.style import Box, as_box
from nfcourse.validation import check_points, check_positive_int

LogProb = Callable[[torch.Tensor], torch.Tensor]  # (N, 2) points -> (N,) log-densities


def owning_module(model: object) -> nn.Module | None:
    """The `nn.Module` behind `model`: the model itself, the owner of a bound method (`flow.log_prob`), or None."""
    if isinstance(model, nn.Module):
        return model
    owner = getattr(model, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None


def placement(module: nn.Module | None) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the module's first floating tensor; the CPU and float32 otherwise."""
    if module is not None:
        for tensor in chain(module.parameters(), module.buffers()):
            if tensor.is_floating_point():
                return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


@contextmanager
def evaluation_mode(module: nn.Module | None) -> Iterator[None]:
    """Run the body under `torch.no_grad()` with every submodule in eval mode, then restore each one's mode."""
    modes = [(m, m.training) for m in module.modules()] if module is not None else []
    for m, _training in modes:
        m.training = False
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in modes:
            m.training = training


def to_numpy(points: torch.Tensor | np.ndarray, name: str = "points") -> np.ndarray:
    """Points of shape (N, 2), from a tensor (on any device, with or without grad) or an array, as float64."""
    tensor = points if isinstance(points, torch.Tensor) else torch.as_tensor(np.asarray(points))
    check_points(tensor, 2, name)
    return tensor.detach().to("cpu", torch.float64).numpy()


class DensityGrid(NamedTuple):
    """Log-densities on a regular grid: `log_p[i, j]` is $\\log p$ at the point `(x1[j], x2[i])`."""

    x1: np.ndarray  # (R,) grid coordinates along the first axis (columns)
    x2: np.ndarray  # (R,) grid coordinates along the second axis (rows)
    log_p: np.ndarray  # (R, R), -inf where the density is zero

    @property
    def density(self) -> np.ndarray:
        """$p = \\exp(\\log p)$ on the grid, shape (R, R); 0 where `log_p` is -inf."""
        return np.exp(self.log_p)

    def points(self) -> np.ndarray:
        """The grid points, shape (R * R, 2), in the order of `log_p.ravel()`."""
        g1, g2 = np.meshgrid(self.x1, self.x2)  # (R, R) each: g1[i, j] = x1[j], g2[i, j] = x2[i]
        return np.stack([g1.ravel(), g2.ravel()], axis=1)


def density_grid(
    model: nn.Module | LogProb,
    limits: Box | tuple[float, float] | None = None,
    resolution: int = 200,
    batch_size: int = 8192,
) -> DensityGrid:
    r"""Evaluate $\log p$ on a `resolution` x `resolution` grid over `limits`.

    `model` is a flow (anything with a `log_prob` method) or a function from points (N, 2) to
    log-densities (N,), such as the true log-density of a data set. A function that is not a module's
    method is called with float32 tensors on the CPU.
    """
    check_positive_int(resolution, "resolution")
    check_positive_int(batch_size, "batch_size")
    log_prob: LogProb = getattr(model, "log_prob", model)
    module = owning_module(log_prob)
    device, dtype = placement(module)
    box = as_box(limits)
    grid = DensityGrid(np.linspace(*box[0], resolution), np.linspace(*box[1], resolution), np.empty(0))
    points = torch.as_tensor(grid.points())  # (R * R, 2), float64 on the CPU
    values = []
    with evaluation_mode(module):
        for batch in points.split(batch_size):
            log_p = log_prob(batch.to(device=device, dtype=dtype))
            if log_p.shape != batch.shape[:1]:
                raise ValueError(
                    _("log_prob must return one value per point, shape ({n},), got shape {shape}.").format(
                        n=batch.shape[0], shape=tuple(log_p.shape)
                    )
                )
            values.append(log_p.to("cpu", torch.float64))
    return grid._replace(log_p=torch.cat(values).numpy().reshape(resolution, resolution))


def sample_points(flow: nn.Module, n: int, generator: torch.Generator | None = None) -> np.ndarray:
    """`n` samples of a flow, shape (n, 2), drawn in evaluation mode without gradients.

    A CPU `generator` gives the same samples on every device.
    """
    with evaluation_mode(owning_module(flow)):
        return to_numpy(flow.sample(check_positive_int(n, "n"), generator=generator), "samples")
