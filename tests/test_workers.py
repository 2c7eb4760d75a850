"""The render workers (kit/workers.py): answers, errors, replacement, a worker that dies.

Each worker imports this module to find the function it runs (square, die, ...), so the
module imports only what those need; the tests import pytest themselves, which spares
every worker started here the import of pytest.
"""
import os

from kit.errors import KitError
from kit.workers import Pool, WorkerDied


def pid_of(_):
    return os.getpid()


def square(n):
    return n * n


def refuse(message):
    raise KitError(message)


def die(code):
    os._exit(code)


def test_answers_come_back_to_their_tickets():
    pool = Pool(2, limit=3)
    try:
        tickets = {n: pool.submit(square, n) for n in range(10)}
        assert {n: pool.result(t) for n, t in reversed(tickets.items())} == {n: n * n for n in range(10)}
    finally:
        pool.close()


def test_each_worker_is_replaced_after_its_share_of_tasks():
    pool = Pool(1, limit=2)
    try:
        pids = [pool.result(pool.submit(pid_of, None)) for _ in range(6)]
    finally:
        pool.close()
    assert pids[0] == pids[1] and pids[2] == pids[3] and pids[4] == pids[5]
    assert len(set(pids)) == 3 and os.getpid() not in pids


def test_an_error_in_a_worker_is_raised_by_the_caller():
    import pytest

    pool = Pool(1, limit=5)
    try:
        with pytest.raises(KitError, match="no such image"):
            pool.result(pool.submit(refuse, "no such image"))
        assert pool.result(pool.submit(square, 3)) == 9  # the worker goes on
    finally:
        pool.close()


def test_a_worker_that_dies_is_reported_not_waited_for():
    import pytest

    pool = Pool(1, limit=5)
    with pytest.raises(WorkerDied, match="exit code 3"):
        pool.result(pool.submit(die, 3))
    pool.close()


def test_a_worker_that_died_while_idle_is_reported():
    import pytest

    pool = Pool(1, limit=5)
    assert pool.result(pool.submit(square, 2)) == 4
    idle = pool.idle[0].process
    idle.kill()
    idle.join()
    with pytest.raises(WorkerDied):
        pool.result(pool.submit(square, 3))
    pool.close()


def test_a_dead_worker_stops_the_build_with_a_clean_error(tmp_path, monkeypatch):
    import pytest

    import kit.engine
    from kit.build import BuildOptions, build

    from conftest import tiny_kit

    monkeypatch.setattr(kit.engine, "render_job", die_rendering)
    # The workers need not import WeasyPrint (kit.engine.WORKER_MODULES) to die at their first task.
    monkeypatch.setattr(kit.engine, "WORKER_MODULES", [])
    with pytest.raises(KitError, match="a rendering worker died .*try again with -j 1"):
        build(tiny_kit(tmp_path / "kit"), BuildOptions(out=tmp_path / "out", jobs=2))
    assert not (tmp_path / "out/fixture/facilitator-guide.pdf").exists()


def die_rendering(job):
    os._exit(9)
