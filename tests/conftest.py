"""Settings shared by every test: hypothesis draws the same examples on every run, so CI is repeatable."""

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")
