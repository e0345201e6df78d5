"""Tasks the core ships."""
