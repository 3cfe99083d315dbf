"""Seeded typical mistakes of sheet 08: (task, (text in the solution, replacement), points kept, words naming it)."""

LOWER_UPPER = "is_lower, is_upper = bool((J.triu(1) == 0).all()), bool((J.tril(-1) == 0).all())"
CHEAP = "J.diagonal().abs().log().sum()"
IAF = 'build_flow("IAF", dim, depth=4)'
SCORE = "return z, self.flow.base.log_prob(u) - logdet"
INSERT = "activations.insert(0, layer.inverse(activations[0])[0])"

MISTAKES = [
    (
        "08.structure",
        (LOWER_UPPER, "is_upper, is_lower = bool((J.triu(1) == 0).all()), bool((J.tril(-1) == 0).all())"),
        1,
        "swapped",
    ),
    ("08.structure", (CHEAP, "J.diagonal().log().sum()"), 2, "absolute value"),
    ("08.structure", ("    if is_lower or is_upper:\n", "    if True:\n"), 2, "full one needs slogdet"),
    ("08.structure", ("    if is_lower or is_upper:\n", "    if False:\n"), 2, "determinant routine"),
    (
        "08.structure",
        (
            LOWER_UPPER,
            "is_lower, is_upper = bool((J.triu(1).abs() < 1e-9).all()), bool((J.tril(-1).abs() < 1e-9).all())",
        ),
        1,
        "exactly zero",
    ),
    ("08.structure", (LOWER_UPPER, "is_lower, is_upper = True, True"), 0, "neither lower nor upper"),
    ("08.posterior", (IAF, 'build_flow("MAF", dim, depth=4)'), 3, "fixed-point iteration"),
    ("08.posterior", (IAF, 'build_flow("Residual Flow", dim, depth=2)'), 3, "Choose a flow that samples"),
    ("08.posterior", (SCORE, "return z, self.flow.log_prob(z)"), 3, "keep the log-det"),
    ("08.posterior", (SCORE, "return z, self.flow.base.log_prob(u) + logdet"), 2, "wrong sign"),
    ("08.posterior", (SCORE, "return z, self.flow.base.log_prob(u)"), 2, "is missing"),
    ("08.posterior", ("self.flow.base.sample(n, generator)", "self.flow.base.sample(n)"), 3, "generator"),
    ("08.recompute", ("    return activations\n", "    return activations[::-1]\n"), 1, "reversed"),
    ("08.recompute", ("    return activations\n", "    return activations[:-1]\n"), 0, "activations for"),
    ("08.recompute", (INSERT, "activations.insert(0, layer.forward(activations[0])[0])"), 1, "inverting each layer"),
]
