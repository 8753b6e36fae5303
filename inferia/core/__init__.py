"""Shared building blocks with no plane logic: errors, ids, logging, crypto."""
