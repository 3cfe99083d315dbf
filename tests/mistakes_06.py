"""Seeded typical mistakes of sheet 06: (task, (text in the solution, replacement), points kept, words naming it)."""

NORMALIZED = (
    "u = u / torch.linalg.vector_norm(u)\n        v = weight.T @ u\n        v = v / torch.linalg.vector_norm(v)\n"
)
RAISE = '    raise RuntimeError(f"the fixed-point iteration did not converge in {max_iterations} iterations")'

MISTAKES = [
    ("06.power", (NORMALIZED, "v = weight.T @ u\n"), 1, "length 1"),
    ("06.power", ("sigma_hat = u @ weight @ v", "sigma_hat = (u @ weight @ v) ** 2"), 1, "square"),
    ("06.power", ("torch.clamp(sigma_hat / c, min=1.0)", "sigma_hat"), 2, "spectral norm 1"),
    ("06.power", ("torch.clamp(sigma_hat / c, min=1.0)", "(sigma_hat / c)"), 3, "already below c"),
    ("06.power", ("weight / torch.clamp(sigma_hat / c, min=1.0)", "weight * (sigma_hat / c)"), 2, "multiplied"),
    ("06.fixed_point", ("x_new = u - g(x)", "x_new = u + g(x)"), 1, "u + g(x)"),
    ("06.fixed_point", ("        x = x_new\n", "        return x_new\n"), 0, "one iteration"),
    ("06.fixed_point", (RAISE, "    return x"), 2, "Raise an error"),
    ("06.fixed_point", ("    x = u\n", "    x = u\n    return u + g(u)\n"), 0, "density direction"),
    ("06.hutchinson", ("total = total + (-1) ** (k + 1) *", "total = total +"), 1, "alternate"),
    ("06.hutchinson", ("(w * v).sum(dim=1) / k", "(w * v).sum(dim=1)"), 1, "divided by k"),
    ("06.hutchinson", ("(-1) ** (k + 1)", "(-1) ** k"), 0, "flipped"),
    ("06.hutchinson", ("for k in range(1, terms + 1):", "for k in range(1, terms):"), 0, "off by one"),
    (
        "06.hutchinson",
        (
            "(w,) = torch.autograd.grad(gx, x, w, retain_graph=True)",
            "(w,) = torch.autograd.grad(gx, x, v, retain_graph=True)",
        ),
        1,
        "k-th power",
    ),
]
