"""captty's front ends: the click command line (and, later, the Textual console)."""
