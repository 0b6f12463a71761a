"""Reference hooks for the console's actions (run as ``hooks.rotation.command``)."""
