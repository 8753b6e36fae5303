"""The inference (data) plane."""

from inferia.inference.plane import InferencePlane

__all__ = ["InferencePlane"]
