"""Inferia: an open platform for running LLMs in production."""

__version__ = "0.1.0"
