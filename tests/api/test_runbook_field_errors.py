"""A refused runbook action names the field at fault in error.fields (the admin page
shows each reason next to its field)."""

from __future__ import annotations

from chatserver.accounts.models import Role

from .conftest import error_of

API = "/api/v1/admin/bots/runbook-actions"
OK = {"name": "restart", "argv": ["/usr/bin/systemctl", "restart", "{service}"],
      "params": {"service": {"type": "choice", "choices": ["api", "web"]}}}


def test_each_reason_is_reported_on_its_own_field(make_user, client_for):
    c = client_for(make_user("sam", role=Role.ADMIN))
    cases = [
        ({"argv": ["{service}"]}, "argv"),
        ({"argv": []}, "argv"),
        ({"argv": ["/bin/echo", "{nope}"]}, "argv"),
        ({"params": {"x": {"type": "shell"}}, "argv": ["/bin/true"]}, "params"),
        ({"params": {"Bad": {"type": "str"}}, "argv": ["/bin/true"]}, "params"),
        ({"params": {"s": {"type": "choice", "choices": []}}, "argv": ["/bin/true"]}, "params"),
        ({"cwd": "relative/dir"}, "cwd"),
        ({"env": {"lower": "x"}}, "env"),
        ({"run_policy": ["root"]}, "run_policy"),
        ({"run_policy": []}, None),  # empty: the default (room:member), accepted
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 5000}, "timeout_seconds"),
    ]
    for i, (change, field) in enumerate(cases):
        r = c.post(API, {**OK, "name": f"a{i}", **change}, format="json")
        if field is None:
            assert r.status_code == 201, (change, r.content)
            continue
        assert r.status_code == 400, (change, r.content)
        fields = error_of(r)["fields"]
        assert list(fields) == [field], (change, fields)
