r"""The graded tasks of sheet 08: Jacobian structures and their log-dets, a flow for a VAE's posterior, and
recomputing activations from a flow's output.

    08.structure   for square matrices J: the flags (lower triangular, upper triangular), and
                   $\log|\det J|$: $\sum_i \log|J_{ii}|$ when J is triangular, `slogdet` otherwise       (3 points)
    08.posterior   a class whose flow samples $z$ and returns $\log q(z)$ with one network pass per layer:
                   $\log q(z) = \log p_u(u) - \log|\det J_f(u)|$ from the forward pass               (4 points)
    08.recompute   the activations $[u, f_1(u), \dots, x]$ of a coupling stack, recomputed from x alone
                   by inverting the layers from the last to the first                              (4 points)

08.posterior is judged by counting: `passes_by_direction` counts how often each network of the learner's
flow runs inside its forward map and inside its inverse during one call of `sample_and_score`, and the
returned log-densities are compared with the flow's own `log_prob` of the returned samples (and with the
parts a typical mistake would use).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nfcourse.bijectors import realnvp
from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import sample_size
from nfcourse.checks.lesson03 import draw_dim, load_weights, random_weights
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat, type_name
from nfcourse.flow import Flow
from nfcourse.i18n import N_, _
from nfcourse.lab.passes import counting_calls, linear_layers

MATRICES = 6  # per kind: diagonal, lower, upper, full
ONE_PASS = 1.5  # passes per layer that still count as one (a flow whose only network runs once is 1.0)
HIDDEN = (16,)


# --- 08.structure ---------------------------------------------------------------------------------------------


def structured_matrices(generator: torch.Generator) -> torch.Tensor:
    """`MATRICES` each of diagonal, lower, upper and full (D, D) matrices, some diagonal entries negative.

    The triangular ones include coupling Jacobians: an identity block, then a full block beside a diagonal one.
    Half of the full ones are triangular but for entries of 1e-12 in the other triangle: not exactly zero.
    """
    dim = draw_dim(generator, 3, 6)
    stacked = []
    for kind in ("diagonal", "lower", "upper", "full"):
        for k in range(MATRICES):
            matrix = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
            diagonal = torch.exp(0.5 * torch.randn(dim, generator=generator, dtype=torch.float64))
            signs = torch.where(torch.rand(dim, generator=generator) < 0.3, -1.0, 1.0).to(torch.float64)
            matrix.diagonal().copy_(signs * diagonal if kind != "full" else 2 + diagonal)
            if kind == "diagonal":
                matrix = torch.diag(matrix.diagonal())
            elif kind == "full" and k % 2 == 1:  # nearly triangular: tiny, but not zero, above the diagonal
                matrix = matrix.tril() + 1e-12 * torch.ones(dim, dim, dtype=torch.float64).triu(1)
            elif kind in ("lower", "upper"):
                matrix = matrix.tril() if kind == "lower" else matrix.triu()
                if k % 2 == 1:  # a coupling layer's Jacobian: identity on the first half, no mixing in the second
                    half = dim // 2
                    matrix[:half, :half] = torch.eye(half, dtype=torch.float64)
                    matrix[half:, half:] = torch.diag(matrix.diagonal()[half:])
                    matrix = matrix if kind == "lower" else matrix.T.contiguous()
            stacked.append(matrix)
    return torch.stack(stacked)


def structure_inputs(generator: torch.Generator) -> Tensors:
    matrices = structured_matrices(generator)
    order = torch.randperm(len(matrices), generator=generator)
    return {"matrices": matrices[order]}


DETERMINANTS = (
    (torch.linalg, "slogdet"),
    (torch.linalg, "det"),
    (torch, "slogdet"),
    (torch, "det"),
    (torch, "logdet"),
)


def counting_determinants(calls: list[int]) -> list[tuple[object, str, Callable]]:
    """Replace torch's determinant functions by ones that count their calls; return what to put back."""
    originals = [(owner, name, getattr(owner, name)) for owner, name in DETERMINANTS]
    for owner, name, function in originals:

        def counted(*args: object, function: Callable = function, **kwargs: object) -> object:
            calls[0] += 1
            return function(*args, **kwargs)

        setattr(owner, name, counted)
    return originals


def structure_call(answer: object, inputs: Tensors) -> dict[str, object]:
    flags, logdets, determinants = [], [], []
    for matrix in inputs["matrices"]:
        calls = [0]
        originals = counting_determinants(calls)
        try:
            value = answer(matrix.clone())
        finally:
            for owner, name, function in originals:
                setattr(owner, name, function)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise WrongFormat(
                _("structure_and_logdet should return a pair ((is_lower, is_upper), logdet), got a {type}.").format(
                    type=type_name(value)
                )
            )
        pair, logdet = value
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise WrongFormat(
                _("The first item should be a pair (is_lower, is_upper) of booleans, got a {type}.").format(
                    type=type_name(pair)
                )
            )
        if not isinstance(logdet, (torch.Tensor, float, int)) or (
            isinstance(logdet, torch.Tensor) and logdet.numel() != 1
        ):
            raise WrongFormat(_("The log-det should be a number or a tensor with one entry."))
        flags.append([bool(pair[0]), bool(pair[1])])
        logdets.append(float(logdet))
        determinants.append(calls[0])
    return {
        "flags": torch.tensor(flags, dtype=torch.float64),
        "logdets": torch.tensor(logdets, dtype=torch.float64),
        "determinants": torch.tensor(determinants, dtype=torch.float64),
    }


def tolerant_flags(matrices: torch.Tensor, tolerance: float = 1e-6) -> torch.Tensor:
    """The flags an answer would give that calls entries below `tolerance` zero (a mistake)."""
    lower = (matrices.triu(1).abs() < tolerance).flatten(1).all(dim=1)
    upper = (matrices.tril(-1).abs() < tolerance).flatten(1).all(dim=1)
    return torch.stack([lower, upper], dim=1).to(torch.float64)


def structure_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    matrices = inputs["matrices"]
    lower = torch.stack([torch.tensor(torch.equal(m, m.tril())) for m in matrices])
    upper = torch.stack([torch.tensor(torch.equal(m, m.triu())) for m in matrices])
    flags = torch.stack([lower, upper], dim=1).to(torch.float64)
    diagonal_sum = matrices.diagonal(dim1=1, dim2=2).abs().log().sum(dim=1)
    logdets = outputs["logdets"]
    negative = (matrices.diagonal(dim1=1, dim2=2) < 0).any(dim=1)
    no_abs = (
        isinstance(logdets, torch.Tensor) and logdets.shape == negative.shape and bool(logdets.isnan()[negative].all())
    )
    abs_message = _("Take the absolute value of the diagonal before the log: entries may be negative.")
    triangular = lower | upper
    expensive = outputs["determinants"][triangular] > 0
    expensive_message = _(
        "A determinant routine (slogdet, det or logdet) ran on a triangular matrix; there the log-det is the sum of "
        "log|J_ii|, D numbers instead of an O(D^3) factorization."
    )
    return [
        judge_values(
            _("the flags (lower, upper) of every matrix"),
            2,
            outputs["flags"],
            label=_("the flags"),
            expected=flags,
            mistakes=[
                (flags.flip(1), _("Lower and upper are swapped: lower triangular means zeros above the diagonal.")),
                (
                    tolerant_flags(matrices),
                    _(
                        "Triangular means exactly zero on the other side of the diagonal: an entry of 1e-12 still "
                        "makes the matrix full. Test the entries with == 0, not with a tolerance."
                    ),
                ),
                (torch.ones_like(flags), _("A full matrix is neither lower nor upper triangular.")),
            ],
            where=torch.arange(len(matrices))[:, None],
            where_name=_("matrix number"),
        ),
        Part(_("the log-dets"), 1, 0, abs_message)
        if no_abs
        else Part(_("the log-dets"), 1, 0, expensive_message)
        if bool(expensive.any())
        else judge_values(
            _("the log-dets"),
            1,
            outputs["logdets"],
            label=_("the log-dets"),
            expected=torch.linalg.slogdet(matrices).logabsdet,
            mistakes=[
                (
                    diagonal_sum,
                    _("The sum of log|J_ii| is the log-det of a triangular matrix only; a full one needs slogdet."),
                ),
            ],
            where=torch.arange(len(matrices))[:, None],
            where_name=_("matrix number"),
        ),
    ]


# --- 08.posterior ---------------------------------------------------------------------------------------------


def posterior_inputs(generator: torch.Generator) -> Tensors:
    return {
        "dim": torch.tensor(draw_dim(generator, 4, 8)),  # residual flows use their exact log-det up to 8
        "n": torch.tensor(sample_size(generator)),
        "seed": torch.randint(0, 2**31, (2,), generator=generator),
    }


def passes_by_direction(flow: Flow, run: Callable[[], object]) -> dict[str, float]:
    """Run `run()`; return the network passes per layer made inside `flow.bijector.forward` and `.inverse`,
    and whether `flow.sample_and_log_prob` was called (the library's answer to the task)."""
    layers = linear_layers(flow)
    counts = {"forward": 0, "inverse": 0, "library": 0}
    inside: list[str] = []

    with counting_calls(layers) as calls:

        def watched(direction: str, method: Callable) -> Callable:
            def call(*args: object, **kwargs: object) -> object:
                outermost, before = not inside, calls[0]
                inside.append(direction)
                try:
                    return method(*args, **kwargs)
                finally:
                    inside.pop()
                    if outermost:
                        counts[direction] += calls[0] - before

            return call

        bijector, library = flow.bijector, flow.sample_and_log_prob

        def library_called(*args: object, **kwargs: object) -> object:
            counts["library"] += 1
            return library(*args, **kwargs)

        bijector.forward, bijector.inverse = watched("forward", bijector.forward), watched("inverse", bijector.inverse)
        flow.sample_and_log_prob = library_called
        try:
            run()
        finally:
            del bijector.forward, bijector.inverse, flow.sample_and_log_prob
    return {
        "forward": counts["forward"] / len(layers),
        "inverse": counts["inverse"] / len(layers),
        "library": float(counts["library"]),
    }


def posterior_call(answer: object, inputs: Tensors) -> dict[str, object]:
    dim, n = int(inputs["dim"]), int(inputs["n"])
    posterior = answer(dim)
    flow = getattr(posterior, "flow", None)
    if not isinstance(flow, Flow) or flow.dim != dim:
        raise WrongFormat(
            _("Posterior(dim) should set self.flow to a Flow on dim dimensions (build_flow(name, dim, depth)).")
        )
    if not linear_layers(flow):
        raise WrongFormat(_("The flow has no network to count: build it with build_flow."))
    flow.double().eval()  # float64, so that the comparison with log_prob is not limited by round-off
    results: list = []
    with torch.no_grad():
        passes = passes_by_direction(
            flow, lambda: results.append(posterior.sample_and_score(n, seeded(int(inputs["seed"][0]))))
        )
        again, _score = posterior.sample_and_score(n, seeded(int(inputs["seed"][0])))
        other, _score = posterior.sample_and_score(n, seeded(int(inputs["seed"][1])))
        value = results[0]
        if not isinstance(value, (tuple, list)) or len(value) != 2 or not isinstance(value[0], torch.Tensor):
            raise WrongFormat(_("sample_and_score should return a pair (z, log_q)."))
        z = value[0].to(torch.float64)
        if tuple(z.shape) != (n, dim):
            raise WrongFormat(
                _("z should have shape {shape}, but it has shape {got}.").format(shape=(n, dim), got=tuple(z.shape))
            )
        u, inverse_logdet = flow.bijector.inverse(z)
        base = flow.base.log_prob(u)
    return {
        "log_q": value[1],
        "base": base,
        "inverse_logdet": inverse_logdet,
        **{f"passes_{name}": torch.tensor(count, dtype=torch.float64) for name, count in passes.items()},
        "z": value[0],
        "again": again,  # with a generator in the same state as for z
        "other": other,  # with a generator from another seed
    }


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def passes_part(forward: float, inverse: float, library: float) -> Part:
    """One point when sampling and scoring took one pass per layer, all in the forward map, written by hand."""
    name = _("one network pass per layer")
    problems = []
    if library:
        problems.append(
            _("Write the pass yourself from the forward map; the grader gives no points for sample_and_log_prob.")
        )
    if inverse > 0:
        problems.append(
            _(
                "Scoring the samples ran the flow's inverse ({passes:.0f} passes per layer): keep the log-det that the "
                "forward map returns instead of calling log_prob."
            ).format(passes=inverse)
        )
    if forward > ONE_PASS:
        problems.append(
            _(
                "Sampling ran each network {passes:.0f} times: this flow is slow in its sampling direction (a MAF "
                "needs D passes, a residual flow a fixed-point iteration). Choose a flow that samples in one pass per "
                "layer."
            ).format(passes=forward)
        )
    if not problems:
        return Part(name, 1, 1, _("correct"))
    return Part(name, 1, 0, " ".join(problems))


def posterior_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    base, inverse_logdet = outputs["base"], outputs["inverse_logdet"]
    expected = base + inverse_logdet  # log q(z) = log p_u(u) + log|det du/dz|
    where = torch.arange(len(base))[:, None]
    parts = [
        judge_values(
            _("log q(z) of the samples"),
            2,
            outputs["log_q"],
            label="log_q",
            expected=expected,
            mistakes=[
                (base - inverse_logdet, _("The log-det has the wrong sign: log q(z) = log p_u(u) - log|det J_f(u)|.")),
                (base, _("The log-det of the flow is missing: add -log|det J_f(u)| from the forward pass.")),
                (-inverse_logdet, _("The base log-density log p_u(u) is missing.")),
            ],
            where=where,
            where_name=_("sample number"),
        )
    ]
    parts.append(passes_part(*(float(outputs[f"passes_{name}"]) for name in ("forward", "inverse", "library"))))
    z, again, other = outputs["z"], outputs["again"], outputs["other"]
    same_shapes = all(isinstance(t, torch.Tensor) and t.shape == z.shape for t in (again, other))
    if same_shapes and torch.equal(again, z) and not torch.equal(other, z):
        parts.append(Part(_("the noise comes from the generator"), 1, 1, _("correct")))
    else:
        message = _(
            "Two calls with generators in the same state gave different samples (or all calls gave the same): draw the "
            "noise with flow.base.sample(n, generator)."
        )
        parts.append(Part(_("the noise comes from the generator"), 1, 0, message))
    return parts


# --- 08.recompute ---------------------------------------------------------------------------------------------


def coupling_stack(dim: int, layers: int) -> torch.nn.Module:
    return realnvp(dim, layers, HIDDEN)


def recompute_inputs(generator: torch.Generator) -> Tensors:
    dim, layers = 2 * draw_dim(generator, 1, 3), draw_dim(generator, 2, 5)
    inputs = random_weights(coupling_stack(dim, layers), "stack", generator, 0.3)
    inputs["u"] = torch.randn(sample_size(generator), dim, generator=generator, dtype=torch.float64)
    inputs["layers"] = torch.tensor(layers)
    return inputs


def recompute_stack(inputs: Tensors) -> torch.nn.Module:
    dim, layers = inputs["u"].shape[1], int(inputs["layers"])
    return load_weights(coupling_stack(dim, layers), "stack", inputs).eval()


def recompute_call(answer: object, inputs: Tensors) -> dict[str, object]:
    stack = recompute_stack(inputs)
    with torch.no_grad():
        x = stack.forward(inputs["u"])[0]
    value = answer(list(stack.layers), x.clone())
    if isinstance(value, (list, tuple)):
        for k, entry in enumerate(value):
            if not isinstance(entry, torch.Tensor):
                raise WrongFormat(
                    _(
                        "Entry {k} of the list is a {type}, not a tensor (layer.inverse returns a pair (input, "
                        "logdet): keep only the input)."
                    ).format(k=k, type=type_name(entry))
                )
    if not isinstance(value, (list, tuple)):
        raise WrongFormat(
            _("recompute_activations should return a list of tensors, got a {type}.").format(type=type_name(value))
        )
    if len({tuple(v.shape) for v in value}) > 1:
        raise WrongFormat(_("Every activation should have the shape of x, {shape}.").format(shape=tuple(x.shape)))
    return {"activations": torch.stack([v.detach() for v in value]) if value else torch.zeros(0)}


def recompute_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    stack = recompute_stack(inputs)
    with torch.no_grad():
        expected = torch.stack(stack.forward_steps(inputs["u"]))
        forward_instead = [expected[-1]]  # the mistake: each layer's forward map where its inverse belongs
        for layer in reversed(stack.layers):
            forward_instead.insert(0, layer.forward(forward_instead[0])[0])
    activations = outputs["activations"]
    count = len(activations) if isinstance(activations, torch.Tensor) and activations.ndim == 3 else 0
    wanted = len(expected)
    if count != wanted:
        message = _(
            "Return {wanted} activations for {layers} layers: u, then the output of every layer, the last of "
            "which is x (yours: {count})."
        ).format(wanted=wanted, layers=wanted - 1, count=count)
        return [Part(_("one activation per layer, and u"), 1, 0, message), Part(_("the activations"), 3, 0, message)]
    dim = expected.shape[-1]
    rows = torch.cartesian_prod(torch.arange(wanted), torch.arange(expected.shape[1]))
    return [
        Part(_("one activation per layer, and u"), 1, 1, _("correct")),
        judge_values(
            _("the activations"),
            3,
            activations.reshape(-1, dim),
            label=_("the activations"),
            expected=expected.reshape(-1, dim),
            mistakes=[
                (expected.flip(0).reshape(-1, dim), _("The list is reversed: it should start with u and end with x.")),
                (
                    torch.stack(forward_instead).reshape(-1, dim),
                    _(
                        "Going back from x means inverting each layer (layer.inverse), from the last layer to the "
                        "first."
                    ),
                ),
            ],
            where=rows,
            where_name=_("(activation number, point number)"),
        ),
    ]


TASKS = [
    Task(
        "08.structure",
        N_("Jacobian structures and their log-dets"),
        "structure_and_logdet",
        structure_inputs,
        structure_call,
        structure_judge,
        points=3,
        hint=N_(
            "A matrix is lower triangular when every entry above the diagonal is zero (J.triu(1) holds them), upper "
            "triangular when every entry below it is zero (J.tril(-1)). A triangular matrix's determinant is the "
            "product of its diagonal, so its log-det is a sum of logs of absolute values."
        ),
    ),
    Task(
        "08.posterior",
        N_("A flow for a VAE's posterior"),
        "Posterior",
        posterior_inputs,
        posterior_call,
        posterior_judge,
        points=4,
        hint=N_(
            "Which direction must be fast for this need, and which flows of the lecture's pass table are fast in it? "
            "The forward map returns the samples and the log-det of its own Jacobian: "
            "log q(z) = log p_u(u) - log|det J_f(u)|."
        ),
        references=("sample_and_log_prob",),
    ),
    Task(
        "08.recompute",
        N_("Recomputing activations from the output"),
        "recompute_activations",
        recompute_inputs,
        recompute_call,
        recompute_judge,
        points=4,
        hint=N_(
            "Undo the layers one at a time, starting with the last one: the inverse of layer k turns its output into "
            "its input. Collect the results so that the list starts with u and ends with x."
        ),
        references=("forward_steps",),
    ),
]
