"""A thin, typed client for the parts of the Vibes Platform API that prefcenter uses.

One method per Vibes operation; each returns Vibes' JSON (unknown fields are kept but never
relied on) or raises an exception from ``vibes_integration.errors``. The client never
retries: callers (the sync tasks) decide, using ``errors.Retryable``. Answers are read
into their one shape by ``vibes_integration.answers``.

Every request carries Basic auth, ``Content-Type: application/json``, ``X-API-Version: 2``
and a (connect, read) timeout, goes through ONE ``requests.Session`` per process (so
connections are reused: ``vibes_integration.session``), and calls ``throttle()`` first so
that all workers together stay under the per-company rate limit.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from prefcenter.conf import setting
from vibes_integration.answers import (
    AddPersonResult,
    JSONDict,
    ParticipantResult,
    array_of,
    json_of,
    lenient_object,
    object_of,
    refusal,
)
from vibes_integration.callback_config import CallbackConfigCalls, segment
from vibes_integration.errors import NotFound, TransientError, mask_mdns_in
from vibes_integration.session import DEFAULT_POOL_SIZE, get_session

logger = logging.getLogger(__name__)

API_VERSION = "2"


def _query(params: Mapping[str, object]) -> str:
    """A query string with every reserved character encoded, so ``+`` travels as ``%2B``."""
    pairs = [
        f"{quote(str(key), safe='')}={quote(str(value), safe='')}"
        for key, value in params.items()
        if value is not None
    ]
    return "&".join(pairs)


class VibesClient(CallbackConfigCalls):
    """Calls Vibes for one company. Cheap to build; share the process-wide session.

    ``from_settings`` is the one way the product builds a client; tests build one directly.
    """

    def __init__(
        self,
        *,
        base_url: str,
        company_key: str,
        username: str,
        password: str,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        throttle: Callable[[], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.company_key = company_key
        self.auth = (username, password)
        # Unset timeouts are VIBES_CONNECT_TIMEOUT and VIBES_READ_TIMEOUT, read now.
        connect_timeout = connect_timeout or setting("VIBES_CONNECT_TIMEOUT")
        self.timeout = (
            float(connect_timeout),
            float(read_timeout or setting("VIBES_READ_TIMEOUT")),
        )
        self.throttle = throttle
        self._session = session

    @classmethod
    def from_settings(
        cls,
        *,
        throttle: Callable[[], None] | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> VibesClient:
        """A client configured from the ``VIBES_*`` settings, read now (not at import), on
        the process-wide session for ``pool_size`` threads (``get_session``)."""
        return cls(
            base_url=setting("VIBES_API_URL"),
            company_key=setting("VIBES_COMPANY_KEY"),
            username=setting("VIBES_USERNAME"),
            password=setting("VIBES_PASSWORD"),
            connect_timeout=setting("VIBES_CONNECT_TIMEOUT"),
            read_timeout=setting("VIBES_READ_TIMEOUT"),
            throttle=throttle,
            session=get_session(pool_size),
        )

    def for_company(self, company_key: str) -> VibesClient:
        """The same connection, credentials, timeouts and throttle, for another company key
        (a person Vibes holds under another company of the brand)."""
        if company_key == self.company_key:
            return self
        other = copy.copy(self)
        other.company_key = company_key
        return other

    @property
    def session(self) -> requests.Session:
        return self._session or get_session()

    # -- plumbing -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """Send one request; answer the response when it is 2xx, raise otherwise."""
        relative = f"/companies/{segment(self.company_key)}{path}"
        query = _query(params or {})
        if query:
            relative = f"{relative}?{query}"
        url = f"{self.base_url}{relative}"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-API-Version": API_VERSION,
        }
        if self.throttle is not None:
            self.throttle()
        started = time.monotonic()
        shown = mask_mdns_in(relative.replace("%2B", "+"))
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                auth=self.auth,
                json=json,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            logger.warning("Vibes %s %s timed out: %s", method, shown, exc.__class__.__name__)
            raise TransientError(
                f"timed out ({exc.__class__.__name__})", method=method, path=shown
            ) from exc
        except requests.RequestException as exc:
            logger.warning("Vibes %s %s failed: %s", method, shown, exc.__class__.__name__)
            raise TransientError(
                f"connection failed ({exc.__class__.__name__})", method=method, path=shown
            ) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "Vibes %s %s answered %s in %.0f ms", method, shown, response.status_code, elapsed_ms
        )
        if 200 <= response.status_code < 300:
            return response
        raise refusal(response, method=method, path=shown)

    # -- persons --------------------------------------------------------------------------

    def get_person(self, person_key: str) -> JSONDict:
        return object_of(self._request("GET", f"/mobiledb/persons/{segment(person_key)}"))

    def get_person_by_external_id(self, external_person_id: str) -> JSONDict:
        path = f"/mobiledb/persons/external/{segment(external_person_id)}"
        return object_of(self._request("GET", path))

    def find_person_by_mdn(self, mdn: str) -> JSONDict | None:
        """The person holding ``mdn`` (E.164), or None when Vibes has no such person."""
        try:
            response = self._request("GET", "/mobiledb/persons", params={"mdn": mdn})
        except NotFound:
            return None
        body = json_of(response)
        if isinstance(body, list):
            return body[0] if body else None
        return body or None

    def add_person(self, payload: Mapping[str, Any]) -> AddPersonResult:
        """Add Person: 201 created, or 200 merged into the existing person of that MDN.

        ``person`` is the answer's body when it is an object, else empty: Vibes may answer
        201 without a body, and the caller then reads the person to learn its key.
        """
        response = self._request("POST", "/mobiledb/persons/", json=dict(payload))
        return AddPersonResult(person=lenient_object(response), created=response.status_code == 201)

    def update_person(self, person_key: str, payload: Mapping[str, Any]) -> JSONDict:
        """Update Person by key. Any 2xx is success; the body answered (ours echoed, the
        stored person, or none: Vibes documents each) is returned as found and says
        nothing reliable about what Vibes holds."""
        path = f"/mobiledb/persons/{segment(person_key)}"
        return lenient_object(self._request("PUT", path, json=dict(payload)))

    def update_person_by_external_id(
        self, external_person_id: str, payload: Mapping[str, Any]
    ) -> JSONDict:
        """Update Person by external id (404 when Vibes does not know it; Vibes also
        documents this form as "add or update", so never call it with an external id
        Vibes may not hold). Answers as ``update_person``."""
        path = f"/mobiledb/persons/external/{segment(external_person_id)}"
        return lenient_object(self._request("PUT", path, json=dict(payload)))

    # -- subscriptions ----------------------------------------------------------------------

    def list_subscriptions(self, person_key: str, *, active_only: bool = False) -> list[JSONDict]:
        """Every subscription record of the person (history included unless ``active_only``)."""
        path = f"/mobiledb/persons/{segment(person_key)}/subscriptions"
        params = {"active_only": "true"} if active_only else None
        return array_of(self._request("GET", path, params=params))

    def list_subscriptions_by_external_id(
        self, external_person_id: str, *, active_only: bool = False
    ) -> list[JSONDict]:
        path = f"/mobiledb/persons/external/{segment(external_person_id)}/subscriptions"
        params = {"active_only": "true"} if active_only else None
        return array_of(self._request("GET", path, params=params))

    def unsubscribe(self, person_key: str, list_id: str) -> bool:
        """Unsubscribe; False when Vibes answered 404 (unknown or already not subscribed)."""
        path = f"/mobiledb/persons/{segment(person_key)}/subscriptions/{segment(list_id)}"
        return self._delete_subscription(path)

    def unsubscribe_by_external_id(self, external_person_id: str, list_id: str) -> bool:
        path = (
            f"/mobiledb/persons/external/{segment(external_person_id)}"
            f"/subscriptions/{segment(list_id)}"
        )
        return self._delete_subscription(path)

    def _delete_subscription(self, path: str) -> bool:
        try:
            self._request("DELETE", path)
        except NotFound:
            return False
        return True

    # -- subscription lists and acquisition campaigns ---------------------------------------

    def list_subscription_lists(self) -> list[JSONDict]:
        return array_of(self._request("GET", "/mobiledb/subscription_lists/"))

    def get_subscription_list(self, list_id: str) -> JSONDict:
        path = f"/mobiledb/subscription_lists/{segment(list_id)}"
        return object_of(self._request("GET", path))

    def list_acquisition_campaigns(self, list_id: str) -> list[JSONDict]:
        """The acquisition campaigns that opt people in to ``list_id``."""
        path = f"/mobiledb/subscription_lists/{segment(list_id)}/acquisition_campaigns/"
        return array_of(self._request("GET", path))

    def search_subscriber(self, list_id: str, *, mdn: str) -> JSONDict | None:
        """Search for subscriber: the person subscribed to ``list_id`` now with number
        ``mdn``, or None (Vibes answers 404 for unknown and for not subscribed alike)."""
        path = f"/mobiledb/subscription_lists/{segment(list_id)}/subscribers"
        try:
            return object_of(self._request("GET", path, params={"mdn": mdn}))
        except NotFound:
            return None

    def add_participant(
        self,
        acquisition_id: str,
        *,
        mdn: str,
        external_person_id: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> ParticipantResult:
        """Start a web double opt-in of ``mdn`` (E.164) into the campaign's list."""
        payload: JSONDict = {"mobile_phone": {"mdn": mdn}}
        if external_person_id is not None:
            payload["external_person_id"] = external_person_id
        if custom_fields:
            payload["custom_fields"] = dict(custom_fields)
        path = f"/campaigns/acquisition/{segment(acquisition_id)}/participants"
        response = self._request("POST", path, json=payload)
        raw = object_of(response)
        person = raw.get("person") if isinstance(raw.get("person"), dict) else {}
        return ParticipantResult(
            http_status=response.status_code,
            status=str(raw.get("status") or ""),
            person=person,
            person_key=person.get("person_key") or None,
            expire_date=raw.get("expire_date"),
            participation_date=raw.get("participation_date"),
            raw=raw,
        )
