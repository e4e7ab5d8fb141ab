"""The per-company rate limit: a sliding one-second window, 100 requests by default."""

from __future__ import annotations

import time

from vibes_integration.sandbox.ratelimit import SlidingWindowLimiter


def _paced(client, rate: int, count: int) -> list[int]:
    """Send ``count`` requests paced like a careful client at ``rate`` per second.

    Request i waits for its slot (i / rate) AND until a second has passed since request
    i - rate, so that a stall followed by catching up never puts more than ``rate``
    requests in any second of the client's own clock.
    """
    statuses = []
    sent: list[float] = []
    start = time.monotonic()
    for index in range(count):
        due = start + index / rate
        if index >= rate:
            due = max(due, sent[index - rate] + 1.0)
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent.append(time.monotonic())
        response = client.session.get(
            f"{client.base_url}/companies/demo/mobiledb/subscription_lists/1001",
            auth=client.auth,
            headers={"X-API-Version": "2"},
            timeout=5,
        )
        statuses.append(response.status_code)
    return statuses


def test_a_client_at_100_per_second_is_never_refused(vibes_sandbox):
    client = vibes_sandbox.client()

    statuses = _paced(client, rate=100, count=150)

    assert set(statuses) == {200}


def test_a_client_at_110_per_second_is_refused_with_429(vibes_sandbox):
    client = vibes_sandbox.client()

    statuses = _paced(client, rate=110, count=150)

    assert 429 in statuses
    assert statuses[:100] == [200] * 100
    calls = vibes_sandbox.control.calls()
    refused = [call for call in calls if call["status"] == 429]
    assert refused[0]["response"] == {
        "errors": [
            {
                "message": "Too many requests: the rate limit for this company was exceeded.",
                "code": 429,
            }
        ]
    }


def test_the_limit_comes_from_the_config_and_the_knob(vibes_sandbox):
    config = vibes_sandbox.control.config()
    config["rate_limit"] = 3
    vibes_sandbox.control.seed(config)
    client = vibes_sandbox.client()

    burst = [
        client.session.get(
            f"{client.base_url}/companies/demo/mobiledb/subscription_lists/",
            auth=client.auth,
            timeout=5,
        ).status_code
        for _ in range(5)
    ]
    vibes_sandbox.control.set_faults(rate_limit=None)
    unlimited = [client.list_subscription_lists() for _ in range(20)]

    assert burst == [200, 200, 200, 429, 429]
    assert len(unlimited) == 20


def test_window_slides_and_refused_requests_do_not_count():
    limiter = SlidingWindowLimiter(window=0.25)

    assert [limiter.allow("demo", 2) for _ in range(4)] == [True, True, False, False]
    assert limiter.allow("other", 2) is True
    time.sleep(0.25)
    assert limiter.allow("demo", 2) is True
