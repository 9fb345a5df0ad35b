"""GraphQL kernel: every mechanism shared by all domains, once."""
