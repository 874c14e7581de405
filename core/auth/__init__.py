"""Authentication: passwords, tokens and two-factor authentication."""
