r"""Tests of `nfcourse.datasets`: fixed seeded splits, standardization, and the true densities.

Statistical checks compare a sample statistic with its exact value within K standard errors, with K
stated next to each test; every random draw is seeded, so the outcome is repeatable. Numerical checks
(integrals, quadrature) take their tolerance from an error bound derived in the test's docstring.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.path import Path
from matplotlib.transforms import Bbox

from nfcourse.datasets import DATASET_NAMES, Dataset, EightGaussians, NoisyCurves, Word, load, oracle_table

N_TRAIN, N_TEST = 10_000, 2_000
CURVES = ["moons", "spirals", "rings"]


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return {name: load(name, n_train=N_TRAIN, n_test=N_TEST, seed=0) for name in DATASET_NAMES}


# ---------------------------------------------------------------- splits: seeds, shapes, standardization


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_same_seed_gives_identical_splits(name: str) -> None:
    first, second = load(name, n_train=500, n_test=200, seed=3), load(name, n_train=500, n_test=200, seed=3)
    assert torch.equal(first.train, second.train) and torch.equal(first.test, second.test)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_other_seed_gives_other_points(name: str) -> None:
    first, second = load(name, n_train=500, n_test=200, seed=3), load(name, n_train=500, n_test=200, seed=4)
    assert not torch.equal(first.train, second.train) and not torch.equal(first.test, second.test)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_train_and_test_share_no_point(datasets: dict[str, Dataset], name: str) -> None:
    train, test = datasets[name].train, datasets[name].test
    assert not (test[:, None, :] == train[None, :, :]).all(dim=2).any()


def test_test_split_does_not_change_with_n_train() -> None:
    assert torch.equal(load("moons", n_train=100, seed=1).test, load("moons", n_train=3_000, seed=1).test)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_splits_are_float32_cpu_tensors_of_the_requested_shapes(datasets: dict[str, Dataset], name: str) -> None:
    data = datasets[name]
    for split, n in [(data.train, N_TRAIN), (data.test, N_TEST)]:
        assert split.shape == (n, 2) and split.dtype == torch.float32 and split.device.type == "cpu"


def test_loading_and_sampling_leave_the_global_generator_alone() -> None:
    torch.manual_seed(0)
    state = torch.get_rng_state()
    for name in DATASET_NAMES:
        load(name, n_train=50, n_test=50).sample(50, torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)


def test_same_generator_seed_gives_same_fresh_samples(datasets: dict[str, Dataset]) -> None:
    data = datasets["spirals"]
    first = data.sample(300, torch.Generator().manual_seed(7))
    assert torch.equal(first, data.sample(300, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, data.sample(300, torch.Generator().manual_seed(8)))


K_MOMENTS = 5  # standard errors; the moments of the standardization are exact, so this is pure sampling noise


def _standard_errors(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Standard errors of the per-axis sample mean, $\mathrm{sd}/\sqrt n$, and variance, $\sqrt{(m_4 - v^2)/n}$."""
    n, centered = len(x), x - x.mean(dim=0)
    variance = centered.pow(2).mean(dim=0)
    return (variance / n).sqrt(), ((centered.pow(4).mean(dim=0) - variance**2) / n).sqrt()


@pytest.mark.parametrize("name", [name for name in DATASET_NAMES if name != "word"])
def test_train_split_has_mean_0_and_variance_1_per_axis(datasets: dict[str, Dataset], name: str) -> None:
    x = datasets[name].train.double()
    se_mean, se_variance = _standard_errors(x)
    assert (x.mean(dim=0).abs() <= K_MOMENTS * se_mean).all()
    assert ((x.var(dim=0) - 1).abs() <= K_MOMENTS * se_variance).all()


def test_word_is_standardized_with_one_common_scale_keeping_its_shape(datasets: dict[str, Dataset]) -> None:
    r"""Mean 0 per axis and $(\mathrm{Var}[x_1] + \mathrm{Var}[x_2])/2 = 1$; the letters are not squeezed."""
    data = datasets["word"]
    x = data.train.double()
    se_mean, _ = _standard_errors(x)
    assert (x.mean(dim=0).abs() <= K_MOMENTS * se_mean).all()
    q = (x - x.mean(dim=0)).pow(2).mean(dim=1)  # per point, the average over the two axes: E[q] = 1
    assert abs(q.mean() - 1) <= K_MOMENTS * q.std() / math.sqrt(len(q))
    scale = data.standardization.scale
    assert scale[0] == scale[1]
    assert x[:, 0].std() > 3 * x[:, 1].std()  # "FLOW" is much wider than tall, and stays so


# ---------------------------------------------------------------- true densities integrate to one


def _grid(lower: torch.Tensor, upper: torch.Tensor, h: float) -> tuple[torch.Tensor, float]:
    """Midpoints of square cells of side about `h` covering the box [lower, upper], and the cell area."""
    counts = ((upper - lower) / h).ceil().long()
    axes = [
        lower[i] + (torch.arange(int(counts[i]), dtype=torch.float64) + 0.5) * (upper[i] - lower[i]) / counts[i]
        for i in range(2)
    ]
    cell = float(((upper - lower) / counts).prod())
    return torch.cartesian_prod(*axes), cell


@pytest.mark.parametrize("name", [*CURVES, "eight_gaussians"])
def test_smooth_true_density_integrates_to_one(datasets: dict[str, Dataset], name: str) -> None:
    r"""Riemann sum over a box reaching 10 noise widths beyond every Gaussian centre, spacing $h = \sigma_x / 1.5$.

    Both densities are mixtures of $\mathcal{N}(c_j, \sigma^2 I)$ (for the curves the $c_j$ are the
    quadrature nodes). Mass outside the box: below $4\Phi(-10) < 10^{-22}$. Grid error: by Poisson
    summation, below $4\exp(-2\pi^2 \sigma_x^2/h^2) = 4e^{-44} < 10^{-18}$ ($\sigma_x$ the smaller noise
    width in standardized units). So 1e-9 only has to absorb float64 rounding.
    """
    data = datasets[name]
    raw = data.distribution
    centres = raw.nodes if isinstance(raw, NoisyCurves) else raw.centers
    assert isinstance(raw, (NoisyCurves, EightGaussians))
    std = data.standardization
    sigma = raw.noise / std.scale  # noise width per standardized axis, (2,)
    lower = std.to_standard(centres).min(dim=0).values - 10 * sigma
    upper = std.to_standard(centres).max(dim=0).values + 10 * sigma
    points, cell = _grid(lower, upper, float(sigma.min()) / 1.5)
    total = float(data.log_prob(points).exp().sum() * cell)
    assert abs(total - 1) < 1e-9


def test_checkerboard_density_integrates_to_one_on_a_grid_aligned_with_the_squares(
    datasets: dict[str, Dataset],
) -> None:
    """8 x 8 cells per square, none cut by an edge: the Riemann sum of a piecewise constant density is exact."""
    data = datasets["checkerboard"]
    corners = data.standardization.to_standard(torch.tensor([[-2.0, -2.0], [2.0, 2.0]], dtype=torch.float64))
    square = float(corners[1, 0] - corners[0, 0]) / 4
    points, cell = _grid(corners[0], corners[1], square / 8)
    assert abs(float(data.log_prob(points).exp().sum() * cell) - 1) < 1e-12


def test_word_density_integrates_to_one_within_the_grid_error_bound(datasets: dict[str, Dataset]) -> None:
    r"""Riemann sum of $1/|A|$ over the letters' bounding box, cells of side $h = 0.005$.

    Only cells met by an edge can be misjudged, each by at most $h^2/|A|$. An edge with extent
    $(\Delta_1, \Delta_2)$ meets at most $3 + (|\Delta_1| + |\Delta_2|)/h$ cells, which bounds the error
    (about 0.06 here; `test_word_area_equals_the_shoelace_sum_over_its_contours` checks $|A|$ exactly).
    """
    data = datasets["word"]
    word = data.distribution
    std = data.standardization
    points, cell = _grid(std.to_standard(word.lower), std.to_standard(word.upper), 0.005)
    total = float(data.log_prob(points).exp().sum() * cell)
    extent = (std.to_standard(word.edges[:, 1]) - std.to_standard(word.edges[:, 0])).abs().sum(dim=1)  # (E,)
    area = word.area / float(std.scale.prod())  # |A| in standardized units
    bound = float((3 + extent / 0.005).sum()) * 0.005**2 / area
    assert abs(total - 1) <= bound


def _shoelace(contour: torch.Tensor) -> float:
    """Unsigned area of one closed polygon (V, 2)."""
    x, y = contour[:, 0], contour[:, 1]
    return abs(float((x * y.roll(-1) - x.roll(-1) * y).sum())) / 2


def _depths(word: Word) -> list[int]:
    """For each contour, how many other contours surround it (matplotlib's test on one closed piece)."""
    paths = [Path(c.numpy()) for c in word.contours]
    return [
        sum(other.contains_point(word.contours[i][0].tolist()) for j, other in enumerate(paths) if j != i)
        for i in range(len(paths))
    ]


def test_word_area_equals_the_shoelace_sum_over_its_contours() -> None:
    r"""An independent exact area: outlines count $+$, holes (inside an odd number of others) $-$; rounding only."""
    word = Word("OAB8 flow")
    shoelace = sum((-1) ** depth * _shoelace(c) for depth, c in zip(_depths(word), word.contours, strict=True))
    assert word.area == pytest.approx(shoelace, rel=1e-12)


# ---------------------------------------------------------------- true densities match histograms

N_HISTOGRAM = 20_000
K_BIN = 4.5  # standard errors per bin; with <= 150 bins a correct sampler fails with chance ~1e-3 (normal approx.)


def _bin_probabilities(data: Dataset, x_edges: torch.Tensor, y_edges: torch.Tensor, q: int) -> torch.Tensor:
    """Integral of the true density over each bin by a q x q Gauss-Legendre rule per bin; shape (bins_x, bins_y)."""
    nodes, weights = (torch.from_numpy(a) for a in np.polynomial.legendre.leggauss(q))  # on [-1, 1]

    def axis(edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        middle, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        return middle[:, None] + half[:, None] * nodes, half[:, None] * weights  # (bins, q) each

    (xs, wx), (ys, wy) = axis(x_edges), axis(y_edges)
    points = torch.cartesian_prod(xs.reshape(-1), ys.reshape(-1))
    density = data.log_prob(points).exp().reshape(len(x_edges) - 1, q, len(y_edges) - 1, q)
    return torch.einsum("iajb,ia,jb->ij", density, wx, wy)


def _word_bin_probabilities(data: Dataset, x_edges: torch.Tensor, y_edges: torch.Tensor) -> torch.Tensor:
    r"""Exact bin probabilities of the word, $|A \cap \text{bin}| / |A|$, without the library's inside test.

    For nested contours the indicator of the even-odd region is $\sum_c (-1)^{\text{depth}(c)} 1[\text{inside } c]$,
    so $|A \cap \text{bin}| = \sum_c (-1)^{\text{depth}(c)} |c \cap \text{bin}|$, each term the shoelace area of
    the contour clipped to the (convex) bin by matplotlib's `Path.clip_to_bbox`.
    """
    word, std = data.distribution, data.standardization
    assert isinstance(word, Word)
    xs = std.to_raw(torch.stack([x_edges, torch.zeros_like(x_edges)], dim=1))[:, 0].tolist()
    ys = std.to_raw(torch.stack([torch.zeros_like(y_edges), y_edges], dim=1))[:, 1].tolist()
    signed = list(zip(_depths(word), word.contours, strict=True))
    p = torch.zeros(len(xs) - 1, len(ys) - 1, dtype=torch.float64)
    for i, j in np.ndindex(*p.shape):
        box = Bbox([[xs[i], ys[j]], [xs[i + 1], ys[j + 1]]])
        clipped = [(depth, Path(c.numpy()).clip_to_bbox(box).vertices) for depth, c in signed]
        p[i, j] = sum((-1) ** d * _shoelace(torch.from_numpy(v)) for d, v in clipped if len(v) >= 3) / word.area
    return p


HISTOGRAM_BINS = {  # box and bins per data set; the checkerboard's bins share the squares' edges
    "moons": ((-3, 3, 12), (-3, 3, 12)),
    "spirals": ((-3, 3, 12), (-3, 3, 12)),
    "rings": ((-3, 3, 12), (-3, 3, 12)),
    "eight_gaussians": ((-3, 3, 12), (-3, 3, 12)),
    "checkerboard": ((-math.sqrt(3), math.sqrt(3), 8), (-math.sqrt(3), math.sqrt(3), 8)),
    "word": ((-2.5, 2.5, 20), (-0.75, 0.75, 6)),
}


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_true_density_matches_a_histogram_of_samples(datasets: dict[str, Dataset], name: str) -> None:
    r"""Counts of N = 20,000 fresh samples per bin against $N p_b$, $p_b$ the density's integral over bin b.

    A bin passes when $|O_b - N p_b| \le K \sqrt{N p_b (1 - p_b)} + N\epsilon_b$, K = 4.5. $p_b$ comes
    from a 16 x 16-node Gauss-Legendre rule per bin, and $\epsilon_b = 2|p_b^{(16)} - p_b^{(8)}|$, twice its
    change from the 8-node rule, bounds its error: for these smooth densities the rule converges
    geometrically, so the change overestimates the error by far. The checkerboard's bins share the
    squares' edges (constant density per bin: exact); the word's $p_b$ are exact (`_word_bin_probabilities`).
    Bins with $N p_b < 5$, where the normal approximation fails, are pooled with the mass outside the
    box into one more bin, whose error is the sum of the others'.
    """
    data = datasets[name]
    (x0, x1, nx), (y0, y1, ny) = HISTOGRAM_BINS[name]
    x_edges = torch.linspace(x0, x1, nx + 1, dtype=torch.float64)
    y_edges = torch.linspace(y0, y1, ny + 1, dtype=torch.float64)
    if name == "word":
        p = _word_bin_probabilities(data, x_edges, y_edges).reshape(-1)
        error = torch.zeros_like(p)
    else:
        p = _bin_probabilities(data, x_edges, y_edges, 16).reshape(-1)
        error = 2 * (p - _bin_probabilities(data, x_edges, y_edges, 8).reshape(-1)).abs()
    x = data.sample(N_HISTOGRAM, torch.Generator().manual_seed(2024)).double()
    counts = torch.histogramdd(x, bins=[x_edges, y_edges]).hist.reshape(-1).double()
    small = N_HISTOGRAM * p < 5
    p = torch.cat([p[~small], (1 - p[~small].sum()).reshape(1)])
    error = torch.cat([error[~small], error[~small].sum().reshape(1)])
    counts = torch.cat([counts[~small], (N_HISTOGRAM - counts[~small].sum()).reshape(1)])
    allowed = K_BIN * (N_HISTOGRAM * p * (1 - p)).clamp(min=0).sqrt() + N_HISTOGRAM * error
    assert ((counts - N_HISTOGRAM * p).abs() <= allowed).all(), (counts - N_HISTOGRAM * p).abs() / allowed


# ---------------------------------------------------------------- quadrature, oracle NLL, log_prob


@pytest.mark.parametrize("name", CURVES)
def test_curve_density_changes_by_less_than_1e_10_when_the_panels_double(
    datasets: dict[str, Dataset], name: str
) -> None:
    data = datasets[name]
    raw = data.distribution
    assert isinstance(raw, NoisyCurves)
    finer = NoisyCurves(raw.curves, raw.weights.tolist(), raw.noise, refinement=2)
    y = data.standardization.to_raw(data.test.double())
    assert (raw.log_prob(y) - finer.log_prob(y)).abs().max() < 1e-10


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_oracle_nll_is_finite_and_reported(datasets: dict[str, Dataset], name: str) -> None:
    data = datasets[name]
    nll = data.oracle_nll()
    print(f"{name}: oracle NLL {nll:.4f} nats ({data.oracle_nll_per_dim():.4f} per dimension) on {N_TEST} points")
    assert math.isfinite(nll) and data.oracle_nll_per_dim() == nll / 2
    assert torch.isfinite(data.log_prob(data.train)).all()  # no stored point falls outside the support


def test_checkerboard_oracle_nll_is_log_6(datasets: dict[str, Dataset]) -> None:
    r"""Density $\frac18$ on the board, times the Jacobian $s^2 = \frac43$: $p = \frac16$ at every point."""
    assert datasets["checkerboard"].oracle_nll() == pytest.approx(math.log(6), abs=1e-12)


def test_oracle_table_has_one_finite_row_per_dataset() -> None:
    rows = oracle_table(n_test=200).splitlines()[2:]
    print("\n".join(rows))
    assert [row.split("|")[1].strip() for row in rows] == list(DATASET_NAMES)
    assert all(math.isfinite(float(row.split("|")[4])) for row in rows)


def test_log_prob_keeps_the_dtype_of_its_input(datasets: dict[str, Dataset]) -> None:
    data = datasets["moons"]
    assert data.log_prob(data.test[:5]).dtype == torch.float32
    assert data.log_prob(data.test[:5].double()).dtype == torch.float64


def test_log_prob_is_minus_infinity_off_the_support(datasets: dict[str, Dataset]) -> None:
    checkerboard = datasets["checkerboard"]
    light_square_centre = checkerboard.standardization.to_standard(torch.tensor([[-1.5, -0.5]], dtype=torch.float64))
    assert checkerboard.log_prob(light_square_centre).item() == -math.inf
    o = load("word", text="O", n_train=10, n_test=10)
    centre = o.standardization.to_standard(((o.distribution.lower + o.distribution.upper) / 2)[None])
    assert o.log_prob(centre).item() == -math.inf


# ---------------------------------------------------------------- the word: holes and the inside test


def test_word_leaves_every_hole_of_its_letters_empty() -> None:
    """ "OAB8" has six holes (O: 1, A: 1, B: 2, 8: 2); none of 20,000 samples lies in one."""
    data = load("word", text="OAB8", n_train=20_000, n_test=10)
    word = data.distribution
    y = data.standardization.to_raw(data.train.double()).numpy()
    holes = [c for depth, c in zip(_depths(word), word.contours, strict=True) if depth % 2 == 1]
    assert len(holes) == 6
    assert all(not Path(hole.numpy()).contains_points(y).any() for hole in holes)


def test_word_inside_test_agrees_with_even_odd_rule_built_from_matplotlib() -> None:
    """Inside = inside an odd number of contours, each contour tested alone by `Path.contains_points`."""
    word = Word("OAB8 flow")
    y = word.lower + (word.upper - word.lower) * torch.rand(
        20_000, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64
    )
    parity = np.zeros(len(y), dtype=bool)
    for contour in word.contours:
        parity ^= Path(contour.numpy()).contains_points(y.numpy())
    assert np.array_equal(word.inside(y).numpy(), parity)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.text(alphabet="ABDOPQRabdegopq048&@ ", min_size=1, max_size=5).filter(lambda s: s.strip()))
def test_any_word_has_its_samples_inside_and_its_shoelace_area(text: str) -> None:
    word = Word(text)
    y = word.sample(300, torch.Generator().manual_seed(0))
    assert word.inside(y).all()
    shoelace = sum((-1) ** depth * _shoelace(c) for depth, c in zip(_depths(word), word.contours, strict=True))
    assert word.area == pytest.approx(shoelace, rel=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib_fontja") is None, reason="needs matplotlib-fontja")
def test_japanese_word_is_drawn_with_the_japanese_font() -> None:
    data = load("word", text="フロー", n_train=100, n_test=100)
    assert torch.isfinite(data.log_prob(data.test)).all()


# ---------------------------------------------------------------- bad input fails clearly

BAD_INPUTS = {
    "unknown name, with the closest suggested": (lambda: load("moon"), ValueError, r"Unknown data set.*'moons'"),
    "name not a string": (lambda: load(3), TypeError, "must be a string"),
    "empty word": (lambda: load("word", text=""), ValueError, "at least one visible character"),
    "whitespace word": (lambda: load("word", text=" \t\n"), ValueError, "at least one visible character"),
    "word not a string": (lambda: load("word", text=42), TypeError, "text must be a string"),
    "word without outline": (lambda: load("word", text="\u200b"), ValueError, "no drawable glyphs"),
    "word without glyphs": (lambda: load("word", text="\x00"), ValueError, "No font has glyphs"),
    "zero n_train": (lambda: load("moons", n_train=0), ValueError, "n_train must be a positive whole number"),
    "float n_test": (lambda: load("moons", n_test=2.5), ValueError, "n_test must be a positive whole number"),
    "negative seed": (lambda: load("moons", seed=-1), ValueError, "seed must be a whole number >= 0"),
    "negative noise": (lambda: load("moons", noise=-0.1), ValueError, "noise must be a positive standard deviation"),
    "zero noise": (lambda: load("rings", noise=0), ValueError, "noise must be a positive standard deviation"),
    "noise not a number": (lambda: load("spirals", noise="0.1"), TypeError, "noise must be a number"),
    "unknown option": (lambda: load("moons", text="FLOW"), ValueError, r"Unknown option.*text.*takes: noise"),
    "option where none exist": (lambda: load("checkerboard", noise=0.1), ValueError, r"Unknown option.*noise"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_raises_a_message_naming_what_was_expected(case: str) -> None:
    make, error, message = BAD_INPUTS[case]
    with pytest.raises(error, match=message):
        make()


def test_bad_calls_on_a_dataset_raise_clear_errors(datasets: dict[str, Dataset]) -> None:
    data = datasets["moons"]
    with pytest.raises(ValueError, match=r"x must have 2 columns"):
        data.log_prob(torch.zeros(4, 3))
    with pytest.raises(TypeError, match="floating-point"):
        data.log_prob(torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="n must be a positive whole number"):
        data.sample(0, torch.Generator())
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator"):
        data.sample(10, None)


@pytest.mark.parametrize("name", ["moons", "spirals", "rings"])
def test_curve_shares_of_fresh_data_estimate_the_curve_weights(name: str) -> None:
    """The shares of n fresh points lie within 4 standard errors of the curves' weights w_k."""
    data = load(name, n_train=10, n_test=10, seed=0)
    n = 20_000
    shares = data.curve_shares(data.sample(n, torch.Generator().manual_seed(1)))
    weights = data.distribution.weights
    standard_errors = (weights * (1 - weights) / n).sqrt()  # of a share of n draws; P(k|x) in [0, 1] varies less
    assert shares.sum().item() == pytest.approx(1.0)
    assert torch.all((shares - weights).abs() <= 4 * standard_errors), (shares, weights)


def test_curve_probabilities_name_the_curve_a_point_lies_on() -> None:
    data = load("moons", n_train=10, n_test=10, seed=0)
    on_curves = data.standardization.to_standard(torch.tensor([[0.0, 1.0], [1.0, -0.5]], dtype=torch.float64))
    probabilities = data.distribution.curve_probabilities(data.standardization.to_raw(on_curves))
    assert torch.allclose(probabilities, torch.eye(2, dtype=torch.float64), atol=1e-6)


def test_curve_shares_need_a_data_set_made_of_curves() -> None:
    data = load("checkerboard", n_train=10, n_test=10, seed=0)
    with pytest.raises(ValueError, match="not made of curves"):
        data.curve_shares(data.test)
