"""The one SQLSTATE table of pipeline/failures.py, worded per step.

The driver's own exception classes carry the SQLSTATE the server sends
(``psycopg.errors``); tests/test_failures.py causes each failure for real
against a PostgreSQL server, these check the wording a step asks for.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from pipeline.failures import ANY_STEP, PUBLISH, database_error

SERVER = "db.example:5432/geopark"


def error(kind: type[psycopg.Error], message: str = "the server's message"):
    return kind(message)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (psycopg.errors.DeadlockDetected, "deadlock"),
        (psycopg.errors.SerializationFailure, "serialization"),
        (psycopg.errors.LockNotAvailable, "lock timeout"),
        (psycopg.errors.QueryCanceled, "cancelled"),
        (psycopg.errors.DiskFull, "out of resources"),
        (psycopg.errors.InvalidPassword, "refused the login"),
        (psycopg.errors.AdminShutdown, "connection"),
    ],
)
def test_every_everyday_state_is_explained_for_any_command(kind, words):
    found = database_error(error(kind), SERVER, step=ANY_STEP)
    assert found is not None and found.exit_code == 2
    assert words in found.message_en and "the server's message" in found.message_en
    assert found.server == SERVER and found.fix and found.fix_vi
    assert "nothing was replaced" not in found.message_en


def test_a_bug_stays_a_bug_except_where_the_step_reports_every_refusal():
    unique = error(psycopg.errors.UniqueViolation, "duplicate key")
    assert database_error(unique, SERVER) is None
    refused = database_error(unique, SERVER, step=PUBLISH)
    assert refused is not None
    assert refused.message_en == "the database refused the publish: duplicate key"
    assert database_error(ValueError("not a database error"), SERVER, step=PUBLISH) is None


def test_the_publish_names_itself_and_what_the_rollback_kept():
    deadlock = database_error(error(psycopg.errors.DeadlockDetected), SERVER, step=PUBLISH)
    assert deadlock.message_en.startswith("the publish collided with another transaction")
    assert deadlock.message_vi.startswith("lần xuất bản va chạm")
    cancelled = database_error(error(psycopg.errors.QueryCanceled), SERVER, step=PUBLISH)
    assert "cancelled" in cancelled.message_en and "nothing was replaced" in cancelled.message_en
    assert "statement_timeout" in cancelled.fix


def test_the_publish_lock_timeout_names_its_setting():
    generic = database_error(error(psycopg.errors.LockNotAvailable), SERVER)
    assert generic.field is None and "lock_timeout" in generic.fix
    swap = database_error(error(psycopg.errors.LockNotAvailable), SERVER, step=PUBLISH)
    assert swap.field == "database.swap_lock_timeout_s"
    assert "kept busy" in swap.message_en and "bảng đang bị giữ" in swap.message_vi
    assert "database.swap_lock_timeout_s" in swap.fix


def test_a_lost_connection_wrapped_by_sqlalchemy_is_named_as_such():
    wrapped = OperationalError("SELECT 1", {}, error(psycopg.OperationalError, "server closed"))
    wrapped.connection_invalidated = True
    for step in (ANY_STEP, PUBLISH):
        found = database_error(wrapped, SERVER, step=step)
        assert "connection to the database server was lost" in found.message_en
        assert "SELECT" not in found.render()
