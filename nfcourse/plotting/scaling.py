r"""Cost against problem size: how the time (or parameter count) of several methods grows with D.

On log-log axes a cost $c\,D^k$ is a straight line of slope $k$, so linear and quadratic growth are
told apart at a glance; `plot_scaling` draws one line per method and, on request, dashed guide lines
of slope 1 and 2 through the first point of the first method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nfcourse.i18n import _
from nfcourse.plotting.style import PALETTE, new_figure


def plot_scaling(
    sizes: Sequence[int],
    costs: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    xlabel: str | None = None,
    title: str | None = None,
    guides: Sequence[int] = (1, 2),
    ax: Axes | None = None,
) -> Figure:
    """One line per method: `costs[name][k]` is the cost at `sizes[k]`, on log-log axes.

    `guides` lists the slopes of the dashed reference lines ($\\propto D^k$); pass `()` for none.
    """
    if ax is None:
        _fig, axes = new_figure(width=5.6, height=3.8)
        ax = axes[0, 0]
    x = np.asarray(sizes, dtype=float)
    for color, (name, values) in zip(PALETTE, costs.items(), strict=False):
        y = np.asarray(values, dtype=float)
        if y.shape != x.shape:
            raise ValueError(
                _("{name}: {got} costs for {expected} sizes.").format(name=name, got=len(y), expected=len(x))
            )
        ax.plot(x, y, "o-", color=color, label=name)
    if guides and costs:
        first = np.asarray(next(iter(costs.values())), dtype=float)
        for slope, style in zip(guides, (":", "--", "-."), strict=False):
            guide = first[0] * (x / x[0]) ** slope
            ax.plot(x, guide, style, color="0.55", linewidth=1, label=f"$\\propto D^{{{slope}}}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(x, [str(size) for size in sizes])  # the measured sizes, not 10^0, 10^1
    ax.set_xticks([], minor=True)
    ax.set_xlabel(xlabel if xlabel is not None else _("dimension D"))
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax.figure
