"""Test helpers: servers from the environment (or testcontainers), waiters, tokens, a TCP proxy.

The pytest plugin (`shared.testing.plugin`, enabled in pyproject.toml) gives every test session
its own database and its own broker names, so tests never touch a running local system.
"""
