"""What the collector process does, as a package of small modules.

It runs inside the reviewed project's interpreter, so it imports only the standard library,
Django and the project's database driver (psycopg, MySQLdb), always through relative imports:
a project module that happens to share a name with one of ours can never be picked up instead.
The bot imports ``cluster`` from here too, to give tests and ``check-sql --trace`` a throwaway
server.
"""
