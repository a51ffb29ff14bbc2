"""Fuzzing the two doors an attacker tried first: account linking and the action server.

Linking (docs/security.md, "Account linking"): a victim on REST consented, said
"WhatsApp" and holds a live link code. Each example is a brand-new chat from a brand-new
source address (any of 127.0.0.0/8 reaches the stack, and Rasa sees each as its own
peer), in one of a few situations (brand new; at the consent question; right after
"link my accounts"), sending code-shaped text: wrong codes (the real one with one symbol
changed, any symbols of the alphabet, typed with lookalikes, spaces and punctuation),
said to be a code or typed alone, and the real code where a code does not make sense
(alone in a chat that did not ask to link). Invariant: the chat never joins the
victim's person. A positive control first links a chat with the right code and sees the
join in the store, so a query that cannot see joins cannot pass.

The action server: any method, path, headers (no secret, a wrong or almost-right one),
content type and encoding and any body, including a well-formed call of
"what do you know about me" for the victim, is refused with 401/403 (404/405 for routes
that do not exist) and never answers with the victim's data; `GET /health` stays open.
With the right secret, malformed calls get a 4xx that echoes nothing.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.domain.linking import ALPHABET
from tests.fuzz import strategies as fs
from tests.fuzz.support import Fuzz, fuzz_settings

CONSENT = "may I ask you a couple of quick questions"
SECRET_HEADER = "X-Rapport-Action-Secret"
CODE_MINUTES = 8
"""A victim's code is renewed after this long (codes live 10 minutes)."""

_addresses = itertools.count(1)


def fresh_source() -> str:
    """A loopback address no request of this run came from yet (127.1.0.1, 127.1.0.2, ...)."""
    n = next(_addresses)
    return f"127.{1 + n // 65025}.{(n // 255) % 255}.{1 + n % 255}"


def post_from(source: str, url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    """POST JSON `body` to `url` from the local address `source`."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=60, source_address=(source, 0)
    )
    try:
        raw = json.dumps(body).encode()
        connection.request("POST", parts.path, raw, {"Content-Type": "application/json", **headers})
        reply = connection.getresponse()
        status, payload = reply.status, reply.read()
    finally:
        connection.close()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode("utf-8", "replace")


def canonical(code: str) -> str:
    """A typed code as the service reads it (an independent statement of Crockford's rules)."""
    kept = "".join(ch for ch in code.upper() if ch not in " -.!")
    return kept.replace("O", "0").replace("I", "1").replace("L", "1")


@dataclass
class Victim:
    sender: str
    code: str
    issued_at: float


class Linking:
    """The victim, its code (renewed before it expires) and chats from fresh addresses."""

    def __init__(self, fuzz: Fuzz) -> None:
        self.fuzz = fuzz
        self.victim = Victim(f"fz-victim-{uuid.uuid4().hex[:8]}", "", 0.0)
        assert CONSENT in " ".join(self.texts(self.victim.sender, "hi"))
        self.texts(self.victim.sender, "yes")
        self.texts(self.victim.sender, "whatsapp please")
        self.renew()

    def texts(self, sender: str, text: str, *, source: str = "127.0.0.1") -> list[str]:
        stack = self.fuzz.stack
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        body = {"sender": sender, "message": text}
        status, replies = post_from(source, url, body, stack.rest_headers())
        assert status == 200, (status, replies)
        return [str(r.get("text", "")) for r in replies]

    def renew(self) -> None:
        issued = self.texts(self.victim.sender, "link my accounts")
        line = next(t for t in issued if "one-time code" in t)
        self.victim.code = line.split("code: ")[1][:9]
        self.victim.issued_at = time.monotonic()

    def code(self) -> str:
        if time.monotonic() - self.victim.issued_at > CODE_MINUTES * 60:
            self.renew()
        return self.victim.code

    def joined(self, sender: str) -> bool:
        mine = self.fuzz.store.person_of("rest", sender)
        return mine is not None and mine == self.fuzz.store.person_of("rest", self.victim.sender)


@pytest.fixture(scope="module")
def linking(fuzz: Fuzz) -> Linking:
    return Linking(fuzz)


symbols = st.sampled_from(ALPHABET + "OILoil")
any_code = st.text(symbols, min_size=8, max_size=8)
separators = st.sampled_from(["", "-", " ", "- ", "  "])
decorations = st.tuples(
    st.sampled_from(["", " ", "\t", "\u00a0"]), st.sampled_from(["", ".", "!", " ", "?"])
)


def typed(code: str, separator: str, lower: bool) -> str:
    text = f"{code[:4]}{separator}{code[4:]}"
    return text.lower() if lower else text


DIGITS = st.sampled_from("0123456789")
LETTERS = st.sampled_from([ch for ch in ALPHABET if ch.isalpha()] + list("OILoil"))
shaped_group = st.tuples(DIGITS, LETTERS, symbols, symbols).flatmap(
    lambda chars: st.permutations(chars).map("".join)
)
shaped_code = st.tuples(shaped_group, shaped_group).map("".join)
"""Codes the service reads as codes (each group has a digit and a letter), mostly wrong."""


@st.composite
def wrong_codes(draw: st.DrawFn, real: str) -> str:
    """A code-shaped text that is not `real`: one symbol changed, or a fresh code."""
    how = draw(st.sampled_from(["one symbol", "shaped", "any"]))
    if how == "one symbol":
        at = draw(st.integers(0, 7))
        other = draw(symbols.filter(lambda ch: canonical(ch) != canonical(real[at])))
        code = real[:at] + other + real[at + 1 :]
    else:
        code = draw(shaped_code if how == "shaped" else any_code)
    assume(canonical(code) != canonical(real))
    return typed(code, draw(separators), draw(st.booleans()))


SAID = ["link {}", "Link {}", "my code is {}", "the code is {}", "code: {}", "please link {}"]
SITUATIONS = ["new", "consent question", "asked to link"]


def enter(linking: Linking, situation: str, sender: str, source: str) -> None:
    if situation == "consent question":
        assert CONSENT in " ".join(linking.texts(sender, "hi", source=source))
    elif situation == "asked to link":
        issued = linking.texts(sender, "link my accounts", source=source)
        assert any("one-time code" in t for t in issued), issued


def test_the_right_code_said_to_be_one_links_a_fresh_chat(linking: Linking) -> None:
    """Positive control: a join is visible to `joined`, and the victim gets a new code."""
    chat = f"fz-own-{uuid.uuid4().hex[:8]}"
    replies = linking.texts(chat, f"link {linking.code()}", source=fresh_source())
    assert replies[0].startswith("Done: your accounts are linked"), replies
    assert linking.joined(chat)
    linking.renew()  # that code is used up


def test_no_guess_and_no_misplaced_code_ever_joins_the_victim(linking: Linking) -> None:
    real = linking.code()

    @fuzz_settings()
    @given(
        situation=st.sampled_from(SITUATIONS),
        form=st.one_of(
            st.tuples(st.just("wrong"), st.sampled_from([*SAID, "{}"])),
            st.tuples(st.just("real alone"), st.just("{}")),
        ),
        wrong=wrong_codes(real),
        separator=separators,
        lower=st.booleans(),
        decoration=decorations,
    )
    @example(
        situation="new",
        form=("real alone", "{}"),
        wrong="ZZ9Z-9ZZ9",
        separator="-",
        lower=False,
        decoration=("", ""),
    )
    @example(
        situation="asked to link",
        form=("wrong", "{}"),
        wrong=real[:7] + ("Z" if real[7] != "Z" else "Y"),
        separator="-",
        lower=False,
        decoration=("", "."),
    )
    def attempt(
        situation: str,
        form: tuple[str, str],
        wrong: str,
        separator: str,
        lower: bool,
        decoration: tuple[str, str],
    ) -> None:
        kind, wording = form
        if kind == "real alone" and situation == "asked to link":
            situation = "consent question"  # typed alone after asking, the real code links
        code = typed(linking.code(), separator, lower) if kind == "real alone" else wrong
        text = decoration[0] + wording.format(code) + decoration[1]
        chat, source = f"fz-guess-{uuid.uuid4().hex[:10]}", fresh_source()
        enter(linking, situation, chat, source)
        replies = linking.texts(chat, text, source=source)
        linking.fuzz.record(f"{kind}: {(replies or ['(nothing)'])[0][:24]}")
        assert not linking.joined(chat), (situation, text, replies)
        assert not any(r.startswith("Done: your accounts are linked") for r in replies), replies

    attempt()
    assert linking.joined(linking.victim.sender) is True  # the victim is still itself


# --- the action server ----------------------------------------------------------------------


def made_up_call(sender: str) -> dict[str, Any]:
    tracker = {
        "sender_id": sender,
        "slots": {},
        "latest_message": {"text": "what do you know about me?", "intent": {"name": "x"}},
        "events": [{"event": "user", "text": "what do you know?", "input_channel": "rest"}],
        "latest_input_channel": "rest",
    }
    return {
        "next_action": "action_what_we_know",
        "sender_id": sender,
        "tracker": tracker,
        "domain": {},
        "version": "3.6.2",
    }


def near_misses(secret: str) -> st.SearchStrategy[str]:
    """Secrets that are almost right: cut, extended, one character changed, case, spaces."""
    at = st.integers(0, len(secret) - 1)
    return st.one_of(
        st.integers(0, len(secret) - 1).map(lambda n: secret[:n]),
        st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=3).map(
            lambda extra: secret + extra
        ),
        st.tuples(at, st.characters(min_codepoint=33, max_codepoint=126)).map(
            lambda p: secret[: p[0]] + p[1] + secret[p[0] + 1 :]
        ),
        st.just(secret.upper()),
        st.just(f" {secret} "),
        st.just(f"Bearer {secret}"),
    ).filter(lambda s: s != secret)


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=64)
encodings = st.sampled_from([None, "identity", "deflate", "gzip", "br", "DEFLATE", "x"])
content_types = st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"])
paths = st.sampled_from(["/webhook", "/webhook/", "/actions", "/health", "/", "/x", "/webhook?x"])
methods = st.sampled_from(["POST", "GET", "PUT", "DELETE", "OPTIONS", "HEAD"])


def call_actions(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body, headers)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def test_the_action_server_refuses_whoever_lacks_the_secret(fuzz: Fuzz, linking: Linking) -> None:
    stack = fuzz.stack
    secret = stack.action_secret
    victim = linking.victim.sender
    call = json.dumps(made_up_call(f"rest:{victim}")).encode()
    right = {SECRET_HEADER: secret, "Content-Type": "application/json"}
    status, answer = call_actions(stack.actions_url, "POST", "/webhook", right, call)
    assert status == 200 and b"WhatsApp" in answer, (status, answer[:200])  # positive control

    bodies = st.one_of(
        st.just(call),
        st.just(zlib.compress(call)),
        st.binary(max_size=512),
        fs.json_values.map(fs.dumps),
    )

    @fuzz_settings()
    @given(
        given_secret=st.one_of(st.none(), near_misses(secret), header_text),
        header_name=st.sampled_from([SECRET_HEADER, SECRET_HEADER.lower(), "X-Rapport-Secret"]),
        method=methods,
        path=paths,
        content_type=content_types,
        encoding=encodings,
        body=bodies,
    )
    @example(
        given_secret=None,
        header_name=SECRET_HEADER,
        method="POST",
        path="/webhook",
        content_type="text/plain",
        encoding=None,
        body=call,
    )
    @example(
        given_secret=secret[:-1],
        header_name=SECRET_HEADER,
        method="POST",
        path="/webhook",
        content_type="application/json",
        encoding="deflate",
        body=zlib.compress(call),
    )
    def refused(
        given_secret: str | None,
        header_name: str,
        method: str,
        path: str,
        content_type: str,
        encoding: str | None,
        body: bytes,
    ) -> None:
        assume(given_secret != secret)
        headers = {"Content-Type": content_type}
        if given_secret is not None:
            headers[header_name] = given_secret
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        sent = None if method in ("GET", "HEAD") else body
        status, answer = call_actions(stack.actions_url, method, path, headers, sent)
        fuzz.record(f"{method} {path} {status}")
        assert b"WhatsApp" not in answer, (status, answer[:200])
        if path == "/health" and method == "GET":
            assert status == 200, status
        elif path == "/health" and method == "HEAD":
            assert status in (200, 405), status
        else:
            assert status in (401, 403, 404, 405), (method, path, status, answer[:200])

    refused()


def test_the_action_server_answers_malformed_calls_with_the_secret_quietly(
    fuzz: Fuzz, linking: Linking
) -> None:
    stack = fuzz.stack
    headers = {SECRET_HEADER: stack.action_secret, "Content-Type": "application/json"}
    canary = "fz-canary-" + uuid.uuid4().hex[:8]
    call = made_up_call(f"rest:{linking.victim.sender}")

    @fuzz_settings()
    @given(
        body=st.one_of(
            st.binary(max_size=512),
            fs.json_values.map(fs.dumps),
            st.fixed_dictionaries({}, optional={k: fs.json_values for k in call}).map(fs.dumps),
            st.sampled_from(list(call)).map(
                lambda key: fs.dumps({k: v for k, v in call.items() if k != key})
            ),
        ),
        deflate=st.booleans(),
    )
    @example(body=b"[]", deflate=False)
    @example(body=fs.dumps({"next_action": canary}), deflate=False)
    @example(body=fs.dumps({**call, "tracker": canary}), deflate=True)
    def malformed(body: bytes, deflate: bool) -> None:
        sent = zlib.compress(body) if deflate else body
        extra = {"Content-Encoding": "deflate"} if deflate else {}
        status, answer = call_actions(
            stack.actions_url, "POST", "/webhook", {**headers, **extra}, sent
        )
        fuzz.record(f"status {status}")
        assert status in (200, 400, 404, 413), (status, answer[:200])
        assert canary.encode() not in answer, answer[:200]
        if status == 200:  # only a call Rasa could have sent gets an answer
            sent_call = json.loads(body)
            assert isinstance(sent_call.get("tracker"), dict), body[:200]

    malformed()
