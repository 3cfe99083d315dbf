"""Seeded typical mistakes of sheet 02: (task, (text in the solution, replacement), points kept, words naming it)."""

MISTAKES: list[tuple] = []
