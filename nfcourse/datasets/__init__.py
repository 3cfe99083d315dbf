"""2-D toy data sets: seeded, standardized, split into train and test, with their true log-density.

`load(name, n_train, n_test, seed, **options)` returns a `Dataset`; `DATASET_NAMES` lists the names.
The true density gives every lesson the best achievable test NLL (`Dataset.oracle_nll`) to print next
to a model's. `python -m nfcourse.datasets` prints the table of them.
"""

from nfcourse.datasets.base import RawDistribution, Standardization
from nfcourse.datasets.closed_form import Checkerboard, EightGaussians
from nfcourse.datasets.curves import NoisyCurves, moons, rings, spirals
from nfcourse.datasets.dataset import Dataset
from nfcourse.datasets.registry import DATASET_NAMES, load, oracle_table
from nfcourse.datasets.word import Word

__all__ = [
    "DATASET_NAMES",
    "Checkerboard",
    "Dataset",
    "EightGaussians",
    "NoisyCurves",
    "RawDistribution",
    "Standardization",
    "Word",
    "load",
    "moons",
    "oracle_table",
    "rings",
    "spirals",
]
