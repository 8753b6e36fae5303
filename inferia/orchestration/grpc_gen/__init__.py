"""Generated gRPC code (betterproto2 messages, grpclib stubs and service bases).

Do not edit the modules below this package: they are generated from the .proto
files under ``schemas/`` and committed. After changing a .proto file, regenerate
and commit the result::

    pip install -e ".[codegen]" && bash schemas/generate.sh

(dev-only tools: ``grpcio-tools`` and ``betterproto2-compiler`` with the same x.y
as the ``betterproto2`` library). This ``__init__`` is the only hand-written file
here; the script keeps it.

Modules:
    ``grpc.health.v1``              the standard gRPC health checking protocol
    ``inferia.orchestration.v1``    the orchestration plane's own service
"""
