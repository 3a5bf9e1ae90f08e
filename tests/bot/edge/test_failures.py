from __future__ import annotations

from sqlalchemy import exc as sa_exc

from bot.edge.failures import failure_text, is_transient


def _wrapped(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("while handling a click") from exc
    except RuntimeError as outer:
        return outer


def test_outages_are_transient() -> None:
    assert is_transient(sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"))
    assert is_transient(sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert is_transient(ConnectionRefusedError(111, "Connection refused"))
    assert is_transient(_wrapped(OSError("network is unreachable")))
    invalidated = sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_transient(invalidated)


def test_bugs_are_not_transient() -> None:
    assert not is_transient(ValueError("a request without a workspace"))
    assert not is_transient(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient(_wrapped(KeyError("x")))


def test_the_person_is_told_in_their_language() -> None:
    assert "try again in a moment" in failure_text("en", sa_exc.TimeoutError("pool"))
    assert "probeer het zo nog eens" in failure_text("nl", sa_exc.TimeoutError("pool"))
    assert "try again in a minute" in failure_text("en", ValueError("bug"))
    assert "over een minuut" in failure_text("nl", ValueError("bug"))
