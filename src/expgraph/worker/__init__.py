"""The execution worker: claims evaluation experiments over HTTP GraphQL (through
the generated typed client in ``client/``), runs them, records the results."""
