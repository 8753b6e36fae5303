"""Model definitions: store, service, API and the model-definition port's server side."""
