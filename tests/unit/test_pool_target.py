"""The reconciler hands a pool-aware adapter the pool's unsealed credentials, and they
never show in a log line."""

from __future__ import annotations

import json
from typing import Any, cast

from inferia.core.crypto import SecretBox
from inferia.orchestration.reconciler.deployment_pass import DeploymentPass


def test_the_pool_target_carries_unsealed_credentials() -> None:
    box = SecretBox("test-encryption-key")
    sealed = box.encrypt(json.dumps({"kubeconfig": "clusters: []"}), "pool:p-1")
    pass_ = DeploymentPass(cast(Any, None), box, cast(Any, None), 1.0, 1.0)
    row = {"id": "p-1", "config": '{"namespace": "ml"}', "credentials": sealed}
    target = pass_._pool_target(row)
    assert target.credentials == {"kubeconfig": "clusters: []"}
    assert target.config == {"namespace": "ml"}
    assert "clusters" not in repr(target)
    bare = pass_._pool_target({**row, "credentials": None})
    assert bare.credentials == {}
