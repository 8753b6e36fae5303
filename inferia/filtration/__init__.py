"""The filtration (policy) plane: identity, API keys, policies, audit. Owns its tables.

Importing this package imports nothing of the plane: the app factory imports
``inferia.filtration.plane`` only in a process that serves it. Other planes reach it
only through ``inferia.contracts``.
"""
