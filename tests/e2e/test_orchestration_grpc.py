"""The control plane over gRPC with a real ``inferia serve`` and the generated grpclib
client: the lifecycle (pool, model, deploy, Watch, scale, terminate) driven through
gRPC, credentials in call metadata, and each kind of bad input answered with its status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpclib
import pytest
from grpclib.client import Channel
from grpclib.const import Status

from inferia.orchestration.grpc_gen.grpc.health.v1 import (
    HealthCheckRequest,
    HealthCheckResponseServingStatus,
    HealthStub,
)
from inferia.orchestration.grpc_gen.inferia.orchestration import v1
from tests.conftest import BACKEND_PAIRS
from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import (
    TINY_SERVER,
    ControlClient,
    admin,
    backend_env,
    other_organisation,
    serving,
    wait_for,
)
from tests.e2e.test_orchestration import models_seen
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKEND_PAIRS)
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[InferiaServer]:
    with backend_env(request.param) as backends:
        yield from serving(tmp_path_factory.mktemp("grpc"), **backends)


@pytest.fixture(scope="module")
def user(server: InferiaServer) -> ControlClient:
    return admin(server)


@pytest.fixture
async def channel(server: InferiaServer) -> AsyncIterator[Channel]:
    opened = Channel("127.0.0.1", int(server.env["INFERIA_SERVER__GRPC_PORT"]))
    yield opened
    opened.close()


def auth(client: ControlClient) -> dict[str, str]:
    return {"authorization": client.headers["authorization"]}


def tiny_model(name: str) -> v1.RegisterModelRequest:
    return v1.RegisterModelRequest(
        name=name,
        version="1",
        artifact_uri=f"file://{TINY_SERVER}",
        engine="openai-compatible",
        command=[
            "{python}",
            "{model_path}",
            *("--port", "{port}", "--api-key", "{api_key}", "--name", "{served_name}"),
        ],
    )


async def status_of(call: Any) -> Status:
    with pytest.raises(grpclib.GRPCError) as caught:
        await call
    return caught.value.status


async def test_health_needs_no_credentials_but_everything_else_does(
    channel: Channel, user: ControlClient
) -> None:
    health = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert health.status == HealthCheckResponseServingStatus.SERVING
    ping = v1.OrchestrationStub(channel)
    # No version or planes for anonymous callers.
    assert await status_of(ping.ping(v1.PingRequest(), timeout=5)) == Status.UNAUTHENTICATED
    bad = {"authorization": "Bearer not-a-token"}
    assert await status_of(ping.ping(timeout=5, metadata=bad)) == Status.UNAUTHENTICATED
    reply = await ping.ping(timeout=5, metadata=auth(user))
    assert reply.version and "orchestration" in reply.planes
    pools = v1.ComputePoolManagerServiceStub(channel)
    assert await status_of(pools.list_pools(timeout=5)) == Status.UNAUTHENTICATED
    deployments = v1.ModelDeploymentServiceStub(channel)
    assert await status_of(deployments.list_deployments(timeout=5)) == Status.UNAUTHENTICATED
    inventory = v1.InventoryServiceStub(channel)
    assert (
        await status_of(inventory.heartbeat(v1.HeartbeatRequest(), timeout=5))
        == Status.UNAUTHENTICATED
    )
    # A user's access token is not a node token.
    assert (
        await status_of(inventory.heartbeat(v1.HeartbeatRequest(), timeout=5, metadata=auth(user)))
        == Status.UNAUTHENTICATED
    )


async def test_lifecycle_through_grpc_with_watch(
    channel: Channel, user: ControlClient, request: pytest.FixtureRequest
) -> None:
    metadata = auth(user)
    pools = v1.ComputePoolManagerServiceStub(channel, metadata=metadata, timeout=10)
    registry = v1.ModelRegistryServiceStub(channel, metadata=metadata, timeout=10)
    deployments = v1.ModelDeploymentServiceStub(channel, metadata=metadata, timeout=30)

    pool = await pools.create_pool(
        v1.CreatePoolRequest(
            name="grpc-pool",
            provider="local",
            config_json=json.dumps({"max_replicas": 2}),
            credentials_json=json.dumps({"token": "s3cret"}),
        )
    )
    assert pool.owner_id == user.organization_id and pool.has_credentials
    assert "s3cret" not in repr(pool)
    assert (await pools.get_pool(v1.GetPoolRequest(id=pool.id))).name == "grpc-pool"
    assert "grpc-pool" in [p.name for p in (await pools.list_pools()).pools]
    # The REST side sees the same pool: one service layer.
    assert user.call("GET", f"/deployment/pool/{pool.id}").json()["name"] == "grpc-pool"

    model = await registry.register_model(tiny_model("grpc-chat"))
    assert model.engine == "openai-compatible"
    got = await registry.get_model(v1.GetModelRequest(name="grpc-chat", version="1"))
    assert got.id == model.id
    assert "grpc-chat" in [m.name for m in (await registry.list_models()).models]

    deployment = await deployments.deploy(
        v1.DeployRequest(model="grpc-chat", version="1", pool_id=pool.id)
    )
    assert deployment.state == "PENDING" and deployment.desired_replicas == 1

    seen: list[v1.DeploymentEvent] = []

    async def watch_until(state: str) -> None:
        async for event in deployments.watch(v1.WatchRequest(deployment_id=deployment.id)):
            seen.append(event)
            if event.to_state == state:
                return

    # Watch with deployment_id and after_seq 0 sends the history, then new events.
    await asyncio.wait_for(watch_until("RUNNING"), 30)
    assert [e.to_state for e in seen][:2] == ["PENDING", "PROVISIONING"]
    assert seen[0].from_state == "" and seen[1].actor == "reconciler"
    assert [e.seq for e in seen] == sorted(e.seq for e in seen)
    running = await deployments.get_deployment(v1.GetDeploymentRequest(id=deployment.id))
    assert running.state == "RUNNING" and running.ready_replicas == 1
    assert len(running.endpoints) == 1
    assert [d.id for d in (await deployments.list_deployments()).deployments] == [deployment.id]
    # Deployed over gRPC, served through the gateway like any other.
    key = create_key(user.server.env)
    wait_for(lambda: "grpc-chat" in models_seen(user.server, key), 2, "routed")
    sdk = client(user.server, key)
    answer = await asyncio.to_thread(
        sdk.chat.completions.create, model="grpc-chat", messages=[{"role": "user", "content": "hi"}]
    )
    assert str(answer.choices[0].message.content).startswith("pid ")

    # An organisation-wide watch started now sees the scale-up and the termination.
    org_events: list[v1.DeploymentEvent] = []

    async def watch_all() -> None:
        async for event in deployments.watch(v1.WatchRequest()):
            org_events.append(event)
            if event.to_state == "TERMINATED":
                return

    watcher = asyncio.create_task(watch_all())
    request.addfinalizer(watcher.cancel)
    await asyncio.sleep(0.3)
    scaled = await deployments.scale(v1.ScaleRequest(id=deployment.id, replicas=2))
    assert scaled.desired_replicas == 2
    for _ in range(300):
        current = await deployments.get_deployment(v1.GetDeploymentRequest(id=deployment.id))
        if current.ready_replicas == 2 and current.state == "RUNNING":
            break
        await asyncio.sleep(0.1)
    assert current.ready_replicas == 2 and current.state == "RUNNING"
    terminated = await deployments.terminate(v1.TerminateRequest(id=deployment.id))
    assert terminated.state == "TERMINATING"
    await asyncio.wait_for(watcher, 30)
    assert all(e.deployment_id == deployment.id for e in org_events)
    assert "scaled from 1 to 2 replicas" in [e.reason for e in org_events]
    assert [e.to_state for e in org_events][-2:] == ["TERMINATING", "TERMINATED"]
    assert org_events[0].seq > seen[-1].seq  # nothing from before the watch began

    await registry.delete_model(v1.DeleteModelRequest(name="grpc-chat", version="1"))
    await pools.delete_pool(v1.DeletePoolRequest(id=pool.id))
    assert await status_of(pools.get_pool(v1.GetPoolRequest(id=pool.id))) == Status.NOT_FOUND


async def test_bad_input_gets_its_status(channel: Channel, user: ControlClient) -> None:
    metadata = auth(user)
    pools = v1.ComputePoolManagerServiceStub(channel, metadata=metadata, timeout=10)
    registry = v1.ModelRegistryServiceStub(channel, metadata=metadata, timeout=10)
    deployments = v1.ModelDeploymentServiceStub(channel, metadata=metadata, timeout=10)
    invalid = Status.INVALID_ARGUMENT

    async def create(**fields: Any) -> Status:
        return await status_of(pools.create_pool(v1.CreatePoolRequest(**fields)))

    assert await create(name="x", provider="nosuch") == invalid
    assert await create(name="x", provider="local", config_json="{not json") == invalid
    assert await create(name="x", provider="local", config_json="[1]") == invalid
    assert await create(name="x", provider="local", config_json='{"max_replicas": 0}') == invalid
    assert await create(name="bad name!", provider="local") == invalid
    pool = await pools.create_pool(
        v1.CreatePoolRequest(name="grpc-bad", provider="local", config_json='{"max_replicas": 2}')
    )
    assert await create(name="grpc-bad", provider="local") == Status.FAILED_PRECONDITION
    bad_engine = tiny_model("grpc-bad")
    bad_engine.engine = "nope"
    assert await status_of(registry.register_model(bad_engine)) == invalid
    await registry.register_model(tiny_model("grpc-bad"))
    assert await status_of(registry.register_model(tiny_model("grpc-bad"))) == (
        Status.FAILED_PRECONDITION
    )

    def deploy(**fields: Any) -> Any:
        return deployments.deploy(
            v1.DeployRequest(model="grpc-bad", version="1", pool_id=pool.id, **fields)
        )

    assert await status_of(deploy(replicas=-1)) == invalid
    assert await status_of(deploy(replicas=3)) == invalid
    missing = v1.DeployRequest(model="nope", version="1", pool_id=pool.id)
    assert await status_of(deployments.deploy(missing)) == Status.NOT_FOUND
    deployment = await deploy(replicas=0)
    assert (
        await status_of(deployments.scale(v1.ScaleRequest(id=deployment.id, replicas=-2)))
        == invalid
    )
    for call in (
        deployments.get_deployment(v1.GetDeploymentRequest(id="not-a-uuid")),
        deployments.terminate(v1.TerminateRequest(id="00000000-0000-0000-0000-000000000000")),
        registry.get_model(v1.GetModelRequest(name="grpc-bad", version="2")),
        pools.get_pool(v1.GetPoolRequest(id="nope")),
    ):
        assert await status_of(call) == Status.NOT_FOUND
    # In use: the pool cannot go.
    assert await status_of(pools.delete_pool(v1.DeletePoolRequest(id=pool.id))) == (
        Status.FAILED_PRECONDITION
    )
    await deployments.terminate(v1.TerminateRequest(id=deployment.id))


async def test_another_organisation_gets_not_found(
    channel: Channel, server: InferiaServer, user: ControlClient
) -> None:
    pools = v1.ComputePoolManagerServiceStub(channel, metadata=auth(user), timeout=10)
    deployments = v1.ModelDeploymentServiceStub(channel, metadata=auth(user), timeout=10)
    registry = v1.ModelRegistryServiceStub(channel, metadata=auth(user), timeout=10)
    pool = await pools.create_pool(v1.CreatePoolRequest(name="grpc-private", provider="local"))
    await registry.register_model(tiny_model("grpc-private"))
    deployment = await deployments.deploy(
        v1.DeployRequest(model="grpc-private", version="1", pool_id=pool.id, replicas=0)
    )
    other = other_organisation(server, "grpc-other@example.com", "another long password", "g")
    theirs = auth(other)
    their_pools = v1.ComputePoolManagerServiceStub(channel, metadata=theirs, timeout=10)
    their_deployments = v1.ModelDeploymentServiceStub(channel, metadata=theirs, timeout=10)
    their_registry = v1.ModelRegistryServiceStub(channel, metadata=theirs, timeout=10)
    for call in (
        their_pools.get_pool(v1.GetPoolRequest(id=pool.id)),
        their_pools.delete_pool(v1.DeletePoolRequest(id=pool.id)),
        their_registry.get_model(v1.GetModelRequest(name="grpc-private", version="1")),
        their_deployments.get_deployment(v1.GetDeploymentRequest(id=deployment.id)),
        their_deployments.scale(v1.ScaleRequest(id=deployment.id, replicas=1)),
        their_deployments.terminate(v1.TerminateRequest(id=deployment.id)),
        their_deployments.deploy(
            v1.DeployRequest(model="grpc-private", version="1", pool_id=pool.id)
        ),
    ):
        assert await status_of(call) == Status.NOT_FOUND

    async def first_event() -> None:
        async for _ in their_deployments.watch(v1.WatchRequest(deployment_id=deployment.id)):
            return

    assert await status_of(first_event()) == Status.NOT_FOUND
    assert (await their_pools.list_pools()).pools == []
    assert (await their_deployments.list_deployments()).deployments == []


async def test_a_role_without_the_permission_is_denied(
    channel: Channel, server: InferiaServer, user: ControlClient
) -> None:
    viewer = _viewer(server, user)
    pools = v1.ComputePoolManagerServiceStub(channel, metadata=auth(viewer), timeout=10)
    assert (await pools.list_pools()).pools is not None
    denied = pools.create_pool(v1.CreatePoolRequest(name="nope", provider="local"))
    assert await status_of(denied) == Status.PERMISSION_DENIED


async def test_an_api_key_acts_with_its_owners_role(channel: Channel, user: ControlClient) -> None:
    made = user.call("POST", "/management/api-keys/", json={"name": "grpc-ci"})
    assert made.status_code == 201, made.text
    key = {"authorization": f"Bearer {made.json()['key']}"}
    pools = v1.ComputePoolManagerServiceStub(channel, metadata=key, timeout=10)
    assert (await pools.list_pools()).pools is not None
    revoked = user.call("DELETE", f"/management/api-keys/{made.json()['api_key']['id']}")
    assert revoked.status_code == 200, revoked.text
    for _ in range(40):  # the principal cache hears of it through the change channel
        try:
            await pools.list_pools()
        except grpclib.GRPCError as exc:
            assert exc.status == Status.UNAUTHENTICATED
            return
        await asyncio.sleep(0.05)
    raise AssertionError("a revoked key still works")


async def test_node_heartbeat_over_grpc(channel: Channel, user: ControlClient) -> None:
    pool = user.create_pool("grpc-nodes")
    registered = user.call("POST", "/inventory/nodes", json={"pool_id": pool["id"]}).json()
    token = registered["token"]
    inventory = v1.InventoryServiceStub(
        channel, metadata={"authorization": f"Bearer {token}"}, timeout=10
    )
    reply = await inventory.heartbeat(
        v1.HeartbeatRequest(
            capacity=v1.NodeResources(gpus={"L4": 1}, cpus=8), report_replicas=True, replicas=[]
        )
    )
    assert reply.node_id == registered["node"]["id"] and reply.state == "READY"
    node = user.call("GET", f"/inventory/nodes/{reply.node_id}").json()
    assert node["capacity"]["gpus"] == {"L4": 1} and node["last_heartbeat"]
    bad = v1.HeartbeatRequest(capacity=v1.NodeResources(cpus=-1))
    assert await status_of(inventory.heartbeat(bad)) == Status.INVALID_ARGUMENT
    assert user.call("DELETE", f"/inventory/nodes/{reply.node_id}").status_code == 204
    assert await status_of(inventory.heartbeat(v1.HeartbeatRequest())) == Status.UNAUTHENTICATED


def _viewer(server: InferiaServer, owner: ControlClient) -> ControlClient:
    """A member of the owner's organisation with the read-only role."""
    email, password = "grpc-viewer@example.com", "a viewer password"
    created = run_cli(
        ["admin", "create-user", "--email", email, "--password", password, "--role", "viewer"],
        server.env,
    )
    assert created.returncode == 0, created.stderr
    viewer = ControlClient(server, email, password)
    assert viewer.organization_id == owner.organization_id
    return viewer
