"""The built-in scanners; each module's ``create`` is its entry point."""
