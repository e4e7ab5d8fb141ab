"""Property: every authenticated body is stored, answered 2xx, and settled by processing.

Hypothesis generates the bodies Vibes (or a broken proxy in front of it) could send:
random JSON with every character (NUL and lone surrogates included), callbacks of every
type with fields replaced by random values (numbers as ids among them), random bytes,
deep nesting, and strings around the size limit; posted with POST or PUT and either
content type through the real endpoint. Then one processing run must settle every event,
with no exception escaping it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from django.db.models import Sum
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.fixtures.callbacks import (
    CALLBACK_FIXTURES,
    CALLBACK_TASK_PATHS,
    callback_body,
    post_callback,
    process_callbacks,
)
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

EXAMPLES = 2_000
MAX_BODY_BYTES = 16 * 1024  # small, so that bodies over it are cheap to make
SETTLED = {
    CallbackStatus.PROCESSED,
    CallbackStatus.STALE,  # applied, and older than what was there: changed nothing
    CallbackStatus.IGNORED,
    CallbackStatus.INVALID,
    CallbackStatus.FAILED,
}
FIXTURES = sorted(path.stem for path in CALLBACK_FIXTURES.glob("*.json"))
_fresh = itertools.count(1)

any_character = st.characters(exclude_categories=())  # NUL and lone surrogates included
texts = st.text(any_character, max_size=20) | st.sampled_from(
    ["\udc00", "\ud800", "a\x00b", "\ud83d\ude00", "", " ", "+12015550142", "1001"]
)
numbers = (
    st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.sampled_from([0, -1, 2**31, 2**63, 1e308, 1.5])
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=10,
)


def _encode(value: Any, ensure_ascii: bool) -> bytes:
    # Without ensure_ascii a lone surrogate is written as the bytes UTF-8 forbids.
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


@st.composite
def random_json(draw) -> bytes:
    return _encode(draw(json_values), draw(st.booleans()))


@st.composite
def mutated_callbacks(draw) -> bytes:
    """A real callback of any type with some fields, at any depth, replaced."""
    body = callback_body(draw(st.sampled_from(FIXTURES)))
    body["event_id"] = draw(
        st.just(f"evt-fuzz-{next(_fresh)}") | json_values | numbers | texts,
    )
    for _ in range(draw(st.integers(0, 4))):
        target = body
        while True:
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict) and target[key] and draw(st.booleans()):
                target = target[key]
                continue
            target[key] = draw(json_values)
            break
    return _encode(body, draw(st.booleans()))


@st.composite
def deep_nesting(draw) -> bytes:
    depth = draw(st.integers(1, 100_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    closed = draw(st.booleans())
    return opener * depth + (b"0" + closer * depth if closed else b"")


@st.composite
def huge_strings(draw) -> bytes:
    size = draw(st.integers(MAX_BODY_BYTES - 200, 3 * MAX_BODY_BYTES))
    middle = draw(st.sampled_from(["", "\x00", "\udc00", "é", "\ud83d\ude00"]))
    filler = "x" * (size // 2) + middle + "x" * (size // 2)
    body = callback_body("person_added", event_id=f"evt-fuzz-{next(_fresh)}", note=filler)
    return _encode(body, draw(st.booleans()))


bodies = st.one_of(
    random_json(),
    mutated_callbacks(),
    mutated_callbacks(),
    st.binary(max_size=2_000),
    deep_nesting(),
    huge_strings(),
)


def _deliveries() -> int:
    return CallbackEvent.objects.aggregate(total=Sum("deliveries"))["total"] or 0


def test_any_authenticated_body_is_stored_answered_2xx_and_settled(client, settings):
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = MAX_BODY_BYTES
    answers: Counter[str] = Counter()

    @settings_for_the_fuzz
    @given(
        raw=bodies,
        method=st.sampled_from(["post", "put"]),
        content_type=st.sampled_from(["application/json", "text/json"]),
    )
    def post_one(raw: bytes, method: str, content_type: str) -> None:
        before = _deliveries()
        response = post_callback(client, raw, method=method, content_type=content_type)
        assert response.status_code == 200, response.content
        answers[response.json()["status"]] += 1
        assert _deliveries() == before + 1  # stored, or counted on the stored copy

    post_one()

    assert sum(answers.values()) >= EXAMPLES
    assert CallbackEvent.objects.count() == answers["stored"]
    process_callbacks()

    statuses = Counter(CallbackEvent.objects.values_list("status", flat=True))
    assert set(statuses) <= SETTLED, statuses
    # The generator reached what it is for: bodies of every kind and every outcome.
    assert statuses[CallbackStatus.PROCESSED] and statuses[CallbackStatus.INVALID], statuses
    assert CallbackEvent.objects.filter(truncated_from_bytes__isnull=False).exists()
    assert CallbackEvent.objects.filter(error__contains="nested too deeply").exists()
    unexplained = CallbackEvent.objects.filter(
        status__in=[CallbackStatus.INVALID, CallbackStatus.FAILED], error=""
    )
    assert not unexplained.exists()
    runs = DBTaskResult.objects.filter(task_path__in=CALLBACK_TASK_PATHS).exclude(status="READY")
    assert runs.exists()
    assert set(runs.values_list("status", flat=True)) == {"SUCCESSFUL"}


settings_for_the_fuzz = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
