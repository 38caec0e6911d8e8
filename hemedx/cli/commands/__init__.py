"""One module per command (or command group); each registers itself on :data:`hemedx.cli.cli` on import."""
