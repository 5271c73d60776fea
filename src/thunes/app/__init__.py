"""The composition root: builds and wires THUNES' components for a mode, then runs the daemon.

Nothing else constructs concrete components; everything below receives its collaborators. In
`sim` mode the simulator runs in this process on a simulated clock that the daemon shares; its
state is saved in the state directory so a restart continues the same exchange.
"""

from thunes.app.build import build
from thunes.app.compose import compose, schedule_for
from thunes.app.parts import Built, Observer, StartupError
from thunes.app.run import run_app, telegram_front

__all__ = [
    "Built",
    "Observer",
    "StartupError",
    "build",
    "compose",
    "run_app",
    "schedule_for",
    "telegram_front",
]
