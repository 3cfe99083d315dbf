r"""The graded tasks of sheet 05: the BatchNorm bijector, its running averages, ActNorm's start.

Each task draws its inputs (sizes included) from a generator, hands them to the learner's code, and judges
the returned values against a reference computed here, naming the typical mistakes:

    05.bijector  $u = (x - m)/\sqrt{v + \varepsilon}\,e^{\gamma} + \beta$ and back, log-dets checked    (5 points)
    05.running   $r \leftarrow (1 - \text{momentum})\,r + \text{momentum}\cdot b$, none in eval mode  (3 points)
    05.actnorm   $\mu$ = batch mean, $\alpha = \tfrac12 \log v$: the batch leaves with mean 0, variance 1  (3 points)

The log-dets of 05.bijector are judged against `brute_force_logdet` of the affine map with its statistics
held fixed, the same helper the library's tests use. The checks use a large $\varepsilon$ (0.1 to 0.3), so
that an answer that leaves it out is told so.
"""

from __future__ import annotations

import torch

from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import sample_size
from nfcourse.checks.task import Part, Task, Tensors, pair_output
from nfcourse.i18n import N_, _
from nfcourse.jacobian import brute_force_logdet


def draw_dim(generator: torch.Generator) -> int:
    return int(torch.randint(2, 5, (), generator=generator))


def uniform(generator: torch.Generator, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand((), generator=generator, dtype=torch.float64)


def batch_statistics(x: torch.Tensor, unbiased: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of every coordinate, (D,) each; the variance divides by N unless `unbiased`."""
    return x.mean(dim=0), x.var(dim=0, unbiased=unbiased)


def both_parts(first: Part, second: Part) -> Part:
    """One part made of two judgements (values and log-det, or mean and variance): the first that failed."""
    return first if first.earned < first.points else second


def coordinates(dim: int) -> torch.Tensor:
    return torch.arange(dim)[:, None]


# --- 05.bijector --------------------------------------------------------------------------------------------


def bijector_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator), sample_size(generator)
    scale = torch.exp(0.7 * torch.randn(dim, generator=generator, dtype=torch.float64))
    return {
        "x": torch.randn(dim, generator=generator, dtype=torch.float64)
        + scale * torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "u": torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "gamma": 0.5 * torch.randn(dim, generator=generator, dtype=torch.float64),
        "beta": 0.5 * torch.randn(dim, generator=generator, dtype=torch.float64),
        "running_mean": torch.randn(dim, generator=generator, dtype=torch.float64),
        "running_var": torch.exp(0.7 * torch.randn(dim, generator=generator, dtype=torch.float64)),
        "eps": uniform(generator, 0.1, 0.3),
    }


def bijector_instance(answer: object, inputs: Tensors, training: bool) -> object:
    """A fresh instance of the learner's class on copies of the inputs, in the mode asked for."""
    names = ("gamma", "beta", "running_mean", "running_var")
    instance = answer(*(inputs[name].clone() for name in names), float(inputs["eps"]))
    instance.training = training
    return instance


def bijector_call(answer: object, inputs: Tensors) -> dict[str, object]:
    with torch.no_grad():
        u_train, logdet_train = pair_output(bijector_instance(answer, inputs, True).inverse(inputs["x"]), "inverse(x)")
        u_eval, logdet_eval = pair_output(bijector_instance(answer, inputs, False).inverse(inputs["x"]), "inverse(x)")
        x, logdet_forward = pair_output(bijector_instance(answer, inputs, True).forward(inputs["u"]), "forward(u)")
    return {
        "u_train": u_train,
        "logdet_train": logdet_train,
        "u_eval": u_eval,
        "logdet_eval": logdet_eval,
        "x": x,
        "logdet_forward": logdet_forward,
    }


def density_map(inputs: Tensors, mean: torch.Tensor, var: torch.Tensor, eps: float) -> object:
    """The affine map of the density direction with the statistics (mean, var) held fixed."""
    gamma, beta = inputs["gamma"], inputs["beta"]
    return lambda x: (x - mean) / torch.sqrt(var + eps) * torch.exp(gamma) + beta


def sampling_map(inputs: Tensors, eps: float) -> object:
    gamma, beta, mean, var = (inputs[name] for name in ("gamma", "beta", "running_mean", "running_var"))
    return lambda u: (u - beta) * torch.exp(-gamma) * torch.sqrt(var + eps) + mean


def logdet_of(inputs: Tensors, var: torch.Tensor, eps: float) -> torch.Tensor:
    """The density direction's log-det for one point, from the formula (used only for the mistakes)."""
    return (inputs["gamma"] - 0.5 * torch.log(var + eps)).sum()


def bijector_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, u, eps = inputs["x"], inputs["u"], float(inputs["eps"])
    n = x.shape[0]
    batch_mean, batch_var = batch_statistics(x)
    _mean, unbiased_var = batch_statistics(x, unbiased=True)
    running_mean, running_var = inputs["running_mean"], inputs["running_var"]
    train_map = density_map(inputs, batch_mean, batch_var, eps)
    eval_map = density_map(inputs, running_mean, running_var, eps)
    every = torch.ones(n, dtype=torch.float64)
    on_x, on_u = {"where": x, "where_name": "x"}, {"where": u, "where_name": "u"}

    unbiased = _(
        "The variance divides by N - 1 (x.var(dim=0) does that); BatchNorm's batch variance divides by N: "
        "x.var(dim=0, unbiased=False)."
    )
    no_eps = _("eps is missing: divide by sqrt(v + eps), and take log(v + eps) in the log-det.")
    running_in_training = _(
        "In training mode inverse must use the batch's own mean and variance, not the running averages."
    )
    batch_in_eval = _("In eval mode inverse must use the running averages, not the batch's statistics.")
    no_root = _("Divided by the variance: the scale should be 1/sqrt(v + eps), the inverse of a standard deviation.")
    negated = _(
        "The log-det has the wrong sign: the density direction multiplies by exp(gamma)/sqrt(v + eps), so its "
        "log-det is sum(gamma - log(v + eps)/2); the sampling direction has the negative."
    )
    no_half = _("The log-det misses the factor 1/2: log sqrt(v + eps) = log(v + eps)/2.")
    no_gamma = _("The log-det misses the learnable log-scale: add sum(gamma).")
    no_variance = _("The log-det misses the variance's term: subtract sum(log(v + eps))/2.")

    def logdet_mistakes(var: torch.Tensor, sign: float) -> list[tuple[torch.Tensor, str]]:
        gamma = inputs["gamma"]
        right = logdet_of(inputs, var, eps)
        return [
            (-sign * right * every, negated),
            (sign * (gamma - torch.log(var + eps)).sum() * every, no_half),
            (sign * (-0.5 * torch.log(var + eps)).sum() * every, no_gamma),
            (sign * gamma.sum() * every, no_variance),
            (sign * (gamma - 0.5 * torch.log(var)).sum() * every, no_eps),
        ]

    values_train = judge_values(
        _("inverse in training mode: values"),
        1,
        outputs["u_train"],
        label=_("the u of inverse(x)"),
        expected=train_map(x),
        mistakes=[
            (density_map(inputs, batch_mean, unbiased_var, eps)(x), unbiased),
            (density_map(inputs, batch_mean, batch_var, 0.0)(x), no_eps),
            (eval_map(x), running_in_training),
            ((x - batch_mean) / (batch_var + eps) * torch.exp(inputs["gamma"]) + inputs["beta"], no_root),
        ],
        **on_x,
    )
    logdet_train = judge_values(
        _("inverse in training mode: log-det"),
        1,
        outputs["logdet_train"],
        label=_("the log-det of inverse(x)"),
        expected=brute_force_logdet(train_map, x),
        mistakes=[
            *logdet_mistakes(batch_var, 1.0),
            (logdet_of(inputs, unbiased_var, eps) * every, unbiased),
            (logdet_of(inputs, running_var, eps) * every, running_in_training),
        ],
        **on_x,
    )
    eval_name = _("inverse in eval mode")
    eval_part = both_parts(
        judge_values(
            eval_name,
            1,
            outputs["u_eval"],
            label=_("the u of inverse(x)"),
            expected=eval_map(x),
            mistakes=[(train_map(x), batch_in_eval), (density_map(inputs, running_mean, running_var, 0.0)(x), no_eps)],
            **on_x,
        ),
        judge_values(
            eval_name,
            1,
            outputs["logdet_eval"],
            label=_("the log-det of inverse(x)"),
            expected=brute_force_logdet(eval_map, x),
            mistakes=[*logdet_mistakes(running_var, 1.0), (logdet_of(inputs, batch_var, eps) * every, batch_in_eval)],
            **on_x,
        ),
    )
    forward_map = sampling_map(inputs, eps)
    not_inverted = _(
        "forward applied the density direction's map again; undo it instead: x = (u - beta) * exp(-gamma) * "
        "sqrt(v + eps) + m."
    )
    values_forward = judge_values(
        _("forward: values"),
        1,
        outputs["x"],
        label=_("the x of forward(u)"),
        expected=forward_map(u),
        mistakes=[
            (eval_map(u), not_inverted),
            (density_map(inputs, running_mean, running_var, 0.0)(u), not_inverted),
            ((u - inputs["beta"]) * torch.exp(-inputs["gamma"]) * torch.sqrt(running_var) + running_mean, no_eps),
            ((u - inputs["beta"]) * torch.exp(-inputs["gamma"]) * (running_var + eps) + running_mean, no_root),
        ],
        **on_u,
    )
    logdet_forward = judge_values(
        _("forward: log-det"),
        1,
        outputs["logdet_forward"],
        label=_("the log-det of forward(u)"),
        expected=brute_force_logdet(forward_map, u),
        mistakes=logdet_mistakes(running_var, -1.0),
        **on_u,
    )
    return [values_train, logdet_train, eval_part, values_forward, logdet_forward]


# --- 05.running ---------------------------------------------------------------------------------------------


def running_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator), sample_size(generator)
    scale = torch.exp(0.5 * torch.randn(dim, generator=generator, dtype=torch.float64))
    return {
        "x": torch.randn(dim, generator=generator, dtype=torch.float64)
        + scale * torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "running_mean": torch.randn(dim, generator=generator, dtype=torch.float64),
        "running_var": torch.exp(0.5 * torch.randn(dim, generator=generator, dtype=torch.float64)),
        "momentum": uniform(generator, 0.02, 0.2),
    }


def running_call(answer: object, inputs: Tensors) -> dict[str, object]:
    momentum = float(inputs["momentum"])
    outputs = {}
    for mode, training in (("train", True), ("eval", False)):
        mean, var = pair_output(
            answer(inputs["running_mean"].clone(), inputs["running_var"].clone(), inputs["x"], momentum, training),
            "update_running",
        )
        outputs[f"mean_{mode}"], outputs[f"var_{mode}"] = mean, var
    return outputs


def running_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, momentum = inputs["x"], float(inputs["momentum"])
    running_mean, running_var = inputs["running_mean"], inputs["running_var"]
    batch_mean, batch_var = batch_statistics(x)
    _mean, unbiased_var = batch_statistics(x, unbiased=True)

    def step(running: torch.Tensor, batch: torch.Tensor, weight: float = momentum) -> torch.Tensor:
        return (1 - weight) * running + weight * batch

    where = {"where": coordinates(x.shape[1]), "where_name": _("coordinate")}
    swapped = _(
        "The weights are swapped: the batch got 1 - momentum and the running average momentum. That is the "
        "rule r - decay * (r - b) with decay = 1 - momentum: it follows the last batch almost entirely. The "
        "newest batch weighs momentum: (1 - momentum) * r + momentum * b."
    )
    replaced = _("The running average was replaced by the batch's value; it should move only a step towards it.")
    unchanged = _("Nothing changed in training mode: move the running average towards the batch's statistics.")
    unbiased = _("The batch variance divides by N - 1; BatchNorm's divides by N: x.var(dim=0, unbiased=False).")
    from_running = _("The batch variance was taken around the running mean; take it around the batch's own mean.")
    std = _("The standard deviation was averaged; running_var averages the variance.")
    mean_part = judge_values(
        _("running mean"),
        1,
        outputs["mean_train"],
        label=_("the running mean"),
        expected=step(running_mean, batch_mean),
        mistakes=[
            (step(running_mean, batch_mean, 1 - momentum), swapped),
            (batch_mean, replaced),
            (running_mean, unchanged),
        ],
        **where,
    )
    var_part = judge_values(
        _("running variance"),
        1,
        outputs["var_train"],
        label=_("the running variance"),
        expected=step(running_var, batch_var),
        mistakes=[
            (step(running_var, batch_var, 1 - momentum), swapped),
            (batch_var, replaced),
            (running_var, unchanged),
            (step(running_var, unbiased_var), unbiased),
            (step(running_var, ((x - running_mean) ** 2).mean(dim=0)), from_running),
            (step(running_var, batch_var.sqrt()), std),
        ],
        **where,
    )
    in_eval = _("The running averages changed in eval mode; there they must stay as they are.")
    eval_name = _("nothing changes in eval mode")
    eval_part = both_parts(
        judge_values(
            eval_name,
            1,
            outputs["mean_eval"],
            label=_("the running mean"),
            expected=running_mean,
            mistakes=[
                (step(running_mean, batch_mean), in_eval),
                (step(running_mean, batch_mean, 1 - momentum), in_eval),
            ],
            **where,
        ),
        judge_values(
            eval_name,
            1,
            outputs["var_eval"],
            label=_("the running variance"),
            expected=running_var,
            mistakes=[(step(running_var, batch_var), in_eval), (step(running_var, unbiased_var), in_eval)],
            **where,
        ),
    )
    return [mean_part, var_part, eval_part]


# --- 05.actnorm ---------------------------------------------------------------------------------------------


def actnorm_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator), int(torch.randint(20, 41, (), generator=generator))
    scale = 2.0 + 2.0 * torch.rand(dim, generator=generator, dtype=torch.float64)
    return {
        "x": 2.0 * torch.randn(dim, generator=generator, dtype=torch.float64)
        + scale * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    }


def actnorm_call(answer: object, inputs: Tensors) -> dict[str, object]:
    mu, alpha = pair_output(answer(inputs["x"]), "actnorm_start")
    return {"mu": mu, "alpha": alpha}


def actnorm_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x = inputs["x"]
    mean, var = batch_statistics(x)
    _mean, unbiased_var = batch_statistics(x, unbiased=True)
    where = {"where": coordinates(x.shape[1]), "where_name": _("coordinate")}
    mu_part = judge_values(
        _("shift mu"),
        1,
        outputs["mu"],
        label=_("mu"),
        expected=mean,
        mistakes=[(-mean, _("mu has the wrong sign: u = (x - mu) * exp(-alpha) needs mu = the batch mean."))],
        **where,
    )
    alpha_part = judge_values(
        _("log-scale alpha"),
        2,
        outputs["alpha"],
        label=_("alpha"),
        expected=0.5 * torch.log(var),
        mistakes=[
            (var.sqrt(), _("alpha is the standard deviation itself; it is a log-scale: alpha = log(std).")),
            (var, _("alpha is the variance; exp(alpha) must be the standard deviation: alpha = log(var)/2.")),
            (
                torch.log(var),
                _("alpha = log(var) is the log of the variance; the log of the standard deviation is log(var)/2."),
            ),
            (
                -0.5 * torch.log(var),
                _(
                    "alpha has the wrong sign: u = (x - mu) * exp(-alpha) divides by exp(alpha), the standard "
                    "deviation."
                ),
            ),
            (0.5 * torch.log(unbiased_var), _("The variance divides by N - 1; here it divides by N: unbiased=False.")),
        ],
        **where,
    )
    return [mu_part, alpha_part]


TASKS = [
    Task(
        "05.bijector",
        N_("The BatchNorm bijector in both directions, with its log-dets"),
        "BatchNormBijector",
        bijector_inputs,
        bijector_call,
        bijector_judge,
        points=5,
        hint=N_(
            "m, v = batch mean and x.var(dim=0, unbiased=False) in training mode, else the running averages; "
            "log_scale = gamma - 0.5 * log(v + eps); u = (x - m) * exp(log_scale) + beta; "
            "logdet = log_scale.sum() for every point; forward undoes it with the running averages and -logdet."
        ),
        references=("BatchNorm",),
    ),
    Task(
        "05.running",
        N_("The running averages of BatchNorm"),
        "update_running",
        running_inputs,
        running_call,
        running_judge,
        points=3,
        hint=N_(
            "In training mode: new = (1 - momentum) * old + momentum * batch value, for the mean and for "
            "x.var(dim=0, unbiased=False); in eval mode return the old values."
        ),
        references=("running_average", "BatchNorm"),
    ),
    Task(
        "05.actnorm",
        N_("ActNorm's start from the first batch"),
        "actnorm_start",
        actnorm_inputs,
        actnorm_call,
        actnorm_judge,
        points=3,
        hint=N_("mu = x.mean(dim=0); alpha = 0.5 * log(x.var(dim=0, unbiased=False))."),
        references=("ActNorm",),
    ),
]
