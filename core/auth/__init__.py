"""Who is calling: passwords, tokens, two-factor authentication and OpenID Connect."""
