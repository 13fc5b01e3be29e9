"""MySQL and MariaDB: each ALTER TABLE read clause by clause against the online DDL manuals,
verified by the collector's probe (the server asked for the most efficient ALGORITHM and LOCK).

``analyzer`` reads the statements, ``advice`` writes the safer Django code and the online schema
change commands.
"""

from __future__ import annotations

from bot.classify.backend import Backend
from bot.classify.mysql.advice import ADVICE
from bot.classify.mysql.analyzer import Analyzer, Server
from bot.classify.schema import Schema
from bot.models import CollectedMigration


class MySQL(Backend):
    """DDL commits at once on MySQL: RunPython never runs under a schema change's lock."""

    name = "mysql"
    advice = ADVICE
    transactional_ddl = False
    lock_timeout_rule = "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT"

    def __init__(self, server_version: str | None) -> None:
        self.server = Server.parse(server_version)

    def analyzer(self, schema: Schema, migration: CollectedMigration | None) -> Analyzer:
        return Analyzer(self.server, schema)
