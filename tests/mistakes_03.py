"""Seeded typical mistakes of sheet 03: (task, (text in the solution, replacement), points kept, words naming it)."""

MISTAKES: list[tuple] = []
