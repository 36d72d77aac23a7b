"""How a sans-I/O core talks to its sync and async drivers, written once.

A core is a generator: it yields what to do (a command: a path to GET, a request to send, a pause)
and receives the outcome. `Driver` turns it into a plain iterator of commands, so that each twin
driver is a ``for`` loop that performs the command and sets `Driver.outcome`: only its I/O.

    run = Driver(core.steps())
    for command in run:
        run.outcome = http.get(command)          # async: await http.get(command)
    return run.result
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any, Generic, TypeVar

C = TypeVar("C")  # what the core asks for
R = TypeVar("R")  # what it answers in the end

__all__ = ["Driver"]


class Driver(Generic[C, R]):
    """The core's commands, one per iteration. The outcome sent back is what the driver set in
    `outcome` while handling the command (None if nothing); `result` is the core's return value,
    set when the iteration ends."""

    def __init__(self, steps: Generator[C, Any, R]) -> None:
        self._steps = steps
        self.outcome: Any = None
        self.result: R

    def __iter__(self) -> Iterator[C]:
        while True:
            outcome, self.outcome = self.outcome, None
            try:
                command = self._steps.send(outcome)
            except StopIteration as finished:
                self.result = finished.value
                return
            yield command
