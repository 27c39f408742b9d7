"""The exceptions every exchange raises, and Bybit's retCodes that rulebot speaks about.

Callers see one hierarchy, whatever the venue::

    ExchangeError                  anything the exchange layer reports
    ├── ExchangeUnavailable        temporary: timeout, rate limit, 5xx; retry with backoff
    ├── OrderRejected              the venue said no (ret_code, ret_msg); journalled, never retried
    └── WireFormatError            a venue message lacks a field or has a malformed one

Adapters map their client's exceptions onto these at the boundary; nothing above
``rulebot.exchange`` catches a pybit or socket exception.
"""

from __future__ import annotations

from enum import IntEnum


class RetCode(IntEnum):
    """Bybit V5 retCodes that the paper exchange produces and the engine reacts to."""

    PARAMS = 10001
    ORDER_NOT_EXIST = 110001
    INSUFFICIENT_BALANCE = 110007
    ORDER_FINISHED = 110008
    QTY_TRUNCATED_TO_ZERO = 110017
    POSITION_EXISTS_MODE = 110024
    MODE_NOT_MODIFIED = 110025
    MARGIN_MODE_NOT_MODIFIED = 110026
    ORDERS_EXIST_MODE = 110028
    LEVERAGE_NOT_MODIFIED = 110043
    MARGIN_INSUFFICIENT = 110044
    DUPLICATE_LINK_ID = 110072
    BELOW_MIN_NOTIONAL = 110094
    TPSL_NOT_MODIFIED = 34040
    MARGIN_MODE_FAILED = 3400045


class ExchangeError(Exception):
    """Base of every error the exchange layer raises."""


class ExchangeUnavailable(ExchangeError):
    """The venue could not be reached or asked us to slow down; the request may be retried."""


class OrderRejected(ExchangeError):
    """The venue refused a request with a business error; retrying the same request is pointless."""

    def __init__(self, ret_code: int, ret_msg: str) -> None:
        super().__init__(f"retCode {ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg


class WireFormatError(ExchangeError):
    """A message from the venue is missing a field or has a malformed one; ``field`` names it.

    ``field`` is a path into the message as the venue spells it, e.g. ``data.b[3][0]``.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"field '{field}': {detail}")
        self.field = field
        self.detail = detail
