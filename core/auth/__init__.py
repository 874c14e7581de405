"""Who is calling: sign-in with passwords, tokens and OpenID Connect."""
