"""Deployment routes under ``/deployment``: paths to service calls."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from inferia.orchestration.access import Access
from inferia.orchestration.changes import ActionContext
from inferia.orchestration.deployments.schemas import (
    DeploymentList,
    DeploymentRecord,
    DeployRequest,
    EventList,
    ScaleRequest,
)
from inferia.orchestration.deployments.service import DeploymentService

Tail = Annotated[int, QueryParameter(ge=0, le=100_000)]
Follow = FromQuery[bool]


def deployments_controller(service: DeploymentService, access: Access) -> type[Controller]:
    class DeploymentsController(Controller):
        path = "/deployment"
        tags = ["deployments"]

        @post("/deploy", guards=[access.requires("deployments:write")], status_code=202)
        async def deploy(
            self, request: Request[Any, Any, Any], data: JSONBody[DeployRequest]
        ) -> DeploymentRecord:
            """Deploy a registered model on a pool; the reconciler brings it up."""
            return await service.deploy(ActionContext.of(request, access.caller(request)), data)

        @get("/deployments", guards=[access.requires("deployments:read")])
        async def list_deployments(self, request: Request[Any, Any, Any]) -> DeploymentList:
            return DeploymentList(await service.list_for(access.caller(request).organization_id))

        @get("/status/{deployment_id:str}", guards=[access.requires("deployments:read")])
        async def status(
            self, request: Request[Any, Any, Any], deployment_id: FromPath[str]
        ) -> DeploymentRecord:
            """State, replicas, ready endpoints, last error and the event history."""
            return await service.status(access.caller(request).organization_id, deployment_id)

        @post(
            "/scale/{deployment_id:str}",
            guards=[access.requires("deployments:write")],
            status_code=202,
        )
        async def scale(
            self,
            request: Request[Any, Any, Any],
            deployment_id: FromPath[str],
            data: JSONBody[ScaleRequest],
        ) -> DeploymentRecord:
            context = ActionContext.of(request, access.caller(request))
            return await service.scale(context, deployment_id, data.replicas)

        @post(
            "/terminate/{deployment_id:str}",
            guards=[access.requires("deployments:write")],
            status_code=202,
        )
        async def terminate(
            self, request: Request[Any, Any, Any], deployment_id: FromPath[str]
        ) -> DeploymentRecord:
            context = ActionContext.of(request, access.caller(request))
            return await service.terminate(context, deployment_id)

        @get("/events/{deployment_id:str}", guards=[access.requires("deployments:read")])
        async def events(
            self, request: Request[Any, Any, Any], deployment_id: FromPath[str]
        ) -> EventList:
            return EventList(
                await service.events(access.caller(request).organization_id, deployment_id)
            )

        @get("/logs/{deployment_id:str}", guards=[access.requires("deployments:read")])
        async def logs(
            self,
            request: Request[Any, Any, Any],
            deployment_id: FromPath[str],
            tail: Tail = 200,
            follow: Follow = False,
        ) -> Stream:
            """The model servers' output as text; ``follow=true`` keeps streaming."""
            lines = await service.logs(
                access.caller(request).organization_id, deployment_id, tail=tail, follow=follow
            )
            return Stream(lines, media_type="text/plain; charset=utf-8")

    return DeploymentsController
