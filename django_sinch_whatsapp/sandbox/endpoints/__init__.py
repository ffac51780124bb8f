"""Sinch API endpoints; each module lists ``ROUTES`` as (method, path after the bot id, handler)."""
