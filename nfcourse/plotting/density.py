r"""What a 2-D flow has learned, seen two ways: its density as a heat map, its samples beside the data.

The heat map shows $p(x) = \exp(\log p(x))$ on a grid; with `log_scale=True` it shows $\log p(x)$
instead, which reveals the tails and any mass the flow puts where the data has none. Zero density
($\log p = -\infty$, e.g. a true density outside the letters of a word) is drawn in the colour of 0.
"""

from __future__ import annotations

import warnings

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from torch import nn

from nfcourse.i18n import _
from nfcourse.plotting.evaluate import DensityGrid, LogProb, density_grid, sample_points, to_numpy
from nfcourse.plotting.style import (
    DATA_COLOR,
    DENSITY_CMAP,
    SAMPLE_COLOR,
    Box,
    as_box,
    box_around,
    frame_panel,
    given_axes,
    new_figure,
    scatter_points,
)

Points = torch.Tensor | np.ndarray


def draw_density(ax: Axes, grid: DensityGrid, log_scale: bool = False, log_range: float = 10.0) -> AxesImage:
    r"""Draw a `DensityGrid` on `ax` as an image: $p$, or $\log p$ over the top `log_range` nats.

    On the log scale, everything more than `log_range` below the highest value takes the lowest
    colour; otherwise the far tails (down to $\log p = -50$ and less) would use up the whole colormap.
    NaN values are drawn like zero density, with a warning, since they mean the model is broken there.
    """
    nan_count = int(np.isnan(grid.log_p).sum())
    if nan_count:
        warnings.warn(
            _("log_prob returned NaN at {count} of {total} grid points; they are drawn as zero density.").format(
                count=nan_count, total=grid.log_p.size
            ),
            RuntimeWarning,
            stacklevel=3,
        )
    values = grid.log_p if log_scale else grid.density
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 1.0
    low, high = (top - log_range, top) if log_scale else (0.0, top if top > 0 else 1.0)
    cmap = mpl.colormaps[DENSITY_CMAP]
    cmap = cmap.with_extremes(bad=cmap(0.0), under=cmap(0.0))
    half1 = (grid.x1[1] - grid.x1[0]) / 2 if len(grid.x1) > 1 else 0.5  # pixels are centred on grid points
    half2 = (grid.x2[1] - grid.x2[0]) / 2 if len(grid.x2) > 1 else 0.5
    extent = (grid.x1[0] - half1, grid.x1[-1] + half1, grid.x2[0] - half2, grid.x2[-1] + half2)
    return ax.imshow(
        np.ma.masked_invalid(values), origin="lower", extent=extent, cmap=cmap, vmin=low, vmax=high, aspect="equal"
    )


def plot_density(
    model: nn.Module | LogProb,
    *,
    limits: Box | tuple[float, float] | None = None,
    resolution: int = 200,
    log_scale: bool = False,
    log_range: float = 10.0,
    colorbar: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""Heat map of the density of a flow (or of any log-density function) over `limits`.

    `model`: a flow, or a function from points (N, 2) to $\log p$ (N,). `limits`: `(low, high)` for
    both axes or `((x1_min, x1_max), (x2_min, x2_max))`; default $[-4, 4]^2$. Returns the figure.
    """
    grid = density_grid(model, limits, resolution)
    if ax is None:
        _fig, axes = new_figure(width=3.6 if colorbar else None)
        ax = axes[0, 0]
    image = draw_density(ax, grid, log_scale, log_range)
    frame_panel(ax, as_box(limits))
    default = _("log density") if log_scale else _("density")
    ax.set_title(default if title is None else title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
    return ax.figure


def plot_samples(
    samples: Points | nn.Module,
    data: Points | None = None,
    *,
    n: int | None = None,
    limits: Box | tuple[float, float] | None = None,
    title: str | None = None,
    data_title: str | None = None,
    generator: torch.Generator | None = None,
    axes: Axes | list[Axes] | np.ndarray | None = None,
) -> Figure:
    """Samples beside the data: two scatter panels with the same limits and equal scales (one without data).

    `samples`: points (N, 2), or a flow to draw `n` samples from (default: as many as there are data
    points, else 2000). `limits` default to a square box around the bulk of the data (or the samples).
    `axes`: two axes to draw into (one when there is no data). Returns the figure.
    """
    if isinstance(samples, nn.Module):
        n = n if n is not None else (len(data) if data is not None else 2000)
        sample_array = sample_points(samples, n, generator)
    else:
        sample_array = to_numpy(samples, "samples")
    data_array = to_numpy(data, "data") if data is not None else None
    panels = [(data_array, DATA_COLOR, data_title, _("data"))] if data_array is not None else []
    panels.append((sample_array, SAMPLE_COLOR, title, _("samples")))
    box = as_box(limits) if limits is not None else box_around(data_array if data_array is not None else sample_array)
    if axes is None:
        _fig, axes = new_figure(1, len(panels))
    flat = given_axes(axes, len(panels))
    for ax, (points, color, panel_title, default) in zip(flat, panels, strict=True):
        scatter_points(ax, points, color)
        frame_panel(ax, box)
        ax.set_title(default if panel_title is None else panel_title)
    return flat[0].figure
