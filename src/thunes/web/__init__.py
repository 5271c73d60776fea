"""The web dashboard and its JSON API: pages and `/api/v1/` on their own port, on the daemon's
event loop, reading through the reports layer and acting through the risk manager and the
force-exit path (see docs/OPERATIONS.md, "The dashboard")."""

from thunes.web.server import DashboardServer, WebPortError
from thunes.web.sources import DashboardSources

__all__ = ["DashboardServer", "DashboardSources", "WebPortError"]
