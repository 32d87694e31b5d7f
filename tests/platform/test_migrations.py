"""Migrations upgrade and downgrade cleanly and match the models (alembic check)."""

from __future__ import annotations

from sqlalchemy import inspect

from storage import schema
from storage.db import make_engine
from storage.models import Base


def test_upgrade_creates_every_model_table_and_check_finds_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema.is_up_to_date(engine)
    schema.check(engine)  # raises on drift between models and migrations
    engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    assert schema.is_up_to_date(engine)
    engine.dispose()


def test_migration_files_sort_in_chain_order() -> None:
    """`ls` shows the chain: file N is revision N, whose parent is file N-1's revision."""
    import ast

    versions = sorted((schema.MIGRATIONS_DIR / "versions").glob("*.py"))
    chain: list[tuple[str, str | None]] = []
    for path in versions:
        values = {
            node.target.id: ast.literal_eval(node.value)
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        }
        chain.append((values["revision"], values["down_revision"]))
        assert path.name.startswith(f"{len(chain):04d}_"), path.name
    assert [parent for _, parent in chain] == [None, *[rev for rev, _ in chain[:-1]]]
