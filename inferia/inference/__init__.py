"""The inference (data) plane: the OpenAI-compatible API under /v1.

Importing this package imports nothing of the plane: the app factory imports
``inferia.inference.plane`` only in a process that serves it.
"""
