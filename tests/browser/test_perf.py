"""The web client stays fast with a big room: a 10,000-message room opens in well
under a second on a cold, signed-in page load, scrolling up through a couple of
thousand of its messages drops no long frame (> 200 ms), and the list stays
virtualized (the DOM does not grow with the history). Same measurements as
`make bench-web` (bench/web.py), with thresholds generous enough for a busy CI box."""

from __future__ import annotations

import pytest

from bench.web import bundle_sizes, measure_first_load, measure_scroll, seed_big_room

pytestmark = [pytest.mark.browser, pytest.mark.live]

MESSAGES = 10_000
SCROLL = 2000


def _smooth(scroll: dict) -> bool:
    # Without virtualization every frame of the scroll is long; allow a stray
    # GC or scheduler pause on a busy machine.
    return scroll["frames_over_200ms"] <= 2 and scroll["frame_ms_p95"] < 50


def test_big_room_opens_fast_and_scrolls_smoothly(live, browser, console):
    seed = seed_big_room(MESSAGES)

    # One load to warm the server process (imports, connections), then the best of
    # up to three measured ones: on a CI box shared with other jobs (or a VM whose
    # host takes 10-15% of its CPU) a single load or scroll can stall behind
    # someone else's CPU burst, which says nothing about the client.
    warm = measure_first_load(browser, live.url, seed, on_page=lambda p: console.watch(p, "warm"))
    warm.pop("page").context.close()
    for attempt in range(3):
        load = measure_first_load(browser, live.url, seed,
                                  on_page=lambda p, n=attempt: console.watch(p, f"reader{n}"))
        page = load.pop("page")
        try:
            slowest = max(load["room_list_ms"], load["interactive_ms"], load["newest_message_ms"])
            scroll = measure_scroll(page, seed, target=SCROLL, max_ms=90_000)
        finally:
            page.context.close()
        print(f"attempt {attempt}: first load: {load}; scroll: {scroll}")
        if slowest < 1000 and _smooth(scroll):
            break
    assert load["room_list_ms"] < 1000, load
    assert load["interactive_ms"] < 1000, load
    assert load["newest_message_ms"] < 1000, load
    assert scroll["scrolled_messages"] >= SCROLL, scroll
    assert _smooth(scroll), scroll
    # Virtualized: a few dozen rows in the DOM however far the list went.
    assert scroll["message_rows_max"] < 100, scroll
    assert scroll["dom_nodes_max"] < scroll["dom_nodes_before"] + 1500, scroll
    console.assert_clean()


def test_bundle_is_small_and_served_compressed(live):
    import httpx

    sizes = bundle_sizes()
    assert sizes["js"], "no built JavaScript in static/app/assets"
    assert sizes["js_gzip_bytes"] < 250 * 1024, sizes
    js = sizes["js"][0]["file"]
    r = httpx.get(f"{live.url}/static/app/assets/{js}", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == "gzip", r.headers
    assert "immutable" in r.headers.get("cache-control", ""), r.headers
