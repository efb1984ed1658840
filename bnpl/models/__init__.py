"""bnpl's models, one module per area; each is imported here so Django finds it."""
