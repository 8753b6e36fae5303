"""Inferia's piccolo migrations, one module per migration (see README.md here)."""
