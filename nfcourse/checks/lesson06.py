r"""The graded tasks of sheet 06: power iteration with spectral normalization, the fixed-point inverse of a
residual block, and the Hutchinson estimate of its log-det series.

Each task draws its inputs (sizes included) from a generator and judges the returned values against a
reference computed here, naming the typical mistakes. The residual branch handed to the learner is
$g(x) = L\,W_2 \tanh(W_1 x + b)$ with orthogonal $W_1$, $W_2$, so $\mathrm{Lip}(g) \le L < 1$:

    06.power         $u \leftarrow Wv/|Wv|$, $v \leftarrow W^\top u/|W^\top u|$, $\hat\sigma = u^\top W v$;
                     $W / \max(1, \hat\sigma / c)$                                                   (4 points)
    06.fixed_point   $x \leftarrow u - g(x)$ from $x = u$ until no entry moves by more than the tolerance;
                     an error when the cap is reached                                               (3 points)
    06.hutchinson    $\sum_{k=1}^{n} (-1)^{k+1} v^\top J_g(x)^k v / k$ for every point               (4 points)

The references use the full Jacobian from `nfcourse.jacobian.jacobian`, the helper the library's tests use.
"""

from __future__ import annotations

import torch

from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import sample_size
from nfcourse.checks.lesson03 import draw_dim
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat
from nfcourse.i18n import N_, _
from nfcourse.jacobian import jacobian

MANY_STEPS = 60  # with the singular-value gap the inputs have, far beyond float64's round-off


class Branch:
    r"""A residual branch $g(x) = L\,W_2\tanh(W_1 x + b)$ with $\mathrm{Lip}(g) \le L$, differentiable in x."""

    def __init__(self, inputs: Tensors, lipschitz: str = "lipschitz") -> None:
        self.w1, self.b, self.w2 = inputs["w1"], inputs["b"], inputs["w2"]
        self.lipschitz = inputs[lipschitz]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.lipschitz * torch.tanh(x @ self.w1.T + self.b) @ self.w2.T


def orthogonal(dim: int, generator: torch.Generator) -> torch.Tensor:
    """A random orthogonal (dim, dim) matrix: it keeps every length."""
    q, _r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    return q


def branch_weights(dim: int, generator: torch.Generator) -> Tensors:
    """W1, W2 orthogonal (D, D) and a small b (D,): near the origin the slope of g is close to its bound L,
    so that every term of a series and every iteration matters."""
    return {
        "w1": orthogonal(dim, generator),
        "b": 0.2 * torch.randn(dim, generator=generator, dtype=torch.float64),
        "w2": orthogonal(dim, generator),
    }


def uniform(generator: torch.Generator, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand((), generator=generator, dtype=torch.float64)


def as_values(value: object, name: str) -> torch.Tensor:
    """A number or a tensor as a float64 tensor of one dimension (a number becomes one entry)."""
    if isinstance(value, (int, float)):
        return torch.tensor([float(value)], dtype=torch.float64)
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64).reshape(-1)
    raise WrongFormat(_("{name} should be a tensor with one entry.").format(name=name))


# --- 06.power -----------------------------------------------------------------------------------------------


def matrix_with_gap(rows: int, columns: int, top: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random (rows, columns) matrix with largest singular value `top`, the others at most half of it."""
    left, _r = torch.linalg.qr(torch.randn(rows, rows, generator=generator, dtype=torch.float64))
    right, _r = torch.linalg.qr(torch.randn(columns, columns, generator=generator, dtype=torch.float64))
    count = min(rows, columns)
    values = top * torch.cat([torch.ones(1, dtype=torch.float64), 0.5 * torch.rand(count - 1, generator=generator)])
    return left[:, :count] @ torch.diag(values) @ right[:, :count].T


def unit_vector(size: int, generator: torch.Generator) -> torch.Tensor:
    v = torch.randn(size, generator=generator, dtype=torch.float64)
    return v / torch.linalg.vector_norm(v)


def power_inputs(generator: torch.Generator) -> Tensors:
    rows, columns = draw_dim(generator, 2, 6), draw_dim(generator, 2, 6)
    c = uniform(generator, 0.5, 0.95)
    return {
        "weight": matrix_with_gap(rows, columns, uniform(generator, 1.5, 3.0), generator),
        "v": unit_vector(columns, generator),
        "small": matrix_with_gap(rows, columns, c * uniform(generator, 0.3, 0.8), generator),
        "c": c,
    }


def power_call(answer: object, inputs: Tensors) -> dict[str, object]:
    weight, v, small, c = inputs["weight"], inputs["v"], inputs["small"], float(inputs["c"])
    outputs = {}
    for name, (matrix, steps) in {
        "one": (weight, 1),
        "many": (weight, MANY_STEPS),
        "small": (small, MANY_STEPS),
    }.items():
        value = answer(matrix.clone(), v.clone(), steps, c)
        if not isinstance(value, tuple) or len(value) != 2:
            raise WrongFormat(_("spectral_normalize should return a pair (sigma_hat, normalized)."))
        outputs[f"sigma_{name}"] = as_values(value[0], "sigma_hat")
        outputs[f"normalized_{name}"] = value[1]
    return outputs


def power_steps(weight: torch.Tensor, v: torch.Tensor, steps: int, normalize: bool = True) -> tuple:
    """(u, v) after `steps` steps from v; without `normalize`, the products are not rescaled (a mistake)."""
    for _step in range(steps):
        u = weight @ v
        u = u / torch.linalg.vector_norm(u) if normalize else u
        v = weight.T @ u
        v = v / torch.linalg.vector_norm(v) if normalize else v
    return u, v


def power_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    weight, v0, small, c = inputs["weight"], inputs["v"], inputs["small"], inputs["c"]
    u1, v1 = power_steps(weight, v0, 1)
    sigma_one = (u1 @ weight @ v1).reshape(1)
    sigma = torch.linalg.matrix_norm(weight, ord=2).reshape(1)
    frobenius = torch.linalg.matrix_norm(weight).reshape(1)
    raw_u, raw_v = power_steps(weight, v0, 1, normalize=False)

    unnormalized = _(
        "u and v must be rescaled to length 1 after each product; otherwise their length grows or shrinks."
    )
    old_v = _("sigma_hat must use the last u and v: after the new u, compute the new v too, then u^T W v.")
    squared = _("This is the square of the estimate: sigma_hat = u^T W v, not |W^T W v| or (u^T W v)^2.")
    frobenius_norm = _(
        "This is the Frobenius norm (the root of the sum of all squared entries); the spectral norm is the largest "
        "singular value, which power iteration finds."
    )
    forgot_c = _("The matrix was divided by sigma_hat, which gives spectral norm 1; divide by sigma_hat / c to get c.")
    multiplied = _("The matrix was multiplied by sigma_hat / c; divide by it.")
    always = _("A matrix whose spectral norm is already below c must stay as it is: divide by max(1, sigma_hat / c).")
    on_v = {"where": v0[None], "where_name": "v"}
    small_sigma = torch.linalg.matrix_norm(small, ord=2)
    return [
        judge_values(
            _("estimate after one step"),
            1,
            outputs["sigma_one"],
            label=_("sigma_hat"),
            expected=sigma_one,
            mistakes=[
                ((raw_u @ weight @ raw_v).reshape(1), unnormalized),
                ((u1 @ weight @ v0).reshape(1), old_v),
                (sigma_one**2, squared),
                (frobenius, frobenius_norm),
            ],
            **on_v,
        ),
        judge_values(
            _("estimate after many steps"),
            1,
            outputs["sigma_many"],
            label=_("sigma_hat"),
            expected=sigma,
            mistakes=[(sigma**2, squared), (frobenius, frobenius_norm)],
            **on_v,
        ),
        judge_values(
            _("a matrix above c, rescaled"),
            1,
            outputs["normalized_many"],
            label=_("normalized"),
            expected=weight * c / sigma,
            mistakes=[(weight / sigma, forgot_c), (weight * sigma / c, multiplied)],
            where=weight,
            where_name=_("row of the matrix"),
        ),
        judge_values(
            _("a matrix below c, unchanged"),
            1,
            outputs["normalized_small"],
            label=_("normalized"),
            expected=small,
            mistakes=[(small * c / small_sigma, always), (small / small_sigma, always)],
            where=small,
            where_name=_("row of the matrix"),
        ),
    ]


# --- 06.fixed_point -----------------------------------------------------------------------------------------


def fixed_point_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator, 2, 4), sample_size(generator)
    inputs = branch_weights(dim, generator)
    inputs["lipschitz"] = uniform(generator, 0.5, 0.9)
    inputs["slow"] = torch.tensor(0.99, dtype=torch.float64)
    inputs["u"] = 0.5 * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return inputs


def fixed_point_call(answer: object, inputs: Tensors) -> dict[str, object]:
    with torch.no_grad():
        x = answer(Branch(inputs), inputs["u"].clone(), 1e-10, 1000)
        try:
            answer(Branch(inputs, "slow"), inputs["u"].clone(), 1e-12, 3)
            raised = 0.0
        except NotImplementedError:
            raise
        except Exception:  # the error the task asks for; its type is the learner's choice
            raised = 1.0
    return {"x": x, "raised": torch.tensor([raised], dtype=torch.float64)}


def solve(step: object, u: torch.Tensor) -> torch.Tensor:
    """Iterate x <- step(x) from x = u to float64's round-off (the inputs are contractions)."""
    x = u
    for _iteration in range(5000):
        x_new = step(x)
        if (x_new - x).abs().max() <= 1e-15:
            return x_new
        x = x_new
    return x


def fixed_point_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    g, u = Branch(inputs), inputs["u"]
    with torch.no_grad():
        x = solve(lambda x: u - g(x), u)
        plus = solve(lambda x: u + g(x), u)
        one_step, density = u - g(u), u + g(u)
    sign = _("The iteration used x <- u + g(x); solving u = x + g(x) for x gives x = u - g(x).")
    early = _(
        "This is the point after one iteration: keep iterating until no entry changes by more than the tolerance."
    )
    unchanged = _("x is u itself: the iteration x <- u - g(x) never ran or its result was not kept.")
    forward = _("This is u + g(u), the density direction applied to u; the task asks for its inverse.")
    solution = judge_values(
        _("the solution of x + g(x) = u"),
        2,
        outputs["x"],
        label=_("x"),
        expected=x,
        mistakes=[(plus, sign), (one_step, early), (u, unchanged), (density, forward)],
        where=u,
        where_name="u",
    )
    raised = bool(torch.as_tensor(outputs["raised"]).reshape(-1)[0] == 1)
    message = (
        _("correct")
        if raised
        else _(
            "With 3 iterations allowed and a tolerance of 1e-12 the iteration cannot converge, but your function "
            "returned a value. Raise an error instead (for example RuntimeError), so that no one uses an "
            "unconverged point."
        )
    )
    return [solution, Part(_("an error when the cap is reached"), 1, 1 if raised else 0, message)]


# --- 06.hutchinson ------------------------------------------------------------------------------------------


def hutchinson_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator, 2, 4), sample_size(generator)
    inputs = branch_weights(dim, generator)
    inputs["lipschitz"] = uniform(generator, 0.5, 0.9)
    inputs["x"] = 0.5 * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    inputs["v"] = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    inputs["terms"] = torch.randint(4, 8, (), generator=generator)
    return inputs


def hutchinson_call(answer: object, inputs: Tensors) -> dict[str, object]:
    g, x, v = Branch(inputs), inputs["x"], inputs["v"]
    one = answer(g, x.clone(), v.clone(), 1)
    many = answer(g, x.clone(), v.clone(), int(inputs["terms"]))
    return {"one": one, "many": many}


def series(projections: torch.Tensor, terms: int, alternate: bool = True, divide: bool = True) -> torch.Tensor:
    """sum_{k=1}^{terms} (-1)^(k+1) projections[:, k-1] / k, or a typical mistake's version of it."""
    total = torch.zeros(len(projections), dtype=torch.float64)
    for k in range(1, terms + 1):
        sign = (-1) ** (k + 1) if alternate else 1
        total = total + sign * projections[:, k - 1] / (k if divide else 1)
    return total


def hutchinson_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, v, terms = inputs["x"], inputs["v"], int(inputs["terms"])
    jacobians = jacobian(Branch(inputs), x)  # (N, D, D)
    projections, traces, w = [], [], v[:, None, :]  # w: rows v^T J^k, (N, 1, D)
    power = torch.eye(x.shape[1], dtype=torch.float64).expand_as(jacobians)
    for _k in range(terms + 1):
        w, power = w @ jacobians, power @ jacobians
        projections.append((w[:, 0] * v).sum(dim=1))
        traces.append(torch.diagonal(power, dim1=1, dim2=2).sum(dim=1))
    projections, traces = torch.stack(projections, dim=1), torch.stack(traces, dim=1)  # (N, terms + 1)
    first = projections[:, :1].expand(-1, terms + 1)
    expected = series(projections, terms)

    exact_trace = _(
        "This uses the exact traces tr(J^k); the task asks for the estimate with the given probes, v^T J^k v."
    )
    no_sign = _("The terms must alternate in sign: (-1)^(k+1), so + for k = 1, - for k = 2, and so on.")
    no_divide = _("Each term must be divided by k: the series of log(1 + z) is z - z^2/2 + z^3/3 - ...")
    negated = _("The sign of every term is flipped: the first term, v^T J v, comes with a plus.")
    same_power = _("Every term uses v^T J v; term k needs the k-th power: apply the vector-Jacobian product k times.")
    off_by_one = _("The number of terms is off by one: sum from k = 1 to k = terms.")
    on_x = {"where": x, "where_name": "x"}
    return [
        judge_values(
            _("one term, v^T J v"),
            1,
            outputs["one"],
            label=_("the estimate"),
            expected=projections[:, 0],
            mistakes=[(traces[:, 0], exact_trace), (-projections[:, 0], negated)],
            **on_x,
        ),
        judge_values(
            _("the series with several terms"),
            3,
            outputs["many"],
            label=_("the estimate"),
            expected=expected,
            mistakes=[
                (series(traces, terms), exact_trace),
                (series(projections, terms, alternate=False), no_sign),
                (series(projections, terms, divide=False), no_divide),
                (-expected, negated),
                (series(first, terms), same_power),
                (series(projections, terms - 1), off_by_one),
                (series(projections, terms + 1), off_by_one),
            ],
            **on_x,
        ),
    ]


TASKS = [
    Task(
        "06.power",
        N_("Spectral normalization by power iteration"),
        "spectral_normalize",
        power_inputs,
        power_call,
        power_judge,
        points=4,
        hint=N_(
            "Repeat steps times: u = W v / |W v|, v = W^T u / |W^T u|; then sigma_hat = u @ W @ v, and return "
            "(sigma_hat.reshape(1), W / max(1, sigma_hat / c))."
        ),
        references=("SpectralNormLinear", "power_iteration", "lipschitz_mlp"),
    ),
    Task(
        "06.fixed_point",
        N_("The fixed-point inverse of a residual block"),
        "invert_residual_block",
        fixed_point_inputs,
        fixed_point_call,
        fixed_point_judge,
        points=3,
        hint=N_(
            "x = u; repeat at most max_iterations times: x_new = u - g(x); return x_new if "
            "(x_new - x).abs().max() <= tolerance, else x = x_new; after the loop, raise RuntimeError(...)."
        ),
        references=("fixed_point_inverse", "ResidualBlock", "iresnet", "residual_flow"),
    ),
    Task(
        "06.hutchinson",
        N_("The Hutchinson estimate of the log-det series"),
        "hutchinson_logdet",
        hutchinson_inputs,
        hutchinson_call,
        hutchinson_judge,
        points=4,
        hint=N_(
            "x = x.detach().requires_grad_(True); gx = g(x); w = v; for k = 1..terms: "
            "w = torch.autograd.grad(gx, x, w, retain_graph=True)[0]; add (-1)**(k+1) * (w * v).sum(dim=1) / k."
        ),
        references=(
            "hutchinson_power_series_logdet",
            "truncated_power_series_logdet",
            "russian_roulette_logdet",
            "exact_logdet",
        ),
    ),
]
