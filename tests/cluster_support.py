"""Helpers for tests that run real servers on localhost: the process code of benchmarks/cluster_stack.py (shared
with benchmarks/replica_load.py) with every wait stretched x3 when BANKBOT_TEST_SLOW_MACHINE is set."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from benchmarks import cluster_stack

T = TypeVar("T")
SLOW_FACTOR = 3.0 if os.environ.get("BANKBOT_TEST_SLOW_MACHINE") else 1.0

__all__ = ["LlamaConfigServer", "Replica", "bankbot", "deadline", "run_module", "wait_for"]


def deadline(seconds: float) -> float:
    """A wait bound in seconds, stretched on a machine flagged as slow."""
    return seconds * SLOW_FACTOR


def wait_for(condition: Callable[[], T | None], what: str, seconds: float, every: float = 0.25) -> T:
    """Poll ``condition`` until it returns something truthy; TimeoutError naming ``what`` after the deadline."""
    return cluster_stack.wait_for(condition, what, deadline(seconds), every)


class LlamaConfigServer(cluster_stack.LlamaConfigServer):
    deadline_scale = SLOW_FACTOR


class Replica(cluster_stack.Replica):
    deadline_scale = SLOW_FACTOR


def bankbot(args: list[str], env: dict[str, str], *, seconds: float, stdin: str | None = None) -> str:
    """Run one `bankbot` command to completion within ``deadline(seconds)``; its output."""
    return cluster_stack.bankbot(args, env, seconds=deadline(seconds), stdin=stdin)


def run_module(module: str, args: list[str], env: dict[str, str], *, seconds: float, stdin: str | None = None) -> str:
    """``python -m module args`` to completion within ``deadline(seconds)``; its output."""
    return cluster_stack.run_module(module, args, env, seconds=deadline(seconds), stdin=stdin)
