# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 04: coupling layers, masks, and NICE

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check builds random
# masks and networks, hands them to your code, and tells you what is right, what is wrong, and how many
# points it would earn. The grader uses other masks, networks and sizes, so make your code right in general.
#
# All tensors here are `float64`. Shapes: points `(N, D)`, one log-det or log-density per point `(N,)`, a
# mask `(D,)` with 1 for a kept coordinate and 0 for a transformed one.

# %% key="imports"
import math

import torch

from nfcourse.bijectors import Bijector
from nfcourse.checks import check, summary

# %% [markdown] key="affine-coupling"
# ## Task 1: an affine coupling layer (4 points)
#
# A coupling layer keeps the coordinates with mask $b_i = 1$ and shifts and scales the others, with a shift
# $\mu$ and a log-scale $\alpha$ that a network computes from the kept coordinates only:
# $$x = b \odot u + (1 - b) \odot \big(u \odot e^{\alpha} + \mu\big), \qquad (\mu, \alpha) = \mathrm{net}(b \odot u).$$
# Since $b \odot x = b \odot u$, the inverse can run the same network on $b \odot x$ and undo the map in one
# pass. The Jacobian is triangular up to a reordering of the coordinates, with $1$ on the diagonal for a kept
# coordinate and $e^{\alpha_i}$ for a transformed one, so
# $$\log\lvert\det J\rvert = \sum_i (1 - b_i)\,\alpha_i .$$
# Write the class `AffineCouplingLayer(mask, net)`: `forward(u)` returns `(x, logdet)`, `inverse(x)` returns
# `(u, logdet)`, each with the log-det of its own direction. `net(h)` returns `(mu, alpha)`, each of shape
# `(N, D)`, and it reads every coordinate of `h` and returns values for every coordinate, the kept ones
# included: masking its input and its output is your job. One point each for the two values and the two
# log-dets.
#
# *Hint:* the self-check's masks are random, not the first half of the coordinates.


# %% key="affine-coupling-code" tags=["task"]
class AffineCouplingLayer(Bijector):
    """Affine coupling: the coordinates with mask 1 pass unchanged and set the shift and scale of the others."""

    def __init__(self, mask: torch.Tensor, net) -> None:
        super().__init__()
        self.mask = mask
        self.net = net

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        mu, alpha = self.net(u * self.mask)
        x = self.mask * u + (1 - self.mask) * (u * torch.exp(alpha) + mu)
        return x, ((1 - self.mask) * alpha).sum(dim=1)
        ### END SOLUTION

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        nu, beta = self.net(x * self.mask)
        u = self.mask * x + (1 - self.mask) * (x - nu) * torch.exp(-beta)
        return u, -((1 - self.mask) * beta).sum(dim=1)
        ### END SOLUTION


# %% key="affine-coupling-check" tags=["check"]
check("04.affine_coupling", AffineCouplingLayer)

# %% [markdown] key="masks"
# ## Task 2: the masks of a Real-NVP stack (3 points)
#
# One coupling layer never changes the coordinates it keeps. A Real-NVP stack therefore flips the mask from
# one layer to the next, $b^{(k+1)} = 1 - b^{(k)}$, so that the next layer transforms exactly what this
# one kept. Write `realnvp_masks(dim, layers, pattern)`, returning a tensor of shape `(layers, dim)` whose row
# $k$ is the mask of layer $k$ (counting from 0). Layer 0 keeps
#
# - for `pattern="half"`: the first $\lfloor D/2 \rfloor$ coordinates (`dim // 2` of them);
# - for `pattern="alternating"`: the even coordinates $0, 2, 4, \dots$
#
# and every later layer flips the mask of the layer before it. Two points for `"half"`, checked with an odd
# $D$, one for `"alternating"`.
#
# *Hint:* with $D = 5$ and three layers, `"half"` gives the rows `1 1 0 0 0`, `0 0 1 1 1`, `1 1 0 0 0`.


# %% key="masks-code" tags=["task"]
def realnvp_masks(dim: int, layers: int, pattern: str) -> torch.Tensor:
    """The masks of `layers` coupling layers in `dim` dimensions, shape (layers, dim): 1 = kept, flipped per layer."""
    ### BEGIN SOLUTION
    position = torch.arange(dim)
    first = position < dim // 2 if pattern == "half" else position % 2 == 0
    rows = [first if k % 2 == 0 else ~first for k in range(layers)]
    return torch.stack(rows).to(torch.float64)
    ### END SOLUTION


# %% key="masks-check" tags=["check"]
check("04.masks", realnvp_masks)

# %% [markdown] key="nice"
# ## Task 3: the log-density of a NICE flow (4 points)
#
# NICE samples $x$ from noise $u \sim \mathcal N(0, I)$ with $K$ additive coupling layers and one diagonal
# scaling at the end. With $h^{(0)} = u$:
# $$h^{(k)} = h^{(k-1)} + (1 - b^{(k)}) \odot m_k\big(b^{(k)} \odot h^{(k-1)}\big) \quad (k = 1, \dots, K),
# \qquad x = h^{(K)} \odot e^{s}.$$
# An additive layer has $\alpha = 0$: its log-det is exactly 0, it preserves volume. The scaling is the only
# change of volume, with the same log-det $\sum_i s_i$ at every point, so
# $$\log p(x) = \log \mathcal N(u; 0, I) - \sum_i s_i .$$
# Write `nice_log_prob(x, masks, nets, log_scale)` returning `(u, log_p)`: `masks` has shape `(K, D)` (row
# $k$ is the mask of layer $k + 1$, in sampling order), `nets` is the list of the $K$ shift networks in the same
# order, `nets[k](h)` returns the shift of shape `(N, D)` for every coordinate, and `log_scale` is $s$,
# of shape `(D,)`. Two points for `u`, two for `log_p`.
#
# *Hint:* go from $x$ back to $u$, undoing the last step of sampling first. The self-check's masks are random,
# so do not assume that they alternate.


# %% key="nice-code" tags=["task"]
def nice_log_prob(x: torch.Tensor, masks: torch.Tensor, nets: list, log_scale: torch.Tensor) -> tuple:
    """The noise u (N, D) of the points x (N, D) under a NICE flow, and their log-density log p(x) (N,)."""
    ### BEGIN SOLUTION
    h = x * torch.exp(-log_scale)
    for mask, net in zip(reversed(masks), reversed(nets), strict=True):
        h = h - (1 - mask) * net(h * mask)
    log_base = -0.5 * (h**2).sum(dim=1) - 0.5 * h.shape[1] * math.log(2 * math.pi)
    return h, log_base - log_scale.sum()
    ### END SOLUTION


# %% key="nice-check" tags=["check"]
check("04.nice", nice_log_prob)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/04_coupling.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("04")
