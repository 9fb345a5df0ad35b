"""Research: synthetic users, analyses and their outcomes, interviews, documents,
insights, and exploration trees of scenario nodes."""
