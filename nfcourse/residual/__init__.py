"""Invertible ResNets and Residual Flows: the parts of a residual block $x \\mapsto x + g(x)$.

    spectral      `SpectralNormLinear`, `power_iteration`: linear layers with Lipschitz constant at most c
    activations   `LipSwish`: a smooth activation, 1-Lipschitz for every slope
    network       `lipschitz_mlp`: the residual branch g, a contraction
    fixed_point   `fixed_point_inverse`, `FixedPointError`: x from u = x + g(x) by Banach's iteration
    logdet        exact, truncated, Hutchinson and Russian roulette estimators of log det(I + J_g(x))
    neumann       the Neumann-series gradient surrogate and the memory-efficient training estimator
    memory        `saved_bytes`: the memory autograd keeps for backward

The bijector, `ResidualBlock`, and the models `iresnet` and `residual_flow` are in `nfcourse.bijectors`.
Lessons: 06, 07
"""

from nfcourse.residual.activations import LipSwish
from nfcourse.residual.fixed_point import FixedPointError, check_tolerance, fixed_point_inverse
from nfcourse.residual.logdet import (
    exact_logdet,
    full_jacobian,
    gaussian_probe,
    geometric_terms,
    hutchinson_power_series_logdet,
    hutchinson_series,
    log_series,
    residual_branch,
    russian_roulette_logdet,
    survival_weights,
    truncated_power_series_logdet,
    vector_jacobian_product,
)
from nfcourse.residual.memory import saved_bytes
from nfcourse.residual.network import ACTIVATIONS, lipschitz_mlp
from nfcourse.residual.neumann import (
    neumann_gradient_surrogate,
    roulette_series,
    russian_roulette_logdet_with_neumann_gradient,
    surrogate_and_estimate,
)
from nfcourse.residual.spectral import (
    PowerIterationError,
    SpectralNormLinear,
    check_unit_interval,
    converge_spectral_norms,
    power_iteration,
)

__all__ = [
    "ACTIVATIONS",
    "FixedPointError",
    "LipSwish",
    "PowerIterationError",
    "SpectralNormLinear",
    "check_tolerance",
    "check_unit_interval",
    "converge_spectral_norms",
    "exact_logdet",
    "fixed_point_inverse",
    "full_jacobian",
    "gaussian_probe",
    "geometric_terms",
    "hutchinson_power_series_logdet",
    "hutchinson_series",
    "lipschitz_mlp",
    "log_series",
    "neumann_gradient_surrogate",
    "power_iteration",
    "residual_branch",
    "roulette_series",
    "russian_roulette_logdet",
    "russian_roulette_logdet_with_neumann_gradient",
    "saved_bytes",
    "surrogate_and_estimate",
    "survival_weights",
    "truncated_power_series_logdet",
    "vector_jacobian_product",
]
