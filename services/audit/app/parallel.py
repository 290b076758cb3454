"""Scoring in parallel for the replay and the rebuild (`replay.score_evidence`, `replay.replay_all`): how many
processes, groups of balanced size, and the work run in forked processes, the garbage collector paused in each."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from chassis.collector import paused_gc

#: A rebuild scores in parallel only with at least this many events per process: below it, starting a process
#: costs more than it saves.
MIN_EVENTS_PER_PROCESS = 2000

T = TypeVar("T")
R = TypeVar("R")


def balanced(size: Mapping[str, int], count: int) -> dict[str, int]:
    """A group in ``range(count)`` for each key, the groups' total sizes close: largest first, each to the
    least loaded group so far."""
    load, group = [0] * count, {}
    for key in sorted(size, key=lambda k: (-size[k], k)):
        group[key] = i = load.index(min(load))
        load[i] += size[key]
    return group


def processes_for(events: int, requested: int | None = None) -> int:
    """How many processes score ``events``: ``requested``, else one per CPU this process may use while each
    gets `MIN_EVENTS_PER_PROCESS`; one where processes cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, requested)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, events // MIN_EVENTS_PER_PROCESS))


def _without_gc(work: Callable[[T], R], arg: T) -> R:
    with paused_gc():
        return work(arg)


def _child(work: Callable[[T], R], arg: T, send: Connection) -> None:
    try:
        outcome: tuple[bool, object] = (True, _without_gc(work, arg))
    except Exception as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    try:
        send.send(outcome)
    except Exception as exc:  # one that does not pickle
        send.send((False, RuntimeError(repr(exc))))
    send.close()


def in_processes(work: Callable[[T], R], args: Sequence[T]) -> list[R]:
    """``[work(a) for a in args]``, the first here and each other in a forked process (which inherits the
    arguments' memory instead of receiving a copy); an exception raised in any is raised here."""
    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, Connection]] = []
    try:
        for arg in args[1:]:
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(work, arg, send), daemon=True)
            child.start()
            send.close()
            children.append((child, receive))
        results = [_without_gc(work, args[0])] if args else []
        for child, receive in children:
            try:
                ok, value = receive.recv()
            except EOFError:
                child.join()
                raise RuntimeError(f"a replay process ended without an answer (exit code {child.exitcode})") from None
            if not ok:
                raise value  # type: ignore[misc]
            results.append(value)
        return results
    finally:
        for child, receive in children:
            receive.close()
            if child.is_alive():
                child.terminate()
            child.join()
