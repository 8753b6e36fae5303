"""The orchestration (control) plane: pools, registry, deployments, inventory, gRPC.

Importing this package imports nothing of the plane: the app factory imports
``inferia.orchestration.plane`` only in a process that serves it.
"""
