"""The SSRF guard's address rules."""

from __future__ import annotations

import pytest

from chatserver.integrations import netguard


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://10.1.2.3/", "http://192.168.0.1:8080/x", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/",
    "http://224.0.0.1/", "http://0.0.0.0/", "http://100.64.0.1/", "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
])
def test_internal_addresses_are_refused(url, settings):
    settings.CHAT = {**settings.CHAT, "WEBHOOK_ALLOW_NETS": []}
    with pytest.raises(netguard.Refused):
        netguard.resolve(url)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///nohost", "http://u:p@8.8.8.8/",
                                 "javascript:alert(1)", "http://8.8.8.8:99999/"])
def test_bad_shapes_are_refused(url):
    with pytest.raises(netguard.Refused):
        netguard.check_url_shape(url)


def test_public_address_is_pinned_and_allow_list_opens_a_net(settings):
    settings.CHAT = {**settings.CHAT, "WEBHOOK_ALLOW_NETS": ["10.0.0.0/8"]}
    target = netguard.resolve("https://8.8.8.8:8443/hook?a=1")
    assert target.url == "https://8.8.8.8:8443/hook?a=1" and target.host == "8.8.8.8"
    assert netguard.resolve("http://10.9.8.7/").host == "10.9.8.7"
    with pytest.raises(netguard.Refused):
        netguard.resolve("http://192.168.1.1/")
