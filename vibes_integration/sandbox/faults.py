"""Fault knobs: how far the sandbox strays from a well-behaved Vibes, for tests and benchmarks.

Callback delivery:
  duplicate_rate     0..1, chance that a delivered event is delivered again (same event_id,
                     next delivery_attempt)
  shuffle            true: each event waits a random 0..shuffle_window_ms before its first
                     attempt, so events arrive out of order
  shuffle_window_ms  see shuffle (default 200)
  delay_ms           fixed wait before each event's first attempt
  failure_rate       0..1, chance that an attempt is lost before it reaches the receiver
                     (logged with status null, retried like a timeout)
  mdn_format         "e164" or "national": MDN spelling in callback bodies for every
                     registration (default: per registration, by its API version)
  date_format        "z", "offset", "minutes" or "mixed": timestamp spelling in callbacks
  max_attempts, backoff_ms, backoff_factor, delivery_timeout_ms: retry schedule
API:
  rate_limit         requests per second per company (null: no limit)
  api_delay_ms       wait before answering each API call (to provoke read timeouts)
  api_failure_rate   0..1, chance that an API call answers 500
  extra_fields       true: every JSON object answered gains fields Vibes might add one day
                     (clients must ignore unknown fields)
  fail_next          list of statuses the next API calls answer, one per call
                     (e.g. [503, 503]); consumed in order
  seed               seeds the random choices so a run can be repeated
"""

from __future__ import annotations

from typing import Any

_RATES = ("duplicate_rate", "failure_rate", "api_failure_rate")
_CHOICES = {
    "mdn_format": (None, "e164", "national"),
    "date_format": ("z", "offset", "minutes", "mixed"),
}


# Knobs that no longer exist, and what took their place.
_REPLACED = {
    "person_id_field": (
        "person_id_field is gone: in Vibes' callbacks `id` is always the numeric person_id; "
        "choose the person's shape with the contract's callback_person (current or legacy)"
    ),
}


class FaultError(ValueError):
    pass


class Faults:
    """The current knob values; ``update`` validates every knob before changing any."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.values: dict[str, Any] = {}
        self.reset(config)

    def reset(self, config: dict[str, Any]) -> None:
        delivery = config["delivery"]
        self.values = {
            "duplicate_rate": 0.0,
            "shuffle": False,
            "shuffle_window_ms": 200,
            "delay_ms": 0,
            "failure_rate": 0.0,
            "mdn_format": None,
            "date_format": "z",
            "max_attempts": int(delivery["max_attempts"]),
            "backoff_ms": float(delivery["backoff_seconds"]) * 1000,
            "backoff_factor": float(delivery["backoff_factor"]),
            "delivery_timeout_ms": float(delivery["timeout_seconds"]) * 1000,
            "rate_limit": config.get("rate_limit"),
            "api_delay_ms": 0,
            "api_failure_rate": 0.0,
            "fail_next": [],
            "extra_fields": False,
            "seed": None,
        }

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values, fail_next=list(self.values["fail_next"]))

    def update(self, knobs: dict[str, Any]) -> dict[str, Any]:
        cleaned = {name: self._clean(name, value) for name, value in knobs.items()}
        self.values.update(cleaned)
        return self.as_dict()

    def take_forced_status(self) -> int | None:
        """The next status from ``fail_next``, consumed."""
        queue = self.values["fail_next"]
        return queue.pop(0) if queue else None

    def _clean(self, name: str, value: Any) -> Any:
        if name in _REPLACED:
            raise FaultError(_REPLACED[name])
        if name not in self.values:
            raise FaultError(f"unknown fault knob {name!r}; known: {sorted(self.values)}")
        if name in _RATES:
            return _number(name, value, low=0.0, high=1.0)
        if name in _CHOICES:
            if value not in _CHOICES[name]:
                raise FaultError(f"{name} must be one of {list(_CHOICES[name])}")
            return value
        if name in ("shuffle", "extra_fields"):
            if not isinstance(value, bool):
                raise FaultError(f"{name} must be true or false")
            return value
        if name == "rate_limit":
            return None if value is None else _number(name, value, low=1)
        if name == "max_attempts":
            return int(_number(name, value, low=1, high=50))
        if name == "fail_next":
            if not isinstance(value, list) or not all(
                isinstance(status, int) and 100 <= status <= 599 for status in value
            ):
                raise FaultError("fail_next must be a list of HTTP statuses, e.g. [503, 429]")
            return list(value)
        if name == "seed":
            return value
        return _number(name, value, low=0)


def _number(name: str, value: Any, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        raise FaultError(f"{name} must be between {low} and {high if high is not None else '∞'}")
    return value
