"""Runtime: joins sources → decode → measure → track → TRACKS rows (``replay`` and ``run``)."""
