"""Contributor tools: message catalogs now, the lesson build later."""
