"""Delivery of events to endpoints (dispatch, sign, send, retry)."""


def dispatch_company(*, company_id: int) -> None:
    raise NotImplementedError("events.delivery is being written")
