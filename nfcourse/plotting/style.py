"""The one look of every picture in the course, and the small helpers every plot is built from.

`use_style()` sets matplotlib's rcParams once for the whole session (importing `nfcourse.plotting`
calls it; calling it again changes nothing). The plotting functions also pass the course's colours,
colormaps and point sizes explicitly, so their pictures look the same even after a learner
changes rcParams for a plot of their own.

Fonts: the family list is `["DejaVu Sans", "IPAexGothic"]`. Matplotlib looks each glyph up in the
list in order, so English and German text (umlauts included) keeps the Latin font and Japanese text
falls back to IPAexGothic, which `matplotlib_fontja` ships and registers on import.

Figures are returned, never shown: a notebook shows a figure when it is the value of a cell, and
`fig.savefig(...)` writes it to a file. They are created through pyplot (so notebooks know how to
draw them) and closed there at once, so a cell that ends with a plotting call shows its picture
once, not twice, and finished figures never pile up in pyplot's memory.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib_fontja  # noqa: F401  (registers IPAexGothic with matplotlib's font manager)
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nfcourse.i18n import _

LATIN_FONT = "DejaVu Sans"
CJK_FONT = "IPAexGothic"

DENSITY_CMAP = "viridis"  # perceptually uniform: equal steps in density look like equal steps in colour
ANGLE_CMAP = "hsv"  # cyclic: the colour of a noise point u says in which direction from 0 it lies
DATA_COLOR = "#3b3b3b"
SAMPLE_COLOR = "#d55e00"
FRAME_COLOR = "#b0b0b0"
GRID_LINE_COLORS = ("#505050", "#a0a0a0")  # lines of constant u_1, of constant u_2
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")  # Okabe-Ito
POINT_SIZE = 3.0  # marker area in points^2
POINT_ALPHA = 0.5
PANEL_SIZE = 3.0  # inches per panel side
MAX_FIGURE_WIDTH = 13.0  # inches: about the width of a notebook

STYLE: dict[str, object] = {
    "font.family": [LATIN_FONT, CJK_FONT],
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.grid": False,
    "axes.axisbelow": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "lines.linewidth": 1.6,
    "image.cmap": DENSITY_CMAP,
    "scatter.edgecolors": "none",
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": 150,
    "savefig.facecolor": "white",
}

Box = tuple[tuple[float, float], tuple[float, float]]  # ((x1_min, x1_max), (x2_min, x2_max))
DEFAULT_BOX: Box = ((-4.0, 4.0), (-4.0, 4.0))  # standardized 2-D data lives well inside


def use_style() -> None:
    """Apply the course style to matplotlib's rcParams (safe to call any number of times)."""
    mpl.rcParams.update(STYLE)


def new_figure(
    nrows: int = 1, ncols: int = 1, width: float | None = None, height: float | None = None
) -> tuple[Figure, np.ndarray]:
    """A figure with an (nrows, ncols) array of axes, square panels by default, at most a notebook wide."""
    width = width if width is not None else ncols * PANEL_SIZE
    height = height if height is not None else nrows * PANEL_SIZE
    if width > MAX_FIGURE_WIDTH:
        width, height = MAX_FIGURE_WIDTH, height * MAX_FIGURE_WIDTH / width
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False)
    plt.close(fig)  # returned, not shown; see the module docstring
    return fig, axes


def given_axes(axes: Axes | np.ndarray | list[Axes], count: int, name: str = "axes") -> list[Axes]:
    """The axes a caller passed in, flattened, after checking that there are `count` of them."""
    flat = [axes] if isinstance(axes, Axes) else list(np.asarray(axes, dtype=object).ravel())
    if len(flat) != count:
        raise ValueError(
            _("{name} must hold {count} axes, got {given}.").format(name=name, count=count, given=len(flat))
        )
    return flat


def as_box(limits: Box | tuple[float, float] | None) -> Box:
    """`((x1_min, x1_max), (x2_min, x2_max))` from itself, from one pair used for both axes, or the default."""
    if limits is None:
        return DEFAULT_BOX
    first, second = limits
    if np.ndim(first) == 0:  # one (low, high) pair for both axes
        return ((float(first), float(second)), (float(first), float(second)))
    return ((float(first[0]), float(first[1])), (float(second[0]), float(second[1])))


def box_around(points: np.ndarray, pad: float = 0.1, quantile: float = 0.005) -> Box:
    """A square box around the bulk of `points` (N, 2), ignoring the outer `quantile` on each side.

    Square so that panels with equal aspect fill their space; quantiles so that a few samples
    thrown far away by a badly trained flow do not shrink everything else to a dot.
    """
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return DEFAULT_BOX
    low, high = np.quantile(points, [quantile, 1 - quantile], axis=0)  # (2,), (2,)
    center = (low + high) / 2
    half = max(float((high - low).max()) / 2 * (1 + pad), 1e-3)
    return ((center[0] - half, center[0] + half), (center[1] - half, center[1] + half))


def frame_panel(ax: Axes, box: Box, labels: bool = True) -> None:
    """Fix a 2-D panel's limits to `box`, with equal scales on both axes (and $x_1$, $x_2$ as axis labels)."""
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    ax.set_aspect("equal")
    if labels:
        ax.set_xlabel("$x_1$", labelpad=1)
        ax.set_ylabel("$x_2$", labelpad=1)


def hide_ticks(ax: Axes) -> None:
    """Remove ticks and tick labels and draw a light frame, for small multiples that share one scale."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(FRAME_COLOR)


def scatter_points(ax: Axes, points: np.ndarray, color: object, **kwargs: object) -> None:
    """Points (N, 2) in the course's size and transparency (rasterized, so vector files stay small)."""
    options = {"s": POINT_SIZE, "alpha": POINT_ALPHA, "linewidths": 0, "rasterized": True, **kwargs}
    ax.scatter(points[:, 0], points[:, 1], c=color, **options)
