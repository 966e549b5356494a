"""Users, their sign-in identities, sessions and personal API tokens."""
