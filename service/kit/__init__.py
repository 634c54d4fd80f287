"""Small rules several domains share and that know nothing of HTTP (resource versions)."""
