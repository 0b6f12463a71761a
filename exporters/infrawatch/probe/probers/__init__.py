"""One file per protocol.  Each file declares its config section dataclass, its metric families
(at the top), its failure reasons (``extend_reasons``) and a ``SPEC = ProberSpec(...)`` at the
bottom; ``probe/table.py`` lists the specs.  Nothing here imports the table."""
