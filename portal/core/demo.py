"""Demo data steps: each app registers one in its AppConfig.ready().

`manage.py demo` (portal/shell) creates the demo cast and then runs the steps in order, so the
kernel never imports the apps above it.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable  # run(*, scale: str, stdout) -> None
    order: int = 50


_steps: dict[str, DemoStep] = {}


def register_step(step: DemoStep) -> None:
    _steps[step.name] = step


def steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))
