"""Test helpers that speak real protocols: an OpenAI-compatible loopback server for tests and benchmarks.

``from slmforge.testing.server import ScriptedServer`` (see its docstring); nothing here is imported
by the library itself.
"""
