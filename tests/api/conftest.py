"""API tests share the root conftest's `world`, `token_for` and `api_as`."""
