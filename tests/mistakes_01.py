"""Seeded typical mistakes of sheet 01: (task, (text in the solution, replacement), points kept, words naming it)."""

SAMPLE_ONE_PASS = (
    "    x = torch.zeros_like(u)\n    for i in range(u.shape[1]):",
    "    x = torch.zeros_like(u)\n    mu, alpha = conditioner(x)\n"
    "    x = u * torch.exp(alpha) + mu\n    for i in range(0):",
)

MISTAKES = [
    ("01.inverse", ("u = (x - mu) * torch.exp(-alpha)", "u = (x - mu) / torch.exp(-alpha)"), 2, "divides by it"),
    ("01.inverse", ("u = (x - mu) * torch.exp(-alpha)", "u = (x + mu) * torch.exp(-alpha)"), 2, "subtracts it"),
    ("01.inverse", ("u = (x - mu) * torch.exp(-alpha)", "u = x * torch.exp(-alpha) - mu"), 2, "subtracts mu first"),
    ("01.inverse", ("return u, -alpha.sum(dim=1)", "return u, alpha.sum(dim=1)"), 2, "wrong sign"),
    ("01.inverse", ("return u, -alpha.sum(dim=1)", "return u, -alpha"), 2, "sum over the dimensions"),
    ("01.inverse", ("return u, -alpha.sum(dim=1)", "return u, -alpha.mean(dim=1)"), 2, "averaged"),
    ("01.sample", SAMPLE_ONE_PASS, 0, "Only the first coordinate is right"),
    ("01.sample", ("mu, alpha = conditioner(x)  #", "mu, alpha = conditioner(u)  #"), 0, "from the noise u"),
    ("01.sample", ("torch.exp(alpha[:, i])", "torch.exp(-alpha[:, i])"), 0, "divided by exp(alpha)"),
    ("01.sample", ("for i in range(u.shape[1]):", "for i in range(u.shape[1] - 1):"), 0, "off by one"),
    ("01.sample", ("return x, alpha.sum(dim=1)", "return x, -alpha.sum(dim=1)"), 3, "wrong sign"),
    ("01.sample", ("return x, alpha.sum(dim=1)", "return x, alpha"), 3, "sum over the dimensions"),
    ("01.gaussian", ("conditional(i, x[:, :i])", "conditional(i, x[:, : i + 1])"), 0, "itself included"),
    ("01.gaussian", ("- alpha - 0.5", "+ alpha - 0.5"), 0, "wrong sign"),
    ("01.gaussian", ("- alpha - 0.5", "- 0.5"), 0, "is missing"),
    ("01.gaussian", ("* torch.exp(-alpha)", "* torch.exp(alpha)"), 0, "multiplied by exp(alpha)"),
    ("01.gaussian", ("- 0.5 * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("01.count", ("inputs = max(k, 1)", "inputs = k"), 0, "one constant input"),
    (
        "01.count",
        (
            "(inputs + 1) * hidden + (hidden + 1) * hidden + (hidden + 1) * 2",
            "inputs * hidden + hidden * hidden + hidden * 2",
        ),
        0,
        "biases are missing",
    ),
    ("01.count", ("inputs = max(k, 1)", "inputs = dim"), 0, "all D inputs"),
    ("01.count", ("(hidden + 1) * 2", "(hidden + 1) * 1"), 0, "two outputs"),
]
