# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 05: batch normalization as a bijector

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check draws random
# points and parameters, hands them to your code, and tells you what is right, what is wrong, and how many
# points it would earn. The grader uses other inputs and sizes, so make your code right in general.
#
# All tensors here are `float64`. Shapes: points `(N, D)`, one value per coordinate `(D,)`, one log-det per
# point `(N,)`.

# %% key="imports"
import torch

from nfcourse.checks import check, summary

# %% [markdown] key="bijector"
# ## Task 1: the BatchNorm bijector in both directions (5 points)
#
# With a mean $m$ and a variance $v$ per coordinate, a log-scale $\gamma$ and a shift $\beta$, the BatchNorm
# bijector maps data to noise (the density direction, `inverse`) and back (the sampling direction, `forward`):
# $$u = \frac{x - m}{\sqrt{v + \varepsilon}}\, e^{\gamma} + \beta, \qquad
# x = (u - \beta)\, e^{-\gamma} \sqrt{v + \varepsilon} + m .$$
# In training mode (`self.training` is `True`) `inverse` takes $m$ and $v$ from the batch $x$ it is given:
# the mean and the variance that divides by $N$ (not by $N - 1$) of each coordinate. In eval mode, and in
# `forward` always, it uses the running averages `running_mean` and `running_var`. Each method returns the
# log-det of the direction it computes, the same number for every point, as a tensor of shape `(N,)`:
# inverse $\sum_i \big(\gamma_i - \tfrac12 \log(v_i + \varepsilon)\big)$, forward its negative.
# Do not update the running averages here (that is task 2). One point each: `inverse` in training mode
# (values, log-det), `inverse` in eval mode (values and log-det together), `forward` (values, log-det).
#
# *Hint:* `x.var(dim=0)` divides by $N - 1$; `x.var(dim=0, unbiased=False)` by $N$. The checks use a large
# $\varepsilon$, so that forgetting it shows.


# %% key="bijector-code" tags=["task"]
class BatchNormBijector:
    """BatchNorm with log-scale gamma (D,), shift beta (D,), running averages (D,) and eps; training by default."""

    def __init__(self, gamma, beta, running_mean, running_var, eps: float) -> None:
        self.gamma, self.beta, self.eps = gamma, beta, eps
        self.running_mean, self.running_var = running_mean, running_var
        self.training = True

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # density direction: (u, logdet) with u (N, D) and logdet (N,)
        ### BEGIN SOLUTION
        if self.training:
            mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
        else:
            mean, var = self.running_mean, self.running_var
        log_scale = self.gamma - 0.5 * torch.log(var + self.eps)
        u = (x - mean) * torch.exp(log_scale) + self.beta
        return u, log_scale.sum().expand(x.shape[0])
        ### END SOLUTION

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # sampling direction, always with the running averages: (x, logdet) with x (N, D) and logdet (N,)
        ### BEGIN SOLUTION
        log_scale = self.gamma - 0.5 * torch.log(self.running_var + self.eps)
        x = (u - self.beta) * torch.exp(-log_scale) + self.running_mean
        return x, (-log_scale.sum()).expand(u.shape[0])
        ### END SOLUTION


# %% key="bijector-check" tags=["check"]
check("05.bijector", BatchNormBijector)

# %% [markdown] key="running"
# ## Task 2: the running averages (3 points)
#
# After each batch in training mode, BatchNorm moves its running averages towards the batch's statistics:
# $$r \leftarrow (1 - \text{momentum})\, r + \text{momentum}\cdot b ,$$
# where $b$ is the batch's mean (for `running_mean`) or its variance dividing by $N$ (for `running_var`),
# and `momentum` is small, 0.05 for example: the newest batch weighs 5%. In eval mode nothing changes. Write
# `update_running(running_mean, running_var, x, momentum, training)` that returns the new pair
# `(running_mean, running_var)`, each of shape `(D,)`, as new tensors. One point for the mean, one for the
# variance, one for eval mode.
#
# *Hint:* the rule $r \leftarrow r - \text{decay}\,(r - b)$ with decay $= 0.95$ looks similar, but gives the
# newest batch a weight of 95%.


# %% key="running-code" tags=["task"]
def update_running(running_mean, running_var, x, momentum: float, training: bool):
    """The running averages after the batch x (N, D): a pair of tensors of shape (D,)."""
    ### BEGIN SOLUTION
    if not training:
        return running_mean.clone(), running_var.clone()
    mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    return new_mean, new_var
    ### END SOLUTION


# %% key="running-check" tags=["check"]
check("05.running", update_running)

# %% [markdown] key="actnorm"
# ## Task 3: ActNorm's start from the first batch (3 points)
#
# ActNorm (Glow) is an elementwise affine layer, $u = (x - \mu)\, e^{-\alpha}$ in the density direction, whose
# shift $\mu$ and log-scale $\alpha$ are set from the first training batch and are ordinary parameters after
# that. They are chosen so that this batch leaves the layer with mean 0 and variance 1 in every coordinate
# (the variance that divides by $N$). Write `actnorm_start(x)` that returns the pair `(mu, alpha)`, each of
# shape `(D,)`, for the batch `x` of shape `(N, D)`. One point for $\mu$, two for $\alpha$.
#
# *Hint:* $e^{\alpha}$ is a standard deviation; $\alpha$ is its logarithm.


# %% key="actnorm-code" tags=["task"]
def actnorm_start(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift mu (D,) and log-scale alpha (D,) with which the batch x (N, D) leaves with mean 0, variance 1."""
    ### BEGIN SOLUTION
    mu = x.mean(dim=0)
    alpha = 0.5 * torch.log(x.var(dim=0, unbiased=False))
    return mu, alpha
    ### END SOLUTION


# %% key="actnorm-check" tags=["check"]
check("05.actnorm", actnorm_start)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/05_batchnorm.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("05")
