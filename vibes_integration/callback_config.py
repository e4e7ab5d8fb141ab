"""The Vibes client's calls that manage callback registrations (``/config/callbacks/``).

Kept apart from ``client.py`` (one resource per module): ``VibesClient`` takes these
methods from ``CallbackConfigCalls``, which only needs the client's ``_request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from vibes_integration.answers import JSONDict, array_of, object_of


def segment(value: object) -> str:
    """A path segment, percent-encoded completely (``/`` and ``+`` included)."""
    return quote(str(value), safe="")


class CallbackConfigCalls:
    """Register, list, change and delete callback destinations; ask for a test event."""

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request (``VibesClient._request``)."""
        raise NotImplementedError

    @staticmethod
    def _callback_body(
        callback_type: str,
        *,
        url: str,
        method: str,
        content_type: str,
        list_id: str | None,
        campaign_id: str | None,
    ) -> JSONDict:
        body: JSONDict = {
            "callback_type": callback_type,
            "destination": {"url": url, "method": method, "content_type": content_type},
        }
        if list_id is not None:
            body[callback_type] = {"list_id": list_id}
        elif campaign_id is not None:
            body[callback_type] = {"campaign_id": campaign_id}
        return body

    def register_callback(
        self,
        callback_type: str,
        *,
        url: str,
        method: str = "POST",
        content_type: str = "application/json",
        list_id: str | None = None,
        campaign_id: str | None = None,
    ) -> JSONDict:
        """Register a destination for one callback type.

        Vibes requires ``list_id`` for subscription callbacks and ``campaign_id`` for
        acquisition callbacks (one registration per list or campaign); person and
        list-catalogue callbacks take neither (one registration per type).
        """
        body = self._callback_body(
            callback_type,
            url=url,
            method=method,
            content_type=content_type,
            list_id=list_id,
            campaign_id=campaign_id,
        )
        return object_of(self._request("POST", "/config/callbacks/", json=body))

    def list_callbacks(self) -> list[JSONDict]:
        return array_of(self._request("GET", "/config/callbacks/"))

    def update_callback(
        self,
        callback_id: str,
        *,
        callback_type: str,
        url: str,
        method: str = "POST",
        content_type: str = "application/json",
        list_id: str | None = None,
        campaign_id: str | None = None,
    ) -> JSONDict:
        body = self._callback_body(
            callback_type,
            url=url,
            method=method,
            content_type=content_type,
            list_id=list_id,
            campaign_id=campaign_id,
        )
        path = f"/config/callbacks/{segment(callback_id)}"
        return object_of(self._request("PUT", path, json=body))

    def delete_callback(self, callback_id: str) -> JSONDict:
        path = f"/config/callbacks/{segment(callback_id)}"
        return object_of(self._request("DELETE", path))

    def create_test_callback_event(
        self,
        callback_type: str,
        *,
        list_id: str | None = None,
        campaign_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Ask Vibes to send a test event of ``callback_type`` to its registered destination.

        ``payload`` adds type-specific fields (e.g. ``{"person": {...}}``) as documented
        for the test-event request. Answers ``{"message", "event_id"}``.
        """
        body: JSONDict = {"callback_type": callback_type}
        if list_id is not None:
            body[callback_type] = {"list_id": list_id}
        if campaign_id is not None:
            body["acquisition_campaign_changed"] = {"campaign_id": campaign_id}
        body.update(payload or {})
        return object_of(self._request("POST", "/config/callback_events/test", json=body))
