"""One safer alternative per migration, as complete files, from the migration's own source.

Every operation of the original is kept: the ones no high finding is about are copied as they
were written, the others go through the backend's recipe for their rule (``Backend.recipes``).
Consecutive steps that can share a transaction share a file; the last file of the first release
keeps the original's name, so the migrations that depend on it still resolve and see its whole
effect. A plan over two releases adds files after the app's last migration, each saying which
release it belongs to. Model files a recipe edits on purpose come last.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

from bot.classify.backend import Backend
from bot.classify.recipe import Job, NoRecipe, Step
from bot.classify.source import MigrationSource, parse, write
from bot.errors import ReviewError
from bot.models import Alternative, AlternativeFile, Finding, MigrationReview, Risk

WORTH_IT = Risk.high
"""Migrations with an open finding at or above this get an alternative."""
NOT_ATOMIC = "every statement commits on its own: no lock is held across a scan or a batch"


def needs_alternative(migration: MigrationReview) -> bool:
    return any(f.risk >= WORTH_IT and not f.ignored for f in migration.findings)


def build(
    migration: MigrationReview,
    tree: Path,
    backend: Backend,
    *,
    partitioned: set[str] | None = None,
) -> Alternative:
    """The alternative for ``migration``, read from the head ``tree`` (the repository root).

    ``partitioned`` names the partitioned parent tables, whose indexes are built per partition.
    """
    findings = [f for f in migration.findings if f.risk >= WORTH_IT and not f.ignored]
    try:
        source = parse((tree / migration.file).read_text(encoding="utf-8"), migration.file)
        builder = _Builder(migration, source, tree, backend, partitioned or set())
        return builder.alternative(findings)
    except (NoRecipe, ReviewError) as exc:
        reason = exc.error.message if isinstance(exc, ReviewError) else str(exc)
        guidance = getattr(exc, "guidance", None) or _guidance(findings)
        return Alternative(
            summary=guidance,
            replaces=[migration.label],
            guidance=guidance,
            verification=f"no file recipe: {reason}",
        )


def _guidance(findings: list[Finding]) -> str:
    texts = [f.safer for f in findings if f.safer]
    return texts[0] if texts else "See the rule's documentation for the safe form."


class _Builder:
    def __init__(
        self,
        migration: MigrationReview,
        source: MigrationSource,
        tree: Path,
        backend: Backend,
        partitioned: set[str],
    ) -> None:
        self.migration = migration
        self.source = source
        self.tree = tree
        self.backend = backend
        self.partitioned = partitioned
        self.edited: dict[str, str] = {}

    def read(self, path: str) -> str | None:
        try:
            return (self.tree / path).read_text(encoding="utf-8")
        except OSError:
            return None

    def alternative(self, findings: list[Finding]) -> Alternative:
        if any(f.operation is None for f in findings):
            raise NoRecipe("a finding is about the whole migration, not one operation")
        if len(self.source.operations) != len(self.migration.operations):
            raise NoRecipe("the file's operations list is not a plain list")
        rules: dict[int, set[str]] = {}
        for finding in findings:
            assert finding.operation is not None
            rules.setdefault(finding.operation, set()).add(finding.rule)
        steps: list[Step] = []
        for index, op in enumerate(self.source.operations):
            if index not in rules:
                steps.append(Step([op.source], atomic=self.source.atomic))
                continue
            recipe = next(
                (r for rule, r in self.backend.recipes.items() if rule in rules[index]), None
            )
            if recipe is None:
                raise NoRecipe(f"no recipe for {', '.join(sorted(rules[index]))}")
            job = Job(
                op=op,
                info=self.migration.operations[index],
                statements=[s.sql for s in self.migration.statements if s.operation == index],
                migration=self.migration,
                read=self.read,
                partitioned=self.partitioned,
                edited=self.edited,
            )
            steps += recipe(job)
        files = self.files(steps)
        does = [f"- {step.does}" for step in steps if step.does]
        summary = (
            f"In place of `{self.migration.file}`, {len(files)} file{'s' if len(files) > 1 else ''}"
            f"{' over two releases' if any(f.release > 1 for f in files) else ''}; every "
            "operation is kept, and the risky work:\n" + "\n".join(does)
        )
        models = [
            AlternativeFile(path=path, source=text, replaces=path)
            for path, text in self.edited.items()
        ]
        return Alternative(summary=summary, replaces=[self.migration.label], files=files + models)

    def files(self, steps: list[Step]) -> list[AlternativeFile]:
        groups: list[list[Step]] = []
        for step in steps:
            last = groups[-1][-1] if groups else None
            same = last and (last.release, last.atomic) == (step.release, step.atomic)
            if same and not step.own_transaction:
                groups[-1].append(step)
            else:
                groups.append([step])
        first_release = [g for g in groups if g[0].release == 1]
        name, path = self.migration.name, PurePosixPath(self.migration.file)
        names = [f"{name}_part{n}" for n in range(1, len(first_release))] + [name]
        names += [
            f"{name}_release{g[0].release}" + (f"_{n}" if n else "")
            for n, g in enumerate(groups[len(first_release) :])
        ]
        files = []
        for number, (group, file_name) in enumerate(zip(groups, names, strict=True)):
            release = group[0].release
            after = names[number - 1] if number else None
            if release > 1 and group is groups[len(first_release)]:
                after = self.leaf()  # a later release follows everything merged before it
            dependencies: list[str] | str = (
                self.source.dependencies
                if after is None
                else [f'("{self.migration.app_label}", "{after}")']
            )
            header = (
                f"Safer form of {self.migration.label}: file {number + 1} of {len(groups)}, "
                f"release {release}"
                + (" (deploy it once release 1 runs everywhere)" if release > 1 else "")
            )
            source = write(
                self.source.preamble,
                header=header,
                dependencies=dependencies,
                operations=[o for step in group for o in step.operations],
                atomic=group[0].atomic,
                why_not_atomic=NOT_ATOMIC,
                imports=[i for step in group for i in step.imports],
                functions=[f for step in group for f in step.functions],
                extra=self.source.extra if file_name == name else None,
            )
            files.append(
                AlternativeFile(
                    path=str(path.with_name(f"{file_name}.py")),
                    source=source,
                    release=release,
                    replaces=str(path) if file_name == name else None,
                )
            )
        return files

    def leaf(self) -> str:
        """The app's last migration at head: the one no other migration of the app follows."""
        folder = self.tree / PurePosixPath(self.migration.file).parent
        names, followed = set(), set()
        for path in folder.glob("[0-9]*.py"):
            names.add(path.stem)
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Tuple) and len(node.elts) == 2:
                    items = [getattr(e, "value", None) for e in node.elts]
                    if items[0] == self.migration.app_label and isinstance(items[1], str):
                        followed.add(items[1])
        leaves = sorted(names - followed)
        if len(leaves) != 1:
            raise NoRecipe(f"the app has {len(leaves)} last migrations, not one")
        return leaves[0]
