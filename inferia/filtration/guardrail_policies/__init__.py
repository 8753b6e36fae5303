"""Guardrail policies: store, service, API, the port's server side and the findings consumer."""
