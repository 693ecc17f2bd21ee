"""Alertmanager and Grafana webhook bodies -> alert events.

An alert event names the alert object it belongs to (its fingerprint), its
state and the lines that describe it. Alertmanager notifies per *group*, so
one group (its groupKey) is one alert object whose message lists the group's
alerts compactly. Grafana's unified alerting is keyed per alert on its rule
uid (falling back to the alert fingerprint); legacy Grafana on its rule id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from chatserver.chat.errors import InvalidInput

FIRING, RESOLVED = "firing", "resolved"


@dataclass
class AlertItem:
    status: str
    name: str
    summary: str
    link: str = ""


@dataclass
class AlertEvent:
    fingerprint: str
    source: str
    title: str
    state: str
    items: list[AlertItem] = field(default_factory=list)
    link: str = ""


def _key(prefix: str, raw: str) -> str:
    if len(raw) <= 120 and raw.isprintable():
        return f"{prefix}:{raw}"
    return f"{prefix}:sha256:{hashlib.sha256(raw.encode()).hexdigest()}"


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _state(value: object, where: str) -> str:
    if value in (FIRING, RESOLVED):
        return str(value)
    raise InvalidInput(f"{where} must be firing or resolved.", fields={where: "invalid"})


def _alerts(payload: dict[str, Any]) -> list[dict[str, Any]]:
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise InvalidInput("alerts must be a non-empty list.", fields={"alerts": "required"})
    for i, a in enumerate(alerts):
        if not isinstance(a, dict):
            raise InvalidInput(f"alerts[{i}] must be an object.", fields={"alerts": "invalid"})
        _state(a.get("status"), f"alerts[{i}].status")
    return alerts


def _item(alert: dict[str, Any], common: dict[str, Any]) -> AlertItem:
    labels = _dict(alert.get("labels"))
    annotations = _dict(alert.get("annotations"))
    own = {k: v for k, v in labels.items()
           if k not in common and not k.startswith("__") and isinstance(v, str)}
    name = " ".join(f"{k}={v}" for k, v in sorted(own.items())) or _s(labels.get("alertname"))
    summary = _s(annotations.get("summary")) or _s(annotations.get("description")) \
        or _s(alert.get("valueString"))
    return AlertItem(status=str(alert["status"]), name=name[:200],
                     summary=summary.splitlines()[0][:300] if summary else "",
                     link=_s(alert.get("generatorURL")))


def alertmanager(payload: dict[str, Any]) -> list[AlertEvent]:
    alerts = _alerts(payload)
    state = _state(payload.get("status"), "status")
    common = _dict(payload.get("commonLabels"))
    group = _dict(payload.get("groupLabels"))
    key = _s(payload.get("groupKey")) or _s(alerts[0].get("fingerprint"))
    if not key:
        raise InvalidInput("The payload needs a groupKey or alert fingerprints.",
                           fields={"groupKey": "required"})
    title = _s(common.get("alertname")) or _s(group.get("alertname")) or ", ".join(
        f"{k}={v}" for k, v in sorted(group.items())) or "alert"
    summary = _s(_dict(payload.get("commonAnnotations")).get("summary"))
    items = [_item(a, common) for a in alerts]
    if summary and all(i.summary == summary for i in items):
        for i in items:
            i.summary = ""
        title = f"{title}: {summary}"
    return [AlertEvent(fingerprint=_key("am", key), source="alertmanager", title=title[:300],
                       state=state, items=items, link=_s(payload.get("externalURL")))]


def grafana(payload: dict[str, Any]) -> list[AlertEvent]:
    if "alerts" in payload:
        events = []
        for alert in _alerts(payload):
            labels = _dict(alert.get("labels"))
            uid = (_s(labels.get("__alert_rule_uid__")) or _s(alert.get("ruleUID"))
                   or _s(alert.get("fingerprint")))
            if not uid:
                raise InvalidInput("Each alert needs a rule uid or a fingerprint.",
                                   fields={"alerts": "fingerprint required"})
            title = _s(labels.get("alertname")) or _s(payload.get("title")) or "Grafana alert"
            link = _s(alert.get("panelURL")) or _s(alert.get("dashboardURL")) \
                or _s(alert.get("generatorURL"))
            events.append(AlertEvent(
                fingerprint=_key("grafana", uid), source="grafana", title=title[:300],
                state=str(alert["status"]), items=[_item(alert, {"alertname": 1})], link=link))
        return events
    # Legacy Grafana alerting: one rule per call, state alerting|ok|no_data|pending|paused.
    rule = payload.get("ruleUid") or payload.get("ruleId")
    state_name = payload.get("state")
    if rule is None or not isinstance(state_name, str):
        raise InvalidInput("A Grafana payload needs alerts, or ruleId and state.",
                           fields={"alerts": "required"})
    if state_name in ("pending", "paused"):
        return []
    state = RESOLVED if state_name == "ok" else FIRING
    title = _s(payload.get("ruleName")) or _s(payload.get("title")) or "Grafana alert"
    matches = payload.get("evalMatches")
    items = [AlertItem(status=state, name=_s(m.get("metric")), summary=str(m.get("value", "")))
             for m in (matches if isinstance(matches, list) else [])[:20] if isinstance(m, dict)]
    message = _s(payload.get("message"))
    if message:
        items.insert(0, AlertItem(status=state, name="", summary=message.splitlines()[0]))
    return [AlertEvent(fingerprint=_key("grafana", str(rule)), source="grafana",
                       title=title[:300], state=state, items=items,
                       link=_s(payload.get("ruleUrl")))]
