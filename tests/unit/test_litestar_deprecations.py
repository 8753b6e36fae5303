"""No route handler of any plane uses a style Litestar has deprecated.

Litestar 2.23+ warns, when it builds a handler, about parameters declared in the
inferred style (``key_id: str`` for a path or query parameter, ``caller: Caller`` for a
dependency, ``data: Model`` for the body); Litestar 3 drops that style. Declare them
with ``FromPath[...]``, ``FromQuery[...]`` (or ``Annotated[..., QueryParameter(...)]``
for constraints), ``NamedDependency[...]`` and ``JSONBody[...]``.

pyproject.toml also turns these warnings into errors for every test; this test walks
every plane at once and lists all offenders in one failure.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import msgspec
from litestar.exceptions import LitestarDeprecationWarning

from inferia.app import build_app
from inferia.config import ALL_PLANES
from tests.identity_support import identity_settings


async def test_no_route_handler_uses_a_deprecated_litestar_style(tmp_path: Path) -> None:
    # Every plane, so handlers added by any engineer are built. Inside a running event
    # loop: some planes create loop-bound objects.
    settings = msgspec.structs.replace(identity_settings(tmp_path), planes=list(ALL_PLANES))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LitestarDeprecationWarning)
        app = build_app(settings)
        assert app.openapi_schema.paths
    messages = sorted(
        {str(w.message) for w in caught if issubclass(w.category, LitestarDeprecationWarning)}
    )
    assert messages == [], "Litestar deprecations:\n" + "\n".join(messages)
