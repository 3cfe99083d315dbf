"""Seeded typical mistakes of sheet 07: (task, (text in the solution, replacement), points kept, words naming it)."""

WEIGHT = "weight = (1 - p) ** -max(0, k - exact_terms)"

MISTAKES = [
    ("07.weights", ("return (1 - p) ** -extra", "return (1 - p) ** extra"), 0, "inverses"),
    (
        "07.weights",
        ("extra = torch.clamp(k - exact_terms, min=0)", "extra = torch.clamp(k - exact_terms + 1, min=0)"),
        0,
        "off by one",
    ),
    ("07.weights", ("return (1 - p) ** -extra", "return p ** -extra"), 0, "not p"),
    ("07.weights", ("extra = torch.clamp(k - exact_terms, min=0)", "extra = k - 1"), 1, "always computed"),
    ("07.roulette", (WEIGHT, "weight = 1.0"), 2, "without the weights"),
    ("07.roulette", (WEIGHT, "weight = (1 - p) ** max(0, k - exact_terms)"), 2, "instead of divided"),
    ("07.roulette", (WEIGHT, "weight = (1 - p) ** -max(0, k - exact_terms + 1)"), 2, "off by one"),
    ("07.roulette", ("total = total + (-1) ** (k + 1) * weight", "total = total + weight"), 2, "alternate"),
    ("07.roulette", ("(w * v).sum(dim=1) / k", "(w * v).sum(dim=1)"), 2, "divided by k"),
    (
        "07.roulette",
        ("while torch.rand((), generator=generator) < 1 - p:", "while torch.rand(()) < 1 - p:"),
        4,
        "generator",
    ),
    (
        "07.roulette",
        ("while torch.rand((), generator=generator) < 1 - p:", "while torch.rand((), generator=generator) < p:"),
        1,
        "goes on with probability p",
    ),
    (
        "07.roulette",
        ("while torch.rand((), generator=generator) < 1 - p:", "while terms < exact_terms + 2:"),
        1,
        "must be random",
    ),
    (
        "07.lipswish",
        ("return x * s / 1.1, (s + z * s * (1 - s)) / 1.1", "return x * s, s + z * s * (1 - s)"),
        0,
        "Divide by 1.1",
    ),
    ("07.lipswish", ("(s + z * s * (1 - s)) / 1.1", "s / 1.1"), 1, "product rule"),
    ("07.lipswish", ("(s + z * s * (1 - s)) / 1.1", "(s + x * s * (1 - s)) / 1.1"), 1, "factor beta"),
    ("07.lipswish", ("z = beta * x", "z = x"), 0, "beta * x"),
]
