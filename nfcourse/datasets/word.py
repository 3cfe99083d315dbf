r"""A word as a data set: points uniform inside the letters of any string, holes left empty.

The letters' outlines come from matplotlib's `TextPath` machinery (`text_to_path`) in a bold font
that ships with matplotlib (DejaVu Sans Bold), so the data are the same on every machine; text with
characters that font lacks (Japanese, say) is drawn with IPAexGothic from matplotlib-fontja instead.
The outlines' quadratic and cubic Bézier pieces are cut into `SEGMENTS_PER_CURVE` straight edges, and
this polygon *is* the shape: the sampler, the density and the area all use it, so they agree exactly.
(The polygon stays within $|P_0 - 2P_1 + P_2| / (4 \cdot 8^2)$ of a quadratic piece, a tiny
fraction of a letter.)

Inside means the even-odd rule: a point is inside when the vertical ray above it crosses the edges an
odd number of times, so the counter of an "O", "A" or "B" is outside. We count the crossings ourselves:
matplotlib's `Path.contains_points` treats a path with several closed pieces as the *union* of the
pieces, which would fill every hole (checked with matplotlib 3.11: the centre of an "O" tests inside).

Math:      $p(y) = 1/|A|$ inside the letters $A$, 0 outside ($\log p = -\infty$)
Area:      along a vertical line $y_1 = a$ the edges are crossed at heights $h_1 < h_2 < \dots$; by the
           even-odd rule the inside is $[h_1, h_2] \cup [h_3, h_4] \cup \dots$, of length
           $L(a) = \sum_i (h_{2i} - h_{2i-1})$. Between two neighbouring vertex abscissas every $h$ is
           linear in $a$, so the 2-node Gauss-Legendre rule per slab gives $|A| = \int L(a)\,da$ and
           the first and second moments exactly (their integrands are polynomials of degree <= 3),
           as long as no two edges cross (true for these fonts' outlines; the tests compare $|A|$ with an
           independent shoelace sum). The inside test and the area share `_crossing_heights`.
Standardization: one common scale for both axes keeps the letters' shape:
           $s = \sqrt{(\mathrm{Var}[y_1] + \mathrm{Var}[y_2]) / 2}$
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.path import Path as MplPath
from matplotlib.textpath import text_to_path

from nfcourse.datasets.base import CHUNK_ENTRIES, RawDistribution, Standardization, row_chunks
from nfcourse.i18n import _

SEGMENTS_PER_CURVE = 8


class Word(RawDistribution):
    r"""Uniform on the filled letters of `text` (even-odd rule: holes are empty), in font units.

    Attributes: `contours`, a list of closed polygons (V, 2); `edges` (E, 2, 2), each edge's two
    end points; `area` $|A|$ in font units squared.
    """

    bounded_support = True

    def __init__(self, text: str = "FLOW") -> None:
        font = _font_for(_check_text(text))
        vertices, codes = text_to_path.get_text_path(FontProperties(fname=font), text)
        self.contours = _flatten(vertices, codes)
        if not self.contours:
            raise ValueError(_("The text {text!r} has no drawable glyphs (its outline is empty).").format(text=text))
        self.edges = torch.cat([torch.stack([c, c.roll(-1, dims=0)], dim=1) for c in self.contours])  # (E, 2, 2)
        self.area, self.mean, self.second_moment = _area_and_moments(self.edges)
        if not self.area > 0:
            raise ValueError(_("The text {text!r} has no drawable glyphs (its outline is empty).").format(text=text))
        points = self.edges.reshape(-1, 2)
        self.lower, self.upper = points.min(dim=0).values, points.max(dim=0).values  # bounding box

    def inside(self, y: torch.Tensor) -> torch.Tensor:
        """True where `y` (float64, (batch, 2)) lies inside the letters: an odd number of edges above it."""
        edges = self.edges.to(y)
        parts = [_crossing_heights(edges, block[:, 0]) > block[:, 1:] for block in row_chunks(y, len(edges))]
        return torch.cat(parts).sum(dim=1).remainder(2) == 1  # NaN (edge not crossed) > h is False

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        r"""Rejection sampling: uniform points in the bounding box, kept when inside; about box/$|A|$ tries each."""
        box_area = float((self.upper - self.lower).prod())
        kept, count = [], 0
        while count < n:
            tries = math.ceil(1.1 * (n - count) * box_area / self.area) + 16
            y = self.lower + (self.upper - self.lower) * torch.rand(tries, 2, generator=generator, dtype=torch.float64)
            y = y[self.inside(y)]
            kept.append(y)
            count += len(y)
        return torch.cat(kept)[:n]

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        return torch.where(self.inside(y), y.new_tensor(-math.log(self.area)), y.new_tensor(-math.inf))

    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean, self.second_moment - self.mean**2

    def standardization(self) -> Standardization:
        mean, variance = self.moments()
        return Standardization(shift=mean, scale=variance.mean().sqrt().expand(2).clone())


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(_("text must be a string, got {type}.").format(type=type(text).__name__))
    if not text.strip():
        raise ValueError(_("text must contain at least one visible character, got {text!r}.").format(text=text))
    return text


def _font_for(text: str) -> str:
    """The first font file that has a glyph for every visible character of `text`."""
    fonts = [Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"]
    fontja = importlib.util.find_spec("matplotlib_fontja")  # found without importing it (it restyles plots)
    if fontja is not None and fontja.origin is not None:
        fonts.append(Path(fontja.origin).parent / "fonts" / "ipaexg.ttf")
    fonts = [font for font in fonts if font.is_file()]
    missing: set[str] = set()
    for font in fonts:
        face = FT2Font(str(font))
        missing = {ch for ch in text if not ch.isspace() and face.get_char_index(ord(ch)) == 0}
        if not missing:
            return str(font)
    raise ValueError(
        _("No font has glyphs for the characters {chars} of {text!r}; fonts tried: {fonts}.").format(
            chars=", ".join(repr(ch) for ch in sorted(missing)), text=text, fonts=", ".join(f.name for f in fonts)
        )
    )


def _flatten(vertices: np.ndarray, codes: np.ndarray) -> list[torch.Tensor]:
    """Closed polygons (float64, (V, 2) each) from a path; each Bézier piece becomes `SEGMENTS_PER_CURVE` edges."""
    if len(vertices) == 0:
        return []
    contours: list[list[np.ndarray]] = []
    t = np.arange(1, SEGMENTS_PER_CURVE + 1) / SEGMENTS_PER_CURVE
    for piece, code in MplPath(vertices, codes).iter_bezier():
        if code == MplPath.MOVETO:
            contours.append([piece.control_points])
        elif code != MplPath.CLOSEPOLY:  # the closing edge comes back by itself (the polygon is cyclic)
            contours[-1].append(piece(t) if piece.degree > 1 else piece.control_points[1:])
    polygons = [torch.from_numpy(np.concatenate(points)).to(torch.float64) for points in contours]
    return [p for p in polygons if len(p) >= 3]


def _crossing_heights(edges: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    r"""Heights at which the vertical lines $y_1 = a$ cross each edge, NaN where they miss it: (len(a), E).

    An edge from $(x_1, h_1)$ to $(x_2, h_2)$ counts as crossed when exactly one end has $x \le a$
    (half-open, so a line through a vertex crosses one of its two edges, not both or none);
    vertical edges are never crossed.
    """
    x1, h1, x2, h2 = edges[:, 0, 0], edges[:, 0, 1], edges[:, 1, 0], edges[:, 1, 1]  # (E,) each
    a = a[:, None]
    crossed = (x1 <= a) != (x2 <= a)  # (len(a), E)
    height = h1 + (a - x1) / (x2 - x1) * (h2 - h1)
    return torch.where(crossed, height, torch.nan)


def _area_and_moments(edges: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
    r"""$|A|$, $E[y]$ and $E[y^2]$ (per axis) of the even-odd region, by 2-node Gauss-Legendre per slab."""
    breaks = torch.unique(edges[:, :, 0])  # vertex abscissas, sorted
    middle, half = (breaks[1:] + breaks[:-1]) / 2, (breaks[1:] - breaks[:-1]) / 2
    nodes = torch.cat([middle - half / math.sqrt(3), middle + half / math.sqrt(3)])  # weight `half` each
    weights = torch.cat([half, half])
    sums = torch.zeros(5, dtype=torch.float64)  # integrals of 1, y1, y2, y1^2, y2^2 over A
    step = max(1, CHUNK_ENTRIES // len(edges))
    for start in range(0, len(nodes), step):
        a, w = nodes[start : start + step], weights[start : start + step]
        heights = torch.sort(_crossing_heights(edges, a), dim=1).values  # NaNs sort last
        if heights.shape[1] % 2:
            heights = torch.cat([heights, heights.new_full((len(a), 1), torch.nan)], dim=1)
        # every closed contour is crossed an even number of times, so the valid heights pair up, NaNs with NaNs
        low, high = heights[:, 0::2], heights[:, 1::2]  # pairs (h_1, h_2), (h_3, h_4), ...: (len(a), E/2)
        length = (high - low).nansum(dim=1)  # L(a)
        first = ((high**2 - low**2) / 2).nansum(dim=1)  # integral of y2 along the line
        second = ((high**3 - low**3) / 3).nansum(dim=1)  # integral of y2^2 along the line
        sums += torch.stack([w * length, w * a * length, w * first, w * a**2 * length, w * second]).sum(dim=1)
    area = float(sums[0])
    if area <= 0:
        return 0.0, torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    return area, sums[1:3] / area, sums[3:5] / area
