r"""Several models side by side: one column per model, its density above its samples.

The first column is the data itself: above, its histogram (the empirical density, about $\sqrt N$ bins
per axis), below, the data points. All panels share the same limits and colour scheme, so a column
can be compared with the data column at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from nfcourse.i18n import _
from nfcourse.plotting.density import Points, draw_density
from nfcourse.plotting.evaluate import DensityGrid, density_grid, sample_points, to_numpy
from nfcourse.plotting.style import (
    DATA_COLOR,
    SAMPLE_COLOR,
    Box,
    as_box,
    box_around,
    frame_panel,
    hide_ticks,
    new_figure,
    scatter_points,
)


def histogram_grid(points: np.ndarray, box: Box, bins: int) -> DensityGrid:
    """The normalized 2-D histogram of `points` (N, 2) over `box`, as log-densities at the bin centres."""
    counts, edges1, edges2 = np.histogram2d(points[:, 0], points[:, 1], bins=bins, range=box, density=True)
    with np.errstate(divide="ignore"):
        log_p = np.log(counts.T)  # histogram2d puts x1 along the rows; a grid has x2 along them
    return DensityGrid((edges1[:-1] + edges1[1:]) / 2, (edges2[:-1] + edges2[1:]) / 2, log_p)


def compare(
    models: Mapping[str, nn.Module],
    data: Points,
    *,
    nll: Mapping[str, float] | None = None,
    limits: Box | tuple[float, float] | None = None,
    resolution: int = 150,
    log_scale: bool = False,
    n_samples: int | None = None,
    title: str | None = None,
    generator: torch.Generator | None = None,
) -> Figure:
    """Density (top row) and samples (bottom row) of each model in `models` (name -> flow), after the data.

    `nll`: optional numbers (name -> NLL in nats per dimension, e.g. the last test NLL) shown under
    each model's name. `limits` default to a square box around the bulk of the data. `n_samples`
    defaults to the number of data points. `title`: an optional title above all panels.
    """
    data_array = to_numpy(data, "data")
    box = as_box(limits) if limits is not None else box_around(data_array)
    n_samples = n_samples if n_samples is not None else len(data_array)
    fig, axes = new_figure(2, 1 + len(models))
    bins = int(np.clip(np.sqrt(len(data_array)), 20, 80))
    draw_density(axes[0, 0], histogram_grid(data_array, box, bins), log_scale)
    scatter_points(axes[1, 0], data_array, DATA_COLOR)
    axes[0, 0].set_title(_("data"))
    for column, (name, model) in enumerate(models.items(), start=1):
        draw_density(axes[0, column], density_grid(model, box, resolution), log_scale)
        scatter_points(axes[1, column], sample_points(model, n_samples, generator), SAMPLE_COLOR)
        heading = name if nll is None or name not in nll else name + "\n" + _("NLL {nll:.3f}").format(nll=nll[name])
        axes[0, column].set_title(heading)
    for ax in axes.ravel():
        frame_panel(ax, box, labels=False)
        hide_ticks(ax)
    axes[0, 0].set_ylabel(_("log density") if log_scale else _("density"))
    axes[1, 0].set_ylabel(_("samples"))
    if title is not None:
        fig.suptitle(title)
    return fig
