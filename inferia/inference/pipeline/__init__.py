"""The request pipeline's steps: admit, guard input, guard output and settle, each a
``Step`` with one job, called through the hooks they override.

The order of a whole request, these steps included, is held by inferia.inference.flow
(docs/architecture.md, "Request path").
"""

from inferia.inference.pipeline.context import Api, DeferredOp, OnResult, RequestContext, Usage
from inferia.inference.pipeline.pipeline import Pipeline
from inferia.inference.pipeline.step import Step, StreamBlocked, StreamedText, StreamTransform

__all__ = [
    "Api",
    "DeferredOp",
    "OnResult",
    "Pipeline",
    "RequestContext",
    "Step",
    "StreamBlocked",
    "StreamTransform",
    "StreamedText",
    "Usage",
]
