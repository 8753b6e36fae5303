"""The request pipeline of the inference plane (docs/architecture.md): small steps, one job each.

Order: authenticate -> route -> admit -> guard input -> shape prompt -> call upstream ->
guard output -> settle. Steps are appended in InferencePlane.__init__.
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
