"""The WebSocket API's methods: connectivity, session, User Data Stream and orders.

Orders go through the same code as REST: `check_new_order`, `RestApi.symbol`, the matching
engine's `place` / `find` / `cancel`, the order-rate limit, and `state_changed` (which also
publishes the account events). Answers are REST's bodies (web-socket-api.md shows the same).

Session authentication (`session.logon`) takes "Only _Ed25519_ keys"; the simulator's one key is
HMAC, so logon is refused with -4056 "HMAC_SHA256 API key is not supported." (what Binance
answers an HMAC key; not in errors.md), after the key, timestamp and signature checks, and
`userDataStream.subscribe` on a connection without logon is 401 -1002. An HMAC key subscribes
with `userDataStream.subscribe.signature` ("In any session, authenticated or not"), one
subscription per account per connection (-2035 for a second), at most 65,535 over a
connection's life (-2042). `userDataStream.unsubscribe` ends one (by `subscriptionId`) or all,
each with an `eventStreamTerminated` event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from thunes.sim.order_params import NEW_ORDER, check_new_order
from thunes.sim.orders import SimError
from thunes.sim.params import SIGNED, Params
from thunes.sim.rest_account import ORDER_RESP_TYPES

if TYPE_CHECKING:
    from thunes.sim.ws_api import Session, WsApi

MAX_SUBSCRIPTIONS = 65_535
SUBSCRIBE_PARAMS = frozenset({"apiKey", "timestamp", "signature", "recvWindow", "returnRateLimits"})
ORDER_REF = SIGNED | {"symbol", "orderId", "origClientOrderId"}
CANCEL = ORDER_REF | {"newClientOrderId", "cancelRestrictions"}


@dataclass(frozen=True)
class Method:
    handler: Callable[[WsMethods, Session, dict[str, str]], Awaitable[Any]]
    weight: int
    orders: bool = False  # touches the ORDERS limits (shown in rateLimits)


def _only(params: dict[str, str], accepted: frozenset[str]) -> None:
    Params(params).only(accepted | {"returnRateLimits"})


class WsMethods:
    """Handlers bound to one WebSocket API."""

    def __init__(self, api: WsApi) -> None:
        self.api = api
        self.sim = api.sim

    # ---- general -----------------------------------------------------------------------------

    async def ping(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        return {}

    async def time(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        return {"serverTime": self.sim.market.now_ms()}

    # ---- session -----------------------------------------------------------------------------

    def _status(self, session: Session) -> dict[str, Any]:
        return {
            "apiKey": None,
            "authorizedSince": None,
            "connectedSince": session.connected_ms,
            "returnRateLimits": session.rate_limits_default,
            "serverTime": self.sim.market.now_ms(),
            "userDataStream": bool(session.subscriptions),
        }

    async def logon(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, SUBSCRIBE_PARAMS)
        self.api.signed(params)
        raise SimError(-4056, "HMAC_SHA256 API key is not supported.")

    async def status(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        return self._status(session)

    async def logout(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        return self._status(session)  # never logged on: nothing to forget

    async def subscriptions(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        return [{"subscriptionId": sid} for sid in sorted(session.subscriptions)]

    # ---- User Data Stream --------------------------------------------------------------------

    async def subscribe(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset())
        raise SimError(-1002, "You are not authorized to execute this request.", 401)

    async def subscribe_signature(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, SUBSCRIBE_PARAMS)
        self.api.signed(params)
        if session.subscriptions:  # the simulator has one account
            raise SimError(-2035, "User Data Stream subscription already active.")
        if session.started >= MAX_SUBSCRIPTIONS:
            raise SimError(-2042, "Maximum subscription ID reached for this connection.")
        subscription_id = session.started
        session.started += 1
        session.subscriptions[subscription_id] = self.sim.account_feed.listen(
            lambda event: session.event(subscription_id, event)
        )
        return {"subscriptionId": subscription_id}

    async def unsubscribe(self, session: Session, params: dict[str, str]) -> Any:
        _only(params, frozenset({"subscriptionId"}))
        chosen = Params(params).integer("subscriptionId")
        for subscription_id in list(session.subscriptions):
            if chosen is None or chosen == subscription_id:
                session.end_subscription(subscription_id)
        return {}

    # ---- orders ------------------------------------------------------------------------------

    async def place(self, session: Session, params: dict[str, str]) -> Any:
        params = self.api.signed(params)
        checked = Params(params)
        checked.only(NEW_ORDER)
        resp_type = checked.text("newOrderRespType") or (
            "FULL" if checked.get("type") in ("MARKET", "LIMIT") else "ACK"
        )
        if resp_type not in ORDER_RESP_TYPES:
            raise SimError(-1116, "Invalid newOrderRespType.")
        sim = self.sim
        sim.check_order_rate()
        check_new_order(checked)
        symbol = sim.rest.symbol(checked)
        sim.match_all()
        bid, ask = sim.market.book(symbol)
        order, trades = sim.exchange.place(checked.raw(), bid, ask, sim.market.now_ms())
        sim.count_order()
        sim.state_changed()
        return order.new_order_json(resp_type, trades)

    def _order_ref(self, params: Params) -> tuple[str, str | None, str | None]:
        symbol = self.sim.rest.symbol(params)
        order_id = params.integer("orderId")
        return symbol, None if order_id is None else str(order_id), params.text("origClientOrderId")

    async def status_of_order(self, session: Session, params: dict[str, str]) -> Any:
        checked = Params(self.api.signed(params))
        checked.only(ORDER_REF)
        symbol, order_id, client_id = self._order_ref(checked)
        self.sim.match_all()
        return self.sim.exchange.find(symbol, order_id, client_id).query_json()

    async def cancel(self, session: Session, params: dict[str, str]) -> Any:
        checked = Params(self.api.signed(params))
        checked.only(CANCEL)
        symbol, order_id, client_id = self._order_ref(checked)
        sim = self.sim
        sim.match_all()
        now = sim.market.now_ms()
        order = sim.exchange.cancel(symbol, order_id, client_id, now)
        sim.state_changed()
        return order.cancel_json(now)


METHODS: dict[str, Method] = {
    "ping": Method(WsMethods.ping, 1),
    "time": Method(WsMethods.time, 1),
    "session.logon": Method(WsMethods.logon, 2),
    "session.status": Method(WsMethods.status, 2),
    "session.logout": Method(WsMethods.logout, 2),
    "session.subscriptions": Method(WsMethods.subscriptions, 2),
    "userDataStream.subscribe": Method(WsMethods.subscribe, 2),
    "userDataStream.subscribe.signature": Method(WsMethods.subscribe_signature, 2),
    "userDataStream.unsubscribe": Method(WsMethods.unsubscribe, 2),
    "order.place": Method(WsMethods.place, 1, orders=True),
    "order.status": Method(WsMethods.status_of_order, 4),
    "order.cancel": Method(WsMethods.cancel, 1),
}
