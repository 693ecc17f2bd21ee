"""Message bodies render to sanitized HTML: no script, no event handlers, no javascript:."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .conftest import API

ALLOWED_TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody",
                "tr", "th", "td", "span"}


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name in {"href", "title", "rel", "class", "style", "start"}, html
            if name == "href":
                # Either a relative URL (no scheme) or one of the allowed schemes.
                scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", value or "")
                assert scheme is None or scheme.group(1).lower() in {
                    "http", "https", "mailto"}, html
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer nofollow", html


@pytest.fixture
def send(make_user, make_room, client_for):
    alice = make_user("alice")
    room = make_room(alice, "general")
    client = client_for(alice)

    def send(body: str) -> str:
        resp = client.post(f"{API}/rooms/{room.id}/messages", {"body": body}, format="json")
        assert resp.status_code == 201
        assert resp.json()["body"] == body  # the source is kept as written
        return resp.json()["html"]

    return send


EXACT = [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
    ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    ("[x](https://example.com)",
     '<p><a href="https://example.com" rel="noopener noreferrer nofollow">x</a></p>\n'),
    ("see https://example.com/a?b=1",
     '<p>see <a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">'
     "https://example.com/a?b=1</a></p>\n"),
    ("**bold** _it_ ~~gone~~ `code`",
     "<p><strong>bold</strong> <em>it</em> <s>gone</s> <code>code</code></p>\n"),
]


@pytest.mark.parametrize(("body", "html"), EXACT)
def test_exact_rendering(send, body, html):
    assert send(body) == html


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](https://example.com/x.png)",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "<style>body{display:none}</style>",
    "```html\n<script>alert(1)</script>\n```",
    "| a | b |\n|---|---|\n| <b onclick=x>1</b> | [y](javascript:z) |",
    "<<script>script>alert(1)<</script>/script>",
    "[x](&#106;avascript:alert(1))",
    "[x](\\javascript:alert(1))",
    "<details open ontoggle=alert(1)>",
    "> <img src=x onerror=alert(1)>",
    "@alice <span onclick=alert(1)>hi</span>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_markdown_renders_safe(send, body):
    html = send(body)
    assert_safe(html)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<iframe" not in html.lower()


def test_code_block_keeps_its_language_class_only(send):
    html = send("```python\nprint('hi')\n```")
    assert html == ('<pre><code class="language-python">print(\'hi\')\n</code></pre>\n')


def test_edits_go_through_the_same_sanitizer(make_user, make_room, client_for):
    alice = make_user("alice")
    room = make_room(alice, "general")
    c = client_for(alice)
    msg = c.post(f"{API}/rooms/{room.id}/messages", {"body": "plain"}, format="json").json()
    resp = c.patch(f"{API}/messages/{msg['id']}",
                   {"body": "[a](https://x.example) <img src=x onerror=alert(1)>"},
                   format="json")
    assert resp.status_code == 200
    html = resp.json()["html"]
    assert_safe(html)
    assert html == ('<p><a href="https://x.example" rel="noopener noreferrer nofollow">a</a> '
                    "&lt;img src=x onerror=alert(1)&gt;</p>\n")


def test_client_cannot_supply_html(send, make_user, make_room, client_for):
    bob = make_user("bob")
    room = make_room(bob, "r")
    resp = client_for(bob).post(f"{API}/rooms/{room.id}/messages",
                                {"body": "hi", "html": "<script>alert(1)</script>"},
                                format="json")
    assert resp.status_code == 201
    assert resp.json()["html"] == "<p>hi</p>\n"
