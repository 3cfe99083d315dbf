# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 08: choosing a flow

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check draws random
# inputs, hands them to your code, and tells you what is right, what is wrong, and how many points it would
# earn. The grader uses other inputs and sizes, so make your code right in general.
#
# The tasks follow the lecture: the structure of a Jacobian decides what its log-det costs (section 2), the
# use decides which direction of a flow must be fast (section 3), and an invertible network can recompute
# its activations from its output (section 4).

# %% key="imports"
import torch

from nfcourse.checks import check, summary
from nfcourse.lab import build_flow

# %% [markdown] key="structure"
# ## Task 1: Jacobian structures and their log-dets (3 points)
#
# Write `structure_and_logdet(J)` for a square float64 matrix `J` of shape `(D, D)`. Return
# `((is_lower, is_upper), logdet)`: two Python booleans saying whether `J` is lower triangular (every entry
# above the diagonal exactly zero) and whether it is upper triangular (every entry below it exactly zero),
# and $\log|\det J|$ as a number or a tensor with one entry. Compute the log-det the cheap way when the
# matrix allows it: a diagonal or triangular matrix has the product of its diagonal as determinant. Only
# for a matrix that is neither may you call `torch.linalg.slogdet`. The self-check hands you diagonal,
# triangular (some of them Jacobians of coupling layers) and full matrices. Two points for the flags of all
# matrices, one for the log-dets.
#
# *Hint:* a diagonal matrix is both lower and upper triangular. Diagonal entries may be negative.


# %% key="structure-code" tags=["task"]
def structure_and_logdet(J: torch.Tensor):
    """((is_lower, is_upper), log|det J|) for a square matrix J, the log-det computed the cheap way if possible."""
    ### BEGIN SOLUTION
    is_lower, is_upper = bool((J.triu(1) == 0).all()), bool((J.tril(-1) == 0).all())
    if is_lower or is_upper:
        return (is_lower, is_upper), J.diagonal().abs().log().sum()
    return (is_lower, is_upper), torch.linalg.slogdet(J).logabsdet
    ### END SOLUTION


# %% key="structure-check" tags=["check"]
check("08.structure", structure_and_logdet)

# %% [markdown] key="posterior"
# ## Task 2: a flow for the posterior of a VAE (4 points)
#
# The encoder of a variational autoencoder needs, for every training example $x$, samples
# $z \sim q(z \mid x)$ and the log-density $\log q(z \mid x)$ of those same samples (lecture, section 3).
# Here we leave out the dependence on $x$ (a real encoder would also give $x$ to the flow's networks) and
# write $q(z)$. Write a class `Posterior` whose
# `__init__(dim)` builds a flow for this need with `build_flow(name, dim, depth)` (any flow of the lecture,
# any depth) and stores it as `self.flow`, and whose `sample_and_score(n, generator)` returns the pair
# `(z, log_q)`: `n` samples of shape `(n, dim)` and their log-densities of shape `(n,)`.
#
# Choose the flow so that drawing the samples and scoring them takes **one network pass per layer**, and
# compute both in that one pass, from the bijector's forward map and its log-det, without `sample_and_log_prob`:
# $$u \sim \mathcal N(0, I), \qquad (z, \log|\det J_f(u)|) = f(u), \qquad \log q(z) = \log p_u(u) - \log|\det J_f(u)|.$$
# Draw the noise with `self.flow.base.sample(n, generator)`: it follows the flow's dtype, and the self-check
# turns your flow into float64 before it calls `sample_and_score`. Two points for the log-densities
# (checked against the flow's own `log_prob` of your samples), one for one pass per layer (the check counts
# how often each network runs, in the forward map and in the inverse), one for drawing the noise from the
# generator.
#
# *Hint:* `self.flow.bijector.forward(u)` returns `(z, logdet)`, and `self.flow.base.log_prob(u)` is
# $\log p_u(u)$. Which flows of section 2's table sample in one pass per layer? In a comment, say in one
# sentence why your choice fits the need (not graded).


# %% key="posterior-code" tags=["task"]
class Posterior:
    """A flow q(z) on dim dimensions that samples and scores its samples in one pass per layer."""

    def __init__(self, dim: int) -> None:
        ### BEGIN SOLUTION
        # An IAF samples in one pass per layer, and the forward pass gives the log-det of its own samples.
        self.flow = build_flow("IAF", dim, depth=4)
        ### END SOLUTION

    def sample_and_score(self, n: int, generator: torch.Generator):
        """(z, log q(z)): n samples (n, dim) and their log-densities (n,), from one forward pass."""
        ### BEGIN SOLUTION
        u = self.flow.base.sample(n, generator)
        z, logdet = self.flow.bijector.forward(u)
        return z, self.flow.base.log_prob(u) - logdet
        ### END SOLUTION


# %% key="posterior-check" tags=["check"]
check("08.posterior", Posterior)

# %% [markdown] key="recompute"
# ## Task 3: recomputing activations from the output (4 points)
#
# A flow's forward map is a list of layers, $x = f_K(\dots f_1(u))$. Write `recompute_activations(layers,
# x)` that, from the output `x` alone, returns every activation of the forward pass,
# `[u, f_1(u), f_2(f_1(u)), ..., x]` (a list of $K + 1$ tensors of the shape of `x`), by inverting the layers
# from the last to the first, as a reversible network does during its backward pass. Each layer is a
# bijector of the course: `layer.inverse(y)` returns `(input, logdet)`. The self-check builds a Real-NVP
# with random weights, runs it forward, and compares your list with the activations it stored. One point
# for the length of the list, three for the activations.
#
# *Hint:* the last entry is `x` itself, and the first is the noise `u`.


# %% key="recompute-code" tags=["task"]
def recompute_activations(layers, x: torch.Tensor) -> list:
    """[u, f_1(u), ..., x]: every activation of the forward pass, recomputed from its output x."""
    ### BEGIN SOLUTION
    activations = [x]
    for layer in reversed(layers):
        activations.insert(0, layer.inverse(activations[0])[0])
    return activations
    ### END SOLUTION


# %% key="recompute-check" tags=["check"]
check("08.recompute", recompute_activations)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/08_comparison_lab.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("08")
