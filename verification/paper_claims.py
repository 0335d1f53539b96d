"""Claims C1–C5 of the paper (SPEC §4): measurement (``run``) and pure decision (``check``)."""
