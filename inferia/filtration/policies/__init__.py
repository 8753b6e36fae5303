"""Limit policies: definitions (store, service, API) and the port's server side."""
