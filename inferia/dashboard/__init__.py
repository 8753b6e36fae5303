"""The admin dashboard: React source in web/, the built bundle in static/."""
