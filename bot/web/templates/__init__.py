"""HTML templates (Jinja2, autoescaped), kept as Python strings so every install has them."""
