"""Authentication and authorization: passwords, tokens, API keys, roles and scopes."""
