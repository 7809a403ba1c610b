"""The demo data sets, read from the package (see data/README.md for their source and licence)."""

from __future__ import annotations

import dataclasses
import gzip
from importlib import resources

import numpy as np

DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Features, targets and feature names of a small data set."""

    name: str
    x: np.ndarray  # (samples, features), float64
    y: np.ndarray  # (samples,)
    features: tuple[str, ...]


def _read(name: str, delimiter: str | None) -> np.ndarray:
    with resources.files(__package__).joinpath("data", name).open("rb") as raw, gzip.open(raw) as handle:
        return np.loadtxt(handle, delimiter=delimiter, dtype=np.float64)


def load_diabetes() -> Dataset:
    """The 442-patient diabetes data of Efron et al. (2004), unscaled; y is disease progression."""
    return Dataset("diabetes", _read("diabetes_data_raw.csv.gz", None), _read("diabetes_target.csv.gz", None), DIABETES_FEATURES)


def load_digits() -> Dataset:
    """The 1,797 8x8 handwritten digits; x holds pixels 0..16, y the labels 0..9 as int64."""
    table = _read("digits.csv.gz", ",")
    features = tuple(f"pixel_{row}_{col}" for row in range(8) for col in range(8))
    return Dataset("digits", table[:, :64], table[:, 64].astype(np.int64), features)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) of a shuffled split fixed by `seed`."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])
