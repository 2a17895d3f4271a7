"""Self-tests of the emulation: wire formats, routing, serve, the offline store and Athena."""
