"""The `objektif` command-line shell: embedded stack, demo, and the tools for auditors and departmental systems.
It composes the services; the services never import it."""
