"""``inferia serve --demo``: a built-in echo model, so a first chat needs no model server.

The model (``demo-echo``) is an ordinary ``[[models]]`` entry whose upstream is this
same server's ``/demo/v1`` (served by ``inferia/inference/demo_upstream.py`` only in
demo mode): the request takes the real path (key, limits, guardrails, routing, usage).
Its replies say they are a demo.
"""

from __future__ import annotations

import msgspec

from inferia.config.sections import ModelEndpointSettings, Settings

DEMO_MODEL = "demo-echo"
DEMO_PATH = "/demo/v1"


def with_demo_model(settings: Settings) -> Settings:
    """``settings`` in demo mode: ``server.demo`` on and the echo model added."""
    host = settings.server.host
    # A wildcard bind answers on loopback; otherwise call the address we listen on.
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    model = ModelEndpointSettings(
        name=DEMO_MODEL, base_url=f"http://{host}:{settings.http_port()}{DEMO_PATH}"
    )
    server = msgspec.structs.replace(settings.server, demo=True)
    others = [m for m in settings.models if m.name != DEMO_MODEL]
    return msgspec.structs.replace(settings, server=server, models=[*others, model])
