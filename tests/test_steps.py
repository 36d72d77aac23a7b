"""`_steps.Driver`: a sans-I/O core's commands as an iterator (tabular's `_run`/`_arun` and the
upload twins drive their cores through it)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from datagouv_sdk._steps import Driver


def _core(log: list[Any]) -> Generator[str, Any, str]:
    log.append((yield "first"))
    log.append((yield "second"))
    log.append((yield "third"))
    return "done"


def test_commands_come_in_order_and_each_outcome_goes_back_to_its_command() -> None:
    log: list[Any] = []
    run = Driver(_core(log))
    seen = []
    for command in run:
        seen.append(command)
        if command != "second":  # a command with no outcome (a pause) sends None back
            run.outcome = command.upper()
    assert seen == ["first", "second", "third"]
    assert log == ["FIRST", None, "THIRD"]
    assert run.result == "done"


def test_a_core_that_asks_nothing_answers_at_once() -> None:
    def core() -> Generator[str, Any, int]:
        return 42
        yield "never"

    run = Driver(core())
    assert list(run) == []
    assert run.result == 42


def test_the_core_s_errors_reach_the_driver() -> None:
    def core() -> Generator[str, Any, None]:
        answer = yield "ask"
        raise ValueError(f"refused {answer}")

    run = Driver(core())
    with pytest.raises(ValueError, match="refused 7"):
        for _ in run:
            run.outcome = 7
