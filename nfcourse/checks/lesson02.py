r"""The graded tasks of sheet 02: MADE's degrees and masks, a masked linear layer, and the MAF log-density.

Each task draws its inputs (sizes included) from a generator, calls the learner's answer, and judges
the returned values against a reference computed here, naming the typical mistakes:

    02.masks         hidden degrees $m_h(k) = (k \bmod (D-1)) + 1$; masks $[m_h(k) \ge m(j)]$, $[m(i) > m_h(k)]$  (3)
    02.masked_linear $y = x\,(W \odot M)^\top + b$, and no gradient for the masked weights                  (3)
    02.maf_log_prob  $u$ and $\log p(x)$ of a MAF: undo the permutations, one pass per layer, $-\sum\alpha$    (4)
"""

from __future__ import annotations

import torch

from nfcourse.checks.compare import close, judge_values
from nfcourse.checks.lesson00 import constant_mistakes, normal_log_prob, sample_size
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat, pair_output
from nfcourse.conditioners import MADE
from nfcourse.i18n import N_, _

# --- 02.masks -----------------------------------------------------------------------------------------------


def masks_inputs(generator: torch.Generator) -> Tensors:
    dim = int(torch.randint(3, 7, (), generator=generator))
    hidden = dim + int(torch.randint(1, 8, (), generator=generator))  # H > D: a transposed mask has another shape
    degrees = torch.randperm(dim, generator=generator) + 1  # a random order, so positions and degrees differ
    if torch.equal(degrees, torch.arange(1, dim + 1)):
        degrees = degrees.flip(0)
    return {"degrees": degrees, "hidden_size": torch.tensor(hidden)}


def masks_call(answer: object, inputs: Tensors) -> dict[str, object]:
    result = answer(inputs["degrees"], int(inputs["hidden_size"]))
    if not isinstance(result, tuple) or len(result) != 3:
        raise WrongFormat(_("made_masks should return a triple (hidden_degrees, hidden_mask, output_mask)."))
    return dict(zip(("hidden_degrees", "hidden_mask", "output_mask"), result, strict=True))


def reference_hidden_degrees(hidden: int, dim: int) -> torch.Tensor:
    return (torch.arange(hidden) % (dim - 1) + 1).to(torch.float64)


def their_degrees(answer: object, hidden: int, dim: int) -> torch.Tensor:
    """The learner's hidden degrees when they are usable whole numbers, else the reference ones.

    The masks are judged against the learner's own degrees, so a wrong degree rule costs its point once.
    """
    if isinstance(answer, torch.Tensor) and tuple(answer.shape) == (hidden,):
        values = answer.detach().to(torch.float64)
        if bool(torch.isfinite(values).all()) and bool((values == values.round()).all()):
            return values
    return reference_hidden_degrees(hidden, dim)


def judge_mask(
    name: str, answer: object, label: str, expected: torch.Tensor, mistakes: list[tuple[torch.Tensor, str]]
) -> Part:
    """One mask: full point if right; a transposed mask (another shape) is named before the shape is judged."""
    if isinstance(answer, torch.Tensor) and tuple(answer.shape) == tuple(expected.T.shape):
        got = answer.detach().to(torch.float64)
        if close(got, expected.T):
            message = _("{label} is transposed: like an nn.Linear weight it has shape (outputs, inputs) = {shape}.")
            return Part(name, 1, 0, message.format(label=label, shape=tuple(expected.shape)))
    rows = torch.arange(len(expected))[:, None]  # the row index, to point at a wrong row
    return judge_values(
        name, 1, answer, label=label, expected=expected, mistakes=mistakes, where=rows, where_name=_("row")
    )


def masks_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    degrees, hidden = inputs["degrees"].to(torch.float64), int(inputs["hidden_size"])
    dim = len(degrees)
    positions = torch.arange(1, dim + 1, dtype=torch.float64)
    expected_degrees = reference_hidden_degrees(hidden, dim)
    units = torch.arange(hidden)[:, None]
    degree_part = judge_values(
        _("hidden degrees"),
        1,
        outputs["hidden_degrees"],
        label=_("hidden_degrees"),
        expected=expected_degrees,
        mistakes=[
            (
                (torch.arange(hidden) % dim + 1).to(torch.float64),
                _("Your hidden degrees run up to D; a unit of degree D can reach no output. Cycle through 1..D-1."),
            ),
            (expected_degrees - 1, _("Your hidden degrees start at 0; they run 1, 2, ..., D-1, 1, 2, ...")),
        ],
        where=units,
        where_name=_("unit"),
    )
    m_h = their_degrees(outputs["hidden_degrees"], hidden, dim)
    off_by_one_hidden = _(
        "Off by one: a hidden unit of degree k may see the inputs of degree at most k (>=, not >). With >, no "
        "path leads from the input just before output i to output i, and the output of degree 2 sees no input."
    )
    hidden_part = judge_mask(
        _("hidden mask"),
        outputs["hidden_mask"],
        _("hidden_mask"),
        (m_h[:, None] >= degrees[None, :]).double(),
        [
            ((m_h[:, None] > degrees[None, :]).double(), off_by_one_hidden),
            (
                (m_h[:, None] >= positions[None, :]).double(),
                _("The hidden mask compares with the positions 1..D of the inputs; use their degrees m(j)."),
            ),
        ],
    )
    off_by_one_output = _(
        "Off by one: output i may see only hidden units of degree strictly below m(i) (>, not >=); "
        "with >= output i depends on x_i itself and the Jacobian is not strictly triangular."
    )
    output_part = judge_mask(
        _("output mask"),
        outputs["output_mask"],
        _("output_mask"),
        (degrees[:, None] > m_h[None, :]).double(),
        [
            ((degrees[:, None] >= m_h[None, :]).double(), off_by_one_output),
            (
                (positions[:, None] > m_h[None, :]).double(),
                _("The output mask compares with the positions 1..D of the outputs; use their degrees m(i)."),
            ),
        ],
    )
    return [degree_part, hidden_part, output_part]


# --- 02.masked_linear ---------------------------------------------------------------------------------------


def masked_linear_inputs(generator: torch.Generator) -> Tensors:
    n, inputs, outputs = sample_size(generator), *(int(v) for v in torch.randint(2, 7, (2,), generator=generator))
    if inputs == outputs:
        outputs += 1  # not square, so a transposed mask cannot slip through
    mask = (torch.rand(outputs, inputs, generator=generator) < 0.5).double()
    mask[0, 0], mask[-1, -1] = 0.0, 1.0  # at least one masked and one kept weight

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    return {
        "mask": mask,
        "weight": draw(outputs, inputs),
        "bias": draw(outputs),
        "x": draw(n, inputs),
        "r": draw(n, outputs),
    }


def masked_linear_call(answer: object, inputs: Tensors) -> dict[str, object]:
    layer = answer(inputs["mask"])
    if hasattr(layer, "double"):
        layer = layer.double()
    with torch.no_grad():
        layer.weight.copy_(inputs["weight"])
        layer.bias.copy_(inputs["bias"])
    layer.weight.grad = None
    y = layer(inputs["x"])
    if isinstance(y, torch.Tensor) and y.requires_grad:
        (y * inputs["r"]).sum().backward()  # d/dW of sum(r * y) = (M * (r^T x)) for the right layer
    grad = layer.weight.grad
    return {"y": y, "grad": grad if grad is not None else torch.full_like(inputs["weight"], float("nan"))}


def masked_linear_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    mask, weight, bias, x, r = (inputs[k] for k in ("mask", "weight", "bias", "x", "r"))
    expected = x @ (weight * mask).T + bias
    no_mask = _("The output does not use the mask: multiply the weight by the mask inside forward, on every call.")
    values = judge_values(
        _("forward values"),
        2,
        outputs["y"],
        label=_("the output of forward(x)"),
        expected=expected,
        mistakes=[
            (x @ weight.T + bias, no_mask),
            (x @ (weight * mask).T, _("The bias is missing: y = x (W * M)^T + b.")),
        ],
        where=x,
        where_name="x",
    )
    full_grad = r.T @ x  # (outputs, inputs): what an unmasked layer's weights would receive
    grad = outputs["grad"]
    if isinstance(grad, torch.Tensor) and bool(torch.isnan(grad).all()):
        message = _(
            "No gradient reached the weight: compute with self.weight * self.mask, without .data or .detach(), "
            "so that training can change the kept weights."
        )
        return [values, Part(_("gradient of the weight"), 1, 0, message)]
    gradient = judge_values(
        _("gradient of the weight"),
        1,
        grad,
        label=_("weight.grad"),
        expected=mask * full_grad,
        mistakes=[(full_grad, _("The masked weights still get gradients: the mask must be applied in forward."))],
        where=torch.arange(len(mask))[:, None],
        where_name=_("row"),
    )
    return [values, gradient]


# --- 02.maf_log_prob ----------------------------------------------------------------------------------------


class Conditioner:
    """A MADE network as the task hands it out: `conditioner(h) -> (mu, alpha)`, each of shape (N, D)."""

    def __init__(self, made: MADE) -> None:
        self.made = made

    def __call__(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            mu, alpha = self.made(h).unbind(dim=1)
        return mu, torch.tanh(alpha)  # bounded log-scales, as in the library's layers


def maf_inputs(generator: torch.Generator) -> Tensors:
    dim, layers = int(torch.randint(3, 6, (), generator=generator)), int(torch.randint(2, 4, (), generator=generator))
    while True:  # a permutation that is not its own inverse, so the wrong direction shows
        permutation = torch.randperm(dim, generator=generator)
        if not torch.equal(permutation[permutation], torch.arange(dim)):
            break
    inputs = {"x": 1.5 * torch.randn(sample_size(generator), dim, generator=generator, dtype=torch.float64)}
    inputs["permutation"] = permutation
    for k, made in enumerate(made_networks(dim, layers)):
        for name, value in made.state_dict().items():
            if name.endswith(("weight", "bias")):
                inputs[f"layer{k}.{name}"] = 0.6 * torch.randn(value.shape, generator=generator, dtype=torch.float64)
    return inputs


def made_networks(dim: int, layers: int) -> list[MADE]:
    return [MADE(dim, hidden_sizes=(8,)).double() for _k in range(layers)]


def conditioners(inputs: Tensors) -> list[Conditioner]:
    """The task's conditioners in sampling order, rebuilt from the drawn weights."""
    dim, layers = inputs["x"].shape[1], len({key.split(".")[0] for key in inputs if key.startswith("layer")})
    networks = made_networks(dim, layers)
    with torch.no_grad():
        for k, made in enumerate(networks):
            for name, value in made.state_dict().items():
                if f"layer{k}.{name}" in inputs:
                    value.copy_(inputs[f"layer{k}.{name}"])
    return [Conditioner(made) for made in networks]


def maf_call(answer: object, inputs: Tensors) -> dict[str, object]:
    u, log_p = pair_output(answer(inputs["x"], conditioners(inputs), inputs["permutation"]), "maf_log_prob")
    return {"u": u, "log_p": log_p}


def maf_inverse(
    x: torch.Tensor, layers: list[Conditioner], permutation: torch.Tensor, undo: str = "right", **wrong: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Data to noise through the MAF, and $\sum$ of the inverse log-dets; `undo` and `wrong` make the mistakes.

    Right: for $k = K, \dots, 1$: undo the permutation after layer $k$ (if $k < K$), then
    $u = (h - \mu(h))\,e^{-\alpha(h)}$ and add $-\sum_i \alpha_i$.
    """
    h, logdet = x, torch.zeros(len(x), dtype=x.dtype)
    order = list(layers) if wrong.get("sampling_order") else list(reversed(layers))
    for step, conditioner in enumerate(order):
        if step > 0 and undo == "right":
            h = h[:, torch.argsort(permutation)]
        elif step > 0 and undo == "wrong":
            h = h[:, permutation]
        mu, alpha = conditioner(h)
        h = (h - mu) * torch.exp(alpha if wrong.get("multiply") else -alpha)
        logdet = logdet - alpha.sum(dim=1)
    return h, logdet


def maf_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, permutation, layers = inputs["x"], inputs["permutation"], conditioners(inputs)
    u, logdet = maf_inverse(x, layers, permutation)
    expected = normal_log_prob(u) + logdet
    forgot = _("The permutation between the layers is missing: undo it before each earlier layer.")
    backwards = _(
        "The permutation is applied in the wrong direction: sampling did h[:, permutation], so density "
        "evaluation undoes it with h[:, torch.argsort(permutation)]."
    )
    order = _("The layers are undone in sampling order; density evaluation undoes the last layer first.")
    multiply = _("u = (h - mu) * exp(-alpha): density evaluation divides by the scale exp(alpha).")
    variants = [
        (maf_inverse(x, layers, permutation, undo="none"), forgot),
        (maf_inverse(x, layers, permutation, undo="wrong"), backwards),
        (maf_inverse(x, layers, permutation, sampling_order=True), order),
        (maf_inverse(x, layers, permutation, multiply=True), multiply),
    ]
    u_part = judge_values(
        _("noise u"),
        2,
        outputs["u"],
        label=_("the u of maf_log_prob"),
        expected=u,
        mistakes=[(wrong_u, message) for (wrong_u, _logdet), message in variants],
        where=x,
        where_name="x",
    )
    log_p_mistakes = [
        (normal_log_prob(u) - logdet, _("The log-det has the wrong sign: density evaluation adds -sum(alpha).")),
        (normal_log_prob(u), _("The log-dets of the layers are missing.")),
        *constant_mistakes(expected, dim=x.shape[1]),
        *[(normal_log_prob(wrong_u) + wrong_logdet, message) for (wrong_u, wrong_logdet), message in variants],
    ]
    log_p_part = judge_values(
        _("log p(x)"),
        2,
        outputs["log_p"],
        label=_("the log p of maf_log_prob"),
        expected=expected,
        mistakes=log_p_mistakes,
        where=x,
        where_name="x",
    )
    return [u_part, log_p_part]


TASKS = [
    Task(
        "02.masks",
        N_("MADE: degrees and masks"),
        "made_masks",
        masks_inputs,
        masks_call,
        masks_judge,
        points=3,
        hint=N_("Compare degrees with broadcasting: (later[:, None] >= earlier[None, :]).float() has shape (H, D)."),
        references=("made_masks", "hidden_degrees"),
    ),
    Task(
        "02.masked_linear",
        N_("A masked linear layer"),
        "MaskedLinear",
        masked_linear_inputs,
        masked_linear_call,
        masked_linear_judge,
        points=3,
        hint=N_("In forward, return torch.nn.functional.linear(x, self.weight * self.mask, self.bias)."),
        references=("MaskedLinear",),
    ),
    Task(
        "02.maf_log_prob",
        N_("The log-density of a MAF"),
        "maf_log_prob",
        maf_inputs,
        maf_call,
        maf_judge,
        points=4,
        hint=N_(
            "Loop over reversed(conditioners). Before undoing each layer except the last one in sampling order "
            "(the first one the loop meets), undo the permutation with h[:, torch.argsort(permutation)]; "
            "add -alpha.sum(dim=1) per layer."
        ),
        references=("maf", "AffineAutoregressive", "Flow", "Compose"),
    ),
]
