r"""The bijector contract, and the two ways to build new bijectors from old ones.

A bijector is an invertible, differentiable map between noise $u$ and data $x$:

    forward(u) -> (x, logdet)    noise -> data (sampling),  logdet = log|det dx/du|
    inverse(x) -> (u, logdet)    data -> noise (density),   logdet = log|det du/dx|

Each direction returns the log-determinant of its *own* Jacobian, one number per sample
(shape `(batch,)`), so at matching points forward logdet = -inverse logdet.

Composition adds log-dets (chain rule): for $x = f_K(\dots f_1(u))$,
$\log|\det J| = \sum_k \log|\det J_{f_k}|$.

Reference: Papamakarios et al., Normalizing Flows for Probabilistic Modeling and Inference, 2021,
arXiv:1912.02762. Lessons: 00 onwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from nfcourse.i18n import N_, _


class Bijector(nn.Module):
    """Base class: subclasses implement `forward` and `inverse`, each returning `(output, logdet)`.

    Shapes: u, x: (batch, D); logdet: (batch,). Calling the module (`bijector(u)`) runs `forward`.
    `title` names the kind of bijector for a learner (English, translated where it is shown, e.g. in the
    layer-by-layer pictures).
    """

    title = N_("bijector")

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class Compose(Bijector):
    r"""Bijectors applied one after another: forward runs $f_1$ first, inverse runs $f_K^{-1}$ first.

    Math:   $x = f_K \circ \dots \circ f_1(u)$, $\log|\det J| = \sum_k \log|\det J_{f_k}|$
    Shapes: u, x: (batch, D); logdet: (batch,)
    """

    title = N_("composition")

    def __init__(self, *bijectors: Bijector) -> None:
        super().__init__()
        if not bijectors:
            raise ValueError(_("Compose needs at least one bijector."))
        for b in bijectors:
            if not isinstance(b, Bijector):
                raise TypeError(_("Compose takes Bijector objects, got {type}.").format(type=type(b).__name__))
        self.layers = nn.ModuleList(bijectors)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, logdet = u, u.new_zeros(u.shape[0])
        for layer in self.layers:
            x, step_logdet = layer.forward(x)
            logdet = logdet + step_logdet
        return x, logdet

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u, logdet = x, x.new_zeros(x.shape[0])
        for layer in reversed(self.layers):
            u, step_logdet = layer.inverse(u)
            logdet = logdet + step_logdet
        return u, logdet

    def forward_steps(self, u: torch.Tensor) -> list[torch.Tensor]:
        """The points after each layer of the forward pass: `[u, f_1(u), f_2(f_1(u)), ..., x]`."""
        steps = [u]
        for layer in self.layers:
            steps.append(layer.forward(steps[-1])[0])
        return steps

    def __iter__(self) -> Iterator[Bijector]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)


class Invert(Bijector):
    r"""The same bijector with its directions swapped: `Invert(b).forward` is `b.inverse`.

    Turning a MAF layer (fast density, slow sampling) into an IAF layer (fast sampling,
    slow density) is exactly this. No new parameters: they are shared with `b`.

    Math: $f^{-1}$ of $f$, with $\log|\det J_{f^{-1}}(x)| = -\log|\det J_f(f^{-1}(x))|$
    """

    title = N_("inverted bijector")

    def __init__(self, bijector: Bijector) -> None:
        super().__init__()
        if not isinstance(bijector, Bijector):
            raise TypeError(_("Invert takes a Bijector, got {type}.").format(type=type(bijector).__name__))
        self.bijector = bijector

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.bijector.inverse(u)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.bijector.forward(x)
