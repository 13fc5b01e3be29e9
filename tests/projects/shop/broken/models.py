"""An app whose second migration fails on any database: the tests' error path."""
