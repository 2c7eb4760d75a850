"""Worker processes for rendering, each replaced after a few documents.

WeasyPrint keeps about half a MiB for every document it renders (measured
with 70.0: the same document rendered again and again grows the process
steadily, while Python's own objects do not), so a long-lived worker grows with
the length of the course. Here each worker renders a few documents and exits,
and a fresh one takes its place. Workers are forked from multiprocessing's fork
server, which has imported WeasyPrint already, so a new worker is ready in
milliseconds and carries none of the building process's memory.

(`concurrent.futures.ProcessPoolExecutor(max_tasks_per_child=...)` does this
too, but on Python 3.11 it can hang when a worker is replaced, and it refuses
the 'fork' start method. This pool is small, single-threaded and driven by the
caller: tasks are handed out whenever the caller submits or waits.)

As with any multiprocessing code that does not fork, a script that builds with
more than one job must guard its entry point with `if __name__ == "__main__":`.
"""
from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import traceback
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

class WorkerDied(Exception):
    """A worker process ended without answering (killed, out of memory)."""


def _context(preload: list[str]):
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _die_with_parent() -> None:
    """Have the kernel kill this worker the moment its parent is gone (Linux), so that a
    `kill -9` of a build does not leave workers rendering and writing the cache. (Forked
    from the fork server, a worker's parent is that server, which ends as soon as the
    building process does.) Ctrl-C and SIGTERM are the building process's to handle: it
    ends the workers itself, so a worker ignores Ctrl-C and dies quietly on SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if parent == 1 or os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1


def _serve(conn: Connection, limit: int, preload: list[str]) -> None:
    """A worker: run up to `limit` tasks, one at a time, then exit."""
    _die_with_parent()
    for module in preload:  # already there when forked from the fork server
        importlib.import_module(module)
    for _ in range(limit):
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        ticket, function, argument = message
        try:
            answer = (ticket, True, function(argument))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            answer = (ticket, False, exc)
        try:
            conn.send(answer)
        except OSError:  # the building process is gone: nobody to answer
            return
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text instead
            try:
                conn.send((ticket, False, RuntimeError(traceback.format_exc())))
            except OSError:
                return
    conn.close()


class _Worker:
    def __init__(self, context, limit: int, preload: list[str]):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, limit, preload), daemon=True)
        self.process.start()
        child.close()
        self.left = limit
        self.ticket: int | None = None


class Pool:
    """`size` worker processes, each replaced after `limit` tasks; every worker has
    imported the `preload` modules before its first task."""

    def __init__(self, size: int, limit: int, preload: Sequence[str] = ()):
        self.size, self.limit, self.preload = size, limit, list(preload)
        self.context = _context(self.preload)
        self.idle: list[_Worker] = []
        self.busy: list[_Worker] = []
        self.queue: deque = deque()
        self.answers: dict[int, tuple[bool, Any]] = {}
        self.tickets = 0

    def warm(self) -> None:
        """Start the fork server now, without waiting for it: it imports WeasyPrint while the
        caller goes on, and the workers started at the first task fork from it at once."""
        if self.context.get_start_method() == "forkserver":
            import multiprocessing.forkserver

            multiprocessing.forkserver.ensure_running()

    def start(self) -> None:
        while len(self.idle) + len(self.busy) < self.size:
            self.idle.append(_Worker(self.context, self.limit, self.preload))

    def submit(self, function: Callable, argument) -> int:
        self.tickets += 1
        self.queue.append((self.tickets, function, argument))
        self.start()
        self._hand_out()
        return self.tickets

    def result(self, ticket: int):
        """Wait for the task's answer: its value, or its exception raised here."""
        while ticket not in self.answers:
            self._step()
        ok, value = self.answers.pop(ticket)
        if ok:
            return value
        raise value

    def _hand_out(self) -> None:
        while self.queue and self.idle:
            worker = self.idle.pop()
            ticket, function, argument = self.queue.popleft()
            worker.ticket = ticket
            try:
                worker.conn.send((ticket, function, argument))
            except OSError:  # it died while idle
                self._died(worker)
            worker.left -= 1
            self.busy.append(worker)

    def _step(self) -> None:
        if not self.busy:
            raise RuntimeError("waiting for a task that was never handed out")  # pragma: no cover
        ready = wait([w.conn for w in self.busy] + [w.process.sentinel for w in self.busy])
        for worker in list(self.busy):
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            try:
                ticket, ok, value = worker.conn.recv()
            except (EOFError, OSError):
                self._died(worker)
            self.answers[ticket] = (ok, value)
            self.busy.remove(worker)
            if worker.left > 0:
                self.idle.append(worker)
            else:  # it has done its share and exits: a fresh one takes its place
                worker.process.join()
                worker.conn.close()
        self.start()
        self._hand_out()

    def _died(self, worker: _Worker) -> None:
        worker.process.join(1)
        code = worker.process.exitcode
        self.close(abort=True)
        raise WorkerDied(f"exit code {code}")

    def close(self, abort: bool = False) -> None:
        workers = self.idle + self.busy
        self.idle, self.busy = [], []
        for worker in workers:
            if abort:
                worker.process.terminate()
            else:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in workers:
            worker.process.join()
            worker.conn.close()
