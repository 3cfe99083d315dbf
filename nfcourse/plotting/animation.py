r"""The "taffy machine" as a film: noise and a grid carried through a flow's layers, played in the notebook.

`plot_deformation` shows the layers as small multiples; `animate_layers` shows the same points moving.
Between the points after layer $k-1$ and after layer $k$ it draws in-between frames on the straight line

Math:      $z_t = (1 - t)\, z^{(k-1)} + t\, z^{(k)}$,  $t = \frac1F, \frac2F, \dots, 1$  ($F$ = `frames_per_layer`)

so the eye can follow each point (the in-between frames show no layer of the flow; only the key frames
do). A `Permutation` layer is shown as a jump, in one frame: halfway between a point and its mirror
image every point would sit on the diagonal, a collapse that no layer of the flow performs. The axis
limits move with the points, from a box around the bulk of one key frame to the next.

The result is `IPython.display.HTML` holding matplotlib's JavaScript player (`Animation.to_jshtml`)
with every frame embedded as a PNG: it plays in any notebook front end, also offline and without a
kernel, and nbval can run the cell headless (Agg backend). The player's buttons use plain Unicode
symbols instead of the icon font matplotlib links from a CDN, so the HTML refers to no outside URL,
and its labels and tooltips speak the chosen language. Keep frames few and small (defaults: 4 per
layer, 3.2 inches at 80 dpi, with a title large enough for Japanese characters; about 40 kB a frame).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.collections import LineCollection
from torch import nn

from nfcourse.bijectors.permutation import Permutation
from nfcourse.i18n import N_, _
from nfcourse.plotting.deformation import LINE_POINTS, forward_stages, grid_lines, layers_of, stage_title
from nfcourse.plotting.style import ANGLE_CMAP, GRID_LINE_COLORS, Box, box_around, scatter_points
from nfcourse.validation import check_positive_int

BUTTON_SYMBOLS = {  # matplotlib's player names Font Awesome icons; these symbols need no font download
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u23ee",
    "fa fa-step-backward": "\u25c0|",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u275a\u275a",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "|\u25b6",
    "fa fa-fast-forward": "\u23ed",
    "fa fa-plus": "+",
}
PLAYER_TEXTS = (  # the English labels and tooltips of matplotlib's player, translated in `player_html`
    N_("Decrease speed"),
    N_("First frame"),
    N_("Previous frame"),
    N_("Play backwards"),
    N_("Pause"),
    N_("Play"),
    N_("Next frame"),
    N_("Last frame"),
    N_("Increase speed"),
    N_("Repetition mode"),
    N_("Once"),
    N_("Loop"),
    N_("Reflect"),
)


def frame_plan(steps: int, frames_per_layer: int, jumps: Sequence[bool] = ()) -> list[tuple[int, float]]:
    r"""The frames of the film as (layer k, fraction t): frame shows $(1-t)\,z^{(k-1)} + t\,z^{(k)}$.

    The first frame is (0, 1.0), the noise itself. Layer $k = 1, \dots,$ `steps` then gets
    `frames_per_layer` frames, $t = 1/F, \dots, 1$, or a single frame $t = 1$ where `jumps[k - 1]` is true.
    In all: $1 + F \cdot (\text{layers that move}) + (\text{layers that jump})$ frames.
    """
    check_positive_int(frames_per_layer, "frames_per_layer")
    jumps = list(jumps) or [False] * steps
    plan = [(0, 1.0)]
    for k in range(1, steps + 1):
        count = 1 if jumps[k - 1] else frames_per_layer
        plan += [(k, i / count) for i in range(1, count + 1)]
    return plan


def between(stages: Sequence[np.ndarray], k: int, t: float) -> np.ndarray:
    r"""$(1 - t)\, z^{(k-1)} + t\, z^{(k)}$ for arrays of any shape (layer 0 is the noise itself)."""
    if k == 0:
        return stages[0]
    return (1 - t) * stages[k - 1] + t * stages[k]


def interpolate_box(first: Box, second: Box, t: float) -> Box:
    """The axis limits on the straight line from `first` to `second`."""
    return tuple(
        tuple((1 - t) * a + t * b for a, b in zip(p, q, strict=True)) for p, q in zip(first, second, strict=True)
    )


def player_html(animation: FuncAnimation, dpi: int) -> str:
    """The animation as self-contained HTML: matplotlib's JS player, PNG frames, Unicode buttons, no CDN link.

    The player's labels (`PLAYER_TEXTS`: tooltips, screen-reader labels, the repetition modes) are
    translated into the chosen language.
    """
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png"}):
        html = animation.to_jshtml(default_mode="once")
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    html = re.sub(r'<i class="([^"]*)"></i>', lambda m: BUTTON_SYMBOLS.get(m.group(1), "\u2022"), html)
    for english in PLAYER_TEXTS:
        translated = escape(_(english))
        html = html.replace(f'"{english}"', f'"{translated}"').replace(f">{english}</label>", f">{translated}</label>")
    return html


def animate_layers(
    model: nn.Module,
    *,
    n_points: int = 1000,
    n_lines: int = 7,
    extent: float = 2.5,
    frames_per_layer: int = 4,
    interval: int = 120,
    size: float = 3.2,
    dpi: int = 80,
    title: str | None = None,
    generator: torch.Generator | None = None,
) -> HTML:
    r"""An HTML/JS animation of noise and a grid flowing through the layers of `model`, for a notebook cell.

    `model`: a `Compose` (or a flow built on one); one bijector counts as one layer. `n_points` noise
    points $u \sim \mathcal N(0, I)$ from `generator` (coloured by their angle, as in `plot_deformation`)
    and `n_lines` grid lines each way over $[-e, e]^2$, $e$ = `extent`. `frames_per_layer` in-between
    frames per layer (see `frame_plan`), `interval` milliseconds per frame, a square figure of `size`
    inches at `dpi`. The returned object's `.data` is the HTML string (its length is the notebook cost).
    """
    check_positive_int(n_points, "n_points")
    check_positive_int(n_lines, "n_lines")
    check_positive_int(interval, "interval")
    check_positive_int(dpi, "dpi")
    u = torch.randn(n_points, 2, generator=generator)
    lines = grid_lines(extent, n_lines)
    tensors = forward_stages(model, torch.cat([u, lines.reshape(-1, 2)]))
    stages = [stage.numpy() for stage in tensors]  # K + 1 arrays of shape (N + 2 * L * T, 2)
    layers = layers_of(model)
    plan = frame_plan(len(layers), frames_per_layer, [isinstance(layer, Permutation) for layer in layers])
    boxes = [box_around(stage[:n_points], pad=0.15) for stage in stages]

    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    plt.close(fig)  # only the animation is shown, not a still of its first frame
    angle = np.arctan2(u[:, 1].numpy(), u[:, 0].numpy())  # (N,)
    colors = mpl.colormaps[ANGLE_CMAP]((angle + np.pi) / (2 * np.pi))  # (N, 4)
    line_colors = [GRID_LINE_COLORS[0]] * n_lines + [GRID_LINE_COLORS[1]] * n_lines
    curves = LineCollection([], colors=line_colors, linewidths=0.6, alpha=0.8, zorder=1)
    ax.add_collection(curves)
    scatter_points(ax, stages[0][:n_points], colors, alpha=0.7, zorder=2)
    points = ax.collections[-1]
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)

    def draw(frame: int) -> list:
        k, t = plan[frame]
        z = between(stages, k, t)
        points.set_offsets(z[:n_points])
        curves.set_segments(list(z[n_points:].reshape(2 * n_lines, LINE_POINTS, 2)))
        box = interpolate_box(boxes[max(k - 1, 0)], boxes[k], t)
        ax.set_xlim(*box[0])
        ax.set_ylim(*box[1])
        label = stage_title(k, layers)
        ax.set_title(label if title is None else f"{title}\n{label}", fontsize=11)
        return [points, curves]

    animation = FuncAnimation(fig, draw, frames=len(plan), interval=interval, blit=False)
    return HTML(player_html(animation, dpi))
