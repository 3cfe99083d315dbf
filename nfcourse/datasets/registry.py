"""The data sets by name: `load("moons")`, the list `DATASET_NAMES`, and the table of oracle NLLs.

Every data set is made by one factory; its keyword arguments (with their defaults) are the options
`load` accepts for it, e.g. `load("word", text="FLOW")` or `load("moons", noise=0.05)`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

from nfcourse.datasets.base import RawDistribution
from nfcourse.datasets.closed_form import Checkerboard, EightGaussians
from nfcourse.datasets.curves import moons, rings, spirals
from nfcourse.datasets.dataset import Dataset, draw, split_generator
from nfcourse.datasets.word import Word
from nfcourse.i18n import _
from nfcourse.validation import check_positive_int

FACTORIES: dict[str, Callable[..., RawDistribution]] = {
    "moons": moons,
    "word": Word,
    "eight_gaussians": EightGaussians,
    "checkerboard": Checkerboard,
    "spirals": spirals,
    "rings": rings,
}
DATASET_NAMES: tuple[str, ...] = tuple(FACTORIES)


def load(name: str, n_train: int = 10_000, n_test: int = 2_000, seed: int = 0, **options: object) -> Dataset:
    """Draw the train and test splits of data set `name` (one of `DATASET_NAMES`), standardized.

    The same `name`, options and `seed` always give the same points; train and test come from two
    separate random streams, so the test set does not change with `n_train`. `options` are the data
    set's own, e.g. `text="FLOW"` for "word" or `noise=0.05` for "moons".
    """
    factory = FACTORIES[_check_name(name)]
    check_positive_int(n_train, "n_train")
    check_positive_int(n_test, "n_test")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(_("seed must be a whole number >= 0, got {value!r}.").format(value=seed))
    parameters = inspect.signature(factory).parameters
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        known = ", ".join(parameters) or _("(none)")
        raise ValueError(
            _("Unknown option(s) {unknown} for the data set {name!r}; it takes: {known}.").format(
                unknown=", ".join(unknown), name=name, known=known
            )
        )
    bound = inspect.signature(factory).bind(**options)
    bound.apply_defaults()
    distribution = factory(**bound.arguments)
    standardization = distribution.standardization()
    return Dataset(
        name=name,
        options=dict(bound.arguments),
        seed=seed,
        train=draw(distribution, standardization, n_train, split_generator(seed, "train")),
        test=draw(distribution, standardization, n_test, split_generator(seed, "test")),
        distribution=distribution,
        standardization=standardization,
    )


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(_("The data set name must be a string, got {type}.").format(type=type(name).__name__))
    if name not in FACTORIES:
        message = _("Unknown data set {name!r}; the known ones are: {known}.").format(
            name=name, known=", ".join(DATASET_NAMES)
        )
        close = difflib.get_close_matches(name.lower(), DATASET_NAMES, n=1)
        if close:
            message += " " + _("Did you mean {suggestion!r}?").format(suggestion=close[0])
        raise ValueError(message)
    return name


def oracle_table(n_test: int = 2_000, seed: int = 0) -> str:
    """A Markdown table of every data set's oracle NLL (default options) on its test split."""
    lines = [
        "| data set | options | test points | oracle NLL (nats) | per dimension | standard error |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in DATASET_NAMES:
        data = load(name, n_train=1, n_test=n_test, seed=seed)
        options = ", ".join(f"{key}={value!r}" for key, value in data.options.items())
        lines.append(
            f"| {name} | {options} | {n_test} | {data.oracle_nll():.3f} | {data.oracle_nll_per_dim():.3f} "
            f"| {data.oracle_nll_standard_error():.3f} |"
        )
    return "\n".join(lines)
