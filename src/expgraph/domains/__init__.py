"""One package per bounded context; each holds everything about its entities."""
