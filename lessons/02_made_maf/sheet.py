# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 02: MADE and the Masked Autoregressive Flow

# %% [markdown] key="how-to"
# Three tasks, 10 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check tries your code
# on a few inputs and tells you what is right, what is wrong, and how many points it would earn. The grader
# uses other inputs (other sizes, other orders), so make your code right in general, not only for these.
#
# Use PyTorch operations only; no loops over samples are needed.

# %% key="imports"
import math

import torch
from torch import nn

from nfcourse.checks import check, summary

# %% [markdown] key="masks"
# ## Task 1: degrees and masks (3 points)
#
# A MADE network with $D$ inputs and one hidden layer of $H$ units gives every unit a *degree*. The inputs
# have the degrees `degrees` $= (m(1), \dots, m(D))$, a permutation of $1, \dots, D$ (the order of the
# autoregressive model). Hidden unit $k = 0, \dots, H-1$ gets the degree
# $$m_h(k) = (k \bmod (D-1)) + 1,$$
# so the hidden degrees run $1, 2, \dots, D-1, 1, 2, \dots$ Output $i$ (one per input, e.g. the shift
# $\mu_i$) has the degree of input $i$. The masks, shaped like `nn.Linear` weights (outputs, inputs), are
# $$M^{\text{hidden}}_{kj} = [\,m_h(k) \ge m(j)\,], \qquad M^{\text{out}}_{ik} = [\,m(i) > m_h(k)\,],$$
# where $[\cdot]$ is 1 if the condition holds and 0 otherwise.
# Write `made_masks(degrees, hidden_size)` returning `(hidden_degrees, hidden_mask, output_mask)` with shapes
# `(H,)`, `(H, D)` and `(D, H)`. One point each.
#
# *Hint:* broadcasting compares all pairs at once: `a[:, None] >= b[None, :]` has shape `(len(a), len(b))`.


# %% key="masks-code" tags=["task"]
def made_masks(degrees: torch.Tensor, hidden_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hidden degrees (H,), hidden mask (H, D) and output mask (D, H) of a one-hidden-layer MADE."""
    ### BEGIN SOLUTION
    dim = len(degrees)
    hidden = torch.arange(hidden_size) % (dim - 1) + 1
    hidden_mask = (hidden[:, None] >= degrees[None, :]).float()
    output_mask = (degrees[:, None] > hidden[None, :]).float()
    return hidden, hidden_mask, output_mask
    ### END SOLUTION


# %% key="masks-check" tags=["check"]
check("02.masks", made_masks)

# %% [markdown] key="masked-linear"
# ## Task 2: a masked linear layer (3 points)
#
# A masked linear layer multiplies its weight by a fixed 0/1 mask before using it:
# $$y = x\,(W \odot M)^\top + b .$$
# Write the class `MaskedLinear(mask)`, a subclass of `nn.Module`. `mask` has shape `(out_features, in_features)`.
# Give it two parameters, `self.weight` of the mask's shape and `self.bias` of shape `(out_features,)`
# (`nn.Parameter`, with the mask's dtype), keep the mask as a buffer (`self.register_buffer("mask", mask)`),
# and compute $y$ from $x$ of shape `(N, in_features)` in `forward`. The self-check sets the weight and the
# bias to values of its own, then checks the output (2 points) and whether training leaves the masked
# weights unchanged: their gradient must be 0 (1 point).
#
# *Hint:* `torch.nn.functional.linear(x, W, b)` computes $x W^\top + b$.


# %% key="masked-linear-code" tags=["task"]
class MaskedLinear(nn.Module):
    """y = x (W * M)^T + b with a fixed 0/1 mask M of shape (out_features, in_features)."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        out_features, in_features = mask.shape
        self.weight = nn.Parameter(torch.randn(out_features, in_features, dtype=mask.dtype) / math.sqrt(in_features))
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=mask.dtype))
        self.register_buffer("mask", mask)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return nn.functional.linear(x, self.weight * self.mask, self.bias)
        ### END SOLUTION


# %% key="masked-linear-check" tags=["check"]
check("02.masked_linear", MaskedLinear)

# %% [markdown] key="maf"
# ## Task 3: the log-density of a MAF (4 points)
#
# A MAF with $K$ layers turns noise into data like this (sampling order): start with $h = u$; for
# $k = 1, \dots, K$ apply the affine autoregressive layer $k$,
# $$h'_i = h_i \, e^{\alpha_i} + \mu_i, \qquad (\mu_i, \alpha_i) = c_k(h'_1, \dots, h'_{i-1}),$$
# so $h \leftarrow h'$, and then, after every layer but the last, reorder the coordinates: `h = h[:, permutation]`. The result is $x$.
#
# Write `maf_log_prob(x, conditioners, permutation)` that goes the other way, from data to noise, and
# returns `(u, log_p)`: the noise $u$ of shape `(N, D)` and $\log p(x)$ of shape `(N,)`. `conditioners` is
# the list $c_1, \dots, c_K$ in sampling order; `conditioner(h)` returns `(mu, alpha)`, each `(N, D)`.
# Undo layer $k$ in one pass, $u = (h - \mu(h))\, e^{-\alpha(h)}$ with log-det $-\sum_i \alpha_i$, and
# undo each permutation before you undo the layer that comes before it in sampling order. Then
# $$\log p(x) = \log \mathcal N(u; 0, I) + \sum_{k} \Big(-\sum_i \alpha^{(k)}_i\Big).$$
# Two points for $u$, two for $\log p(x)$.
#
# *Hint:* the inverse of the reordering `h[:, permutation]` is `h[:, torch.argsort(permutation)]`.


# %% key="maf-code" tags=["task"]
def maf_log_prob(x: torch.Tensor, conditioners: list, permutation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise u (N, D) and log p(x) (N,) of the MAF whose layers, in sampling order, use `conditioners`."""
    ### BEGIN SOLUTION
    h, logdet = x, torch.zeros(x.shape[0], dtype=x.dtype)
    for k, conditioner in enumerate(reversed(conditioners)):
        if k > 0:
            h = h[:, torch.argsort(permutation)]
        mu, alpha = conditioner(h)
        h = (h - mu) * torch.exp(-alpha)
        logdet = logdet - alpha.sum(dim=1)
    log_base = -0.5 * (h**2).sum(dim=1) - 0.5 * h.shape[1] * math.log(2 * math.pi)
    return h, log_base + logdet
    ### END SOLUTION


# %% key="maf-check" tags=["check"]
check("02.maf_log_prob", maf_log_prob)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/02_made_maf.ipynb` (with your sheet's path). It prints the same kind of
# report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("02")
