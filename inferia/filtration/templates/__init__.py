"""Prompt templates: store, service, API and the port's server side."""
