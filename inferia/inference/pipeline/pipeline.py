"""The ordered list of steps, with each hook's users precomputed.

The finish hooks do not write to the state backend themselves: they defer their writes
on the request context (``ctx.defer``), and ``Pipeline.finish`` sends them all in one
``run_batch`` once every hook ran, so the end of a request costs one round trip
however many steps have something to record.
"""

from __future__ import annotations

import logging
from typing import Any

from inferia.core.errors import StateError
from inferia.inference.pipeline.context import DeferredOp, RequestContext
from inferia.inference.pipeline.step import Step, StreamTransform
from inferia.state import StateBackend

log = logging.getLogger(__name__)


def _overrides(step: Step, hook: str) -> bool:
    return getattr(type(step), hook) is not getattr(Step, hook)


class Pipeline:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._before: tuple[Step, ...] = ()
        self._after: tuple[Step, ...] = ()
        self._stream: tuple[Step, ...] = ()
        self._finish: tuple[Step, ...] = ()

    def append(self, step: Step) -> None:
        self.steps.append(step)
        self._before = tuple(s for s in self.steps if _overrides(s, "before_upstream"))
        self._after = tuple(s for s in self.steps if _overrides(s, "after_response"))
        self._stream = tuple(s for s in self.steps if _overrides(s, "stream_transform"))
        self._finish = tuple(s for s in self.steps if _overrides(s, "finish"))

    async def before_upstream(self, ctx: RequestContext) -> None:
        for step in self._before:
            await step.before_upstream(ctx)

    def reply_steps(self, ctx: RequestContext) -> tuple[Step, ...]:
        """The steps whose ``after_response`` has work on this request."""
        if not self._after:
            return ()
        return tuple(step for step in self._after if step.wants_reply(ctx))

    async def after_response(
        self, ctx: RequestContext, reply: dict[str, Any], steps: tuple[Step, ...]
    ) -> dict[str, Any]:
        for step in steps:
            reply = await step.after_response(ctx, reply)
        return reply

    def stream_transforms(self, ctx: RequestContext) -> list[StreamTransform]:
        transforms: list[StreamTransform] = []
        for step in self._stream:
            transform = step.stream_transform(ctx)
            if transform is not None:
                transforms.append(transform)
        return transforms

    async def finish(self, ctx: RequestContext) -> None:
        for step in self._finish:
            try:
                await step.finish(ctx)
            except Exception:
                # A finish hook must not raise; one that does must not hide the others.
                log.exception("pipeline step %s failed in finish()", step.name)
        if ctx.deferred:
            await _run_deferred(ctx)


async def _run_deferred(ctx: RequestContext) -> None:
    deferred, ctx.deferred = ctx.deferred, []
    # One batch per backend; the steps share one, so in practice this is one batch.
    batches: dict[StateBackend, list[DeferredOp]] = {}
    for item in deferred:
        batches.setdefault(item.state, []).append(item)
    for state, items in batches.items():
        results: list[Any]
        try:
            results = await state.run_batch([item.op for item in items])
        except StateError as exc:
            results = [exc] * len(items)
        except Exception as exc:
            log.exception("state batch of request %s failed", ctx.request_id)
            results = [StateError(f"state batch failed: {exc!r}")] * len(items)
        for item, result in zip(items, results, strict=True):
            try:
                item.on_result(ctx, result)
            except Exception:
                log.exception("result handler %r failed", item.on_result)
