"""The reconciler hands a pool-aware adapter the pool's unsealed credentials, and they
never show in a log line."""

from __future__ import annotations

import json

from inferia.core.crypto import SecretBox
from inferia.orchestration.deployments.spec import pool_target


def test_the_pool_target_carries_unsealed_credentials() -> None:
    box = SecretBox("test-encryption-key")
    sealed = box.encrypt(json.dumps({"kubeconfig": "clusters: []"}), "pool:p-1")
    row = {"id": "p-1", "config": '{"namespace": "ml"}', "credentials": sealed}
    target = pool_target(row, box)
    assert target.credentials == {"kubeconfig": "clusters: []"}
    assert target.config == {"namespace": "ml"}
    assert "clusters" not in repr(target)
    bare = pool_target({**row, "credentials": None}, box)
    assert bare.credentials == {}
