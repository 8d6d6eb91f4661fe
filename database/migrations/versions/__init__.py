"""The store's revisions, oldest first (0001_initial.py: the schema as create_all made it)."""
