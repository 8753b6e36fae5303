"""Knowledge bases: organisation-scoped documents, chunked, embedded and searched."""
