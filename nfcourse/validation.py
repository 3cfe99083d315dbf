"""Checks of the input every public function makes first, so bad input fails loudly and clearly.

A wrong shape or dtype would otherwise surface deep inside PyTorch as a broadcasting error,
or worse, as a silently wrong number. Each check names what was expected and what was given.
"""

from __future__ import annotations

import torch

from nfcourse.i18n import _


def check_points(x: object, dim: int | None = None, name: str = "x", finite: bool = False) -> torch.Tensor:
    """Check that `x` is a floating-point tensor of shape (batch, dim) and return it.

    `dim=None` accepts any number of columns. `finite=True` also rejects NaN and inf entries
    (it reads the values, so it is left to the entry points: `Flow.log_prob`, `fit`, datasets).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            _("{name} must be a torch.Tensor of shape (batch, dim), got {type}.").format(
                name=name, type=type(x).__name__
            )
        )
    if not torch.is_floating_point(x):
        raise TypeError(
            _("{name} must have a floating-point dtype (float32 or float64), got {dtype}.").format(
                name=name, dtype=x.dtype
            )
        )
    if x.ndim != 2:
        raise ValueError(
            _("{name} must have shape (batch, dim), got shape {shape}.").format(name=name, shape=tuple(x.shape))
        )
    if dim is not None and x.shape[1] != dim:
        raise ValueError(
            _("{name} must have {dim} columns (shape (batch, {dim})), got shape {shape}.").format(
                name=name, dim=dim, shape=tuple(x.shape)
            )
        )
    if finite and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise ValueError(
            _("{name} contains NaN or infinite values in {count} of its {batch} rows.").format(
                name=name, count=bad, batch=x.shape[0]
            )
        )
    return x


def check_positive_int(value: object, name: str) -> int:
    """Check that `value` is an int >= 1 (bool is not accepted) and return it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(_("{name} must be a positive whole number, got {value!r}.").format(name=name, value=value))
    return value


def check_choice(value: object, choices: tuple[str, ...], name: str) -> str:
    """Check that `value` is one of the strings `choices` (a layer's option, an activation) and return it."""
    if value not in choices:
        raise ValueError(
            _("{name} must be one of {choices}, got {value!r}.").format(
                name=name, choices=", ".join(choices), value=value
            )
        )
    return value
