r"""The "taffy machine": how a composed flow stretches and folds the Gaussian, one layer at a time.

Panel $k$ shows $f_k \circ \dots \circ f_1(u)$: Gaussian noise points $u$ and a regular grid of lines
in $u$-space after the first $k$ layers (panel 0 is $u$ itself, the last panel is the data side $x$).
The points keep the colour of their direction in $u$-space, the angle $\operatorname{atan2}(u_2, u_1)$,
so one can follow where each slice of the Gaussian ends up; lines of constant $u_1$ (dark grey) and
of constant $u_2$ (light grey) show what happens to the coordinate directions.

Each panel has its own limits (a layer may shrink or blow up the scale); the tick labels show it.
A panel's title counts steps, not layers: a permutation between two layers is a step of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from torch import nn

from nfcourse.bijectors.base import Bijector, Compose
from nfcourse.i18n import _
from nfcourse.plotting.evaluate import evaluation_mode, owning_module, placement
from nfcourse.plotting.style import (
    ANGLE_CMAP,
    GRID_LINE_COLORS,
    PANEL_SIZE,
    box_around,
    frame_panel,
    given_axes,
    new_figure,
    scatter_points,
)
from nfcourse.validation import check_positive_int

LINE_POINTS = 200  # points along each grid line: enough for a smooth curve after a few layers


def grid_lines(extent: float, n_lines: int) -> torch.Tensor:
    r"""Lines of a regular grid over $[-e, e]^2$, shape (2 * n_lines, LINE_POINTS, 2).

    The first `n_lines` lines have constant $u_1$ (vertical), the others constant $u_2$ (horizontal).
    """
    along = torch.linspace(-extent, extent, LINE_POINTS)  # (T,)
    levels = torch.linspace(-extent, extent, n_lines)  # (L,)
    fixed, moving = torch.broadcast_tensors(levels[:, None], along[None, :])  # (L, T) each
    vertical = torch.stack([fixed, moving], dim=-1)  # (L, T, 2), u1 constant
    horizontal = torch.stack([moving, fixed], dim=-1)  # (L, T, 2), u2 constant
    return torch.cat([vertical, horizontal])


def layers_of(model: nn.Module) -> list[Bijector]:
    """The steps of `model` in sampling order: the layers of a `Compose`, else the bijector itself as one step.

    `model` is a `Compose`, a single bijector, or a flow (its bijector is used).
    """
    bijector = getattr(model, "bijector", model)
    return list(bijector) if isinstance(bijector, Compose) else [bijector]


def stage_title(k: int, layers: list[Bijector]) -> str:
    """The title of panel `k`: the noise for k = 0, else "step k: <what layer k is>" in the chosen language.

    The word is "step", not "layer": a MAF of 5 layers has 9 steps, its permutations counted.
    """
    if k == 0:
        return _("noise u")
    return _("step {k}: {name}").format(k=k, name=_(layers[k - 1].title))


def forward_stages(model: nn.Module, u: torch.Tensor) -> list[torch.Tensor]:
    """The points after 0, 1, ..., K steps of `model` (see `layers_of`), on the CPU in float64."""
    bijector = getattr(model, "bijector", model)
    module = owning_module(bijector)
    device, dtype = placement(module)
    with evaluation_mode(module):
        if isinstance(bijector, Compose):
            stages = bijector.forward_steps(u.to(device, dtype))
        else:
            stages = [u, bijector.forward(u.to(device, dtype))[0]]
    return [stage.to("cpu", torch.float64) for stage in stages]


def plot_deformation(
    model: nn.Module,
    *,
    n_points: int = 2000,
    n_lines: int = 9,
    extent: float = 2.5,
    layers: Sequence[int] | None = None,
    ncols: int | None = None,
    title: str | None = None,
    generator: torch.Generator | None = None,
    axes: Axes | list[Axes] | np.ndarray | None = None,
) -> Figure:
    r"""Small multiples of the noise and a grid pushed through the layers of `model`, panel $k$ after $k$ layers.

    `model`: a `Compose` (or a flow built on one). `n_points` noise points $u \sim \mathcal{N}(0, I)$,
    drawn on the CPU from `generator` (the same picture on every device); `n_lines` grid lines each
    way over $[-e, e]^2$, $e$ = `extent`. `layers`: which layer counts to show (default all, 0 to K).
    `ncols`: panels per row (default: at most 5, rows filled evenly). `title`: an optional title above all panels.
    """
    check_positive_int(n_points, "n_points")
    check_positive_int(n_lines, "n_lines")
    u = torch.randn(n_points, 2, generator=generator)
    lines = grid_lines(extent, n_lines)
    stages = forward_stages(model, torch.cat([u, lines.reshape(-1, 2)]))
    steps = layers_of(model)
    shown = list(range(len(stages))) if layers is None else list(layers)
    for k in shown:
        if not 0 <= k < len(stages):
            raise ValueError(_("layers must lie between 0 and {last}, got {k}.").format(last=len(stages) - 1, k=k))
    if axes is None:
        nrows = math.ceil(len(shown) / (ncols or 5))
        ncols = ncols or math.ceil(len(shown) / nrows)  # rows as full as possible: 6 panels as 2 x 3
        _fig, axes = new_figure(nrows, ncols, width=ncols * 0.85 * PANEL_SIZE, height=nrows * 0.85 * PANEL_SIZE)
        for ax in axes.ravel()[len(shown) :]:
            ax.set_axis_off()
        axes = axes.ravel()[: len(shown)]
    flat = given_axes(axes, len(shown))
    angle = torch.atan2(u[:, 1], u[:, 0]).numpy()  # (N,), in (-pi, pi]
    colors = mpl.colormaps[ANGLE_CMAP]((angle + math.pi) / (2 * math.pi))  # (N, 4)
    line_colors = [GRID_LINE_COLORS[0]] * n_lines + [GRID_LINE_COLORS[1]] * n_lines
    for ax, k in zip(flat, shown, strict=True):
        x = stages[k].numpy()  # (N + 2 * L * T, 2)
        points, curves = x[:n_points], x[n_points:].reshape(2 * n_lines, LINE_POINTS, 2)
        ax.add_collection(LineCollection(curves, colors=line_colors, linewidths=0.6, alpha=0.8, zorder=1))
        scatter_points(ax, points, colors, alpha=0.7, zorder=2)
        frame_panel(ax, box_around(points, pad=0.15), labels=False)
        ax.set_title(stage_title(k, steps), fontsize=10)
    if title is not None:
        flat[0].figure.suptitle(title)
    return flat[0].figure
