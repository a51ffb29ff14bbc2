"""Property-based fuzzing of the web chat's Socket.IO message path and of the
authentication of Rasa's HTTP API, against the running stack (`conftest.fuzz`).

Socket.IO (`/socket.io/`, long polling, python-socketio's client as in
tests/e2e/test_web_chat_sessions.py): `user_uttered`, `session_request`, `rapport_start`
and unknown event names (also the reserved `connect` and `disconnect`), with no, one or
several arguments: any JSON value, or objects with any, a near-miss or no `session_id`,
any `session_token` and `customer`, and any `message` (NUL, lone surrogates, bidi
controls, typed `/intent{...}` commands, up to ~100 KB). One healthy shopper, who was
just asked for consent, emits them all. Invariants:

- the shopper's socket is never disconnected, every handled event is acknowledged, and
  every `PROBE_EVERY` examples a plain "hi" on the shopper's session still gets the
  consent question (within `ACK_TIMEOUT`);
- packets over the 64 KiB limit are sent from a throwaway socket: the server closes that
  socket (by design) and nothing else;
- an event that does not carry the shopper's own, joined session id stores nothing
  (every table's row count unchanged) and gets the shopper no bot message;
- messages on the shopper's own session (commands, blank, non-text or oversized text)
  are answered by the guard only, so the consent ledger stays empty, and after the
  run a plain "yes" still grants consent;
- a `session_request` with any token other than a valid one gets a fresh session:
  never the presented id, never any session issued before; the shopper's own token
  then resumes their session;
- forged tokens in particular (bare ids, tampered, signed with another key, expired,
  from the future, signed over something that is not a session id) never resume any
  session, while a genuine token of another session does (the control).

Rasa's HTTP API: `GET /conversations/<sender>/tracker` and
`PUT /conversations/<sender>/tracker/events` of an existing conversation, with any
`Authorization` header (Latin-1 noise, `Bearer <noise>`, JWTs with any header and
payload, signed with the stack's key or others, alg none, HS384/512, expired, other
roles) and any `?token=`. Invariants: never a 5xx; a 200 only when the header carries an
HS256 token signed with the stack's secret whose `user.role` is admin (or, as Rasa
allows, `user` for the conversation's own sender), not expired; such canonical admin
tokens always get their 200; the tracker is unchanged after every refused PUT.

Both also rely on `conftest.invariants` (no NUL stored, no traceback or failed turn in
any log). `RAPPORT_FUZZ_EXAMPLES` sets the examples per property (`make fuzz`: 2000).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import string
import threading
import time
import urllib.parse
import uuid
from typing import Any, Callable

import jwt
import socketio
from hypothesis import example, given
from hypothesis import strategies as st

from bot.adapters.chat_sessions import TOKEN_MAX_AGE, SessionTokens, _Signer
from tests.fuzz import strategies as fs
from tests.fuzz.support import (
    SESSION_SECRET,
    Fuzz,
    fuzz_settings,
    shop_customer,
    shop_signature,
)
from tests.harness import http_json

CONSENT = "may I ask you a couple of quick questions"
REFUSED = "I can only read plain messages, not commands. Just tell me in your own words."
TOO_LONG = "That message is a bit long for me"
EMPTY = "I didn't receive any text. Could you type your message again?"
MAX_MESSAGE_CHARS = 2000
MAX_PACKET_BYTES = 64 * 1024
"""bot/channels/socketio.py: python-socketio refuses larger packets and closes the socket."""
PACKET_MARGIN = 512
"""Packets this close to the limit (either side) go through a throwaway socket too."""
ACK_TIMEOUT = 20.0
PROBE_EVERY = 25
HANDLED = ("user_uttered", "session_request", "rapport_start")
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_."
LATIN_1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
"""What an HTTP client can put in a header value at all."""
OTHER_SECRET = "another session secret, " * 2
LEEWAY_SECONDS = 180
"""sanic-jwt's leeway on `exp`: a token expired less than 3 minutes ago still passes."""

Args = tuple[Any, ...]


# --- a web chat tab --------------------------------------------------------------------


class WebChat:
    """One browser tab's socket: python-socketio's client over long polling."""

    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.session_id = ""
        self.token = ""
        self._arrived = threading.Condition()
        self.client.on("*", self._received)
        self.client.connect(url, transports=["polling"], wait_timeout=30)

    def _received(self, event: str, *args: Any) -> None:
        with self._arrived:
            self.events.append((event, args[0] if len(args) == 1 else list(args)))
            self._arrived.notify_all()

    def wait(self, found: Callable[[], bool], what: str, timeout: float = ACK_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not found():
                left = deadline - time.monotonic()
                if left <= 0 or not self.client.connected:
                    raise AssertionError(f"no {what} in {timeout}s; got {self.events[-5:]}")
                self._arrived.wait(min(left, 0.5))

    def call(self, event: str, args: Args) -> None:
        """Emit `event` and wait for its acknowledgement: the server's handler returned."""
        try:
            self.client.call(event, args, timeout=ACK_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            raise AssertionError(
                f"{event} was not acknowledged in {ACK_TIMEOUT}s (connected: "
                f"{self.client.connected}): its handler failed or the server hangs"
            ) from None

    def uttered(self, since: int) -> list[str]:
        return [
            str(data.get("text", "")) if isinstance(data, dict) else repr(data)
            for event, data in self.events[since:]
            if event == "bot_uttered"
        ]

    def confirmations(self, since: int) -> list[Any]:
        return [data for event, data in self.events[since:] if event == "session_confirm"]

    def request(self, *args: Any) -> dict[str, Any]:
        """`session_request` with `args`; the confirmation, whose session this tab is now in."""
        mark = len(self.events)
        self.call("session_request", args)
        self.wait(lambda: bool(self.confirmations(mark)), "session_confirm")
        (confirmation,) = self.confirmations(mark)
        assert isinstance(confirmation, dict), confirmation
        assert set(confirmation) == {"session_id", "session_token"}, confirmation
        self.session_id = str(confirmation["session_id"])
        self.token = str(confirmation["session_token"])
        return confirmation

    def say(self, event: str, message: str | None, expect: str) -> list[str]:
        """`event` on this tab's session; the bot's messages, once one contains `expect`."""
        mark = len(self.events)
        data = {"session_id": self.session_id}
        self.call(event, (data if message is None else {**data, "message": message},))
        self.wait(lambda: any(expect in t for t in self.uttered(mark)), repr(expect))
        return self.uttered(mark)

    def close(self) -> None:
        """Hang up without waiting for the pending long poll (see the e2e `Chat.close`)."""
        if self.client.connected:
            self.client.eio.disconnect(abort=True)
            self.client.connected = False


def packet_bytes(event: str, args: Args) -> int:
    """The size of the Engine.IO POST python-socketio's client makes of this event."""
    encoded = socketio.packet.Packet(data=[event, *args], id=10**6).encode()
    return len(("4" + str(encoded)).encode("utf-8", "surrogatepass"))


def session_shaped(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    )


# --- Socket.IO strategies --------------------------------------------------------------

UNKNOWN_EVENTS = st.one_of(
    st.sampled_from(
        [
            "connect",
            "disconnect",
            "connect_error",
            "message",
            "bot_uttered",
            "session_confirm",
            "User_uttered",
            "user_uttered ",
            "rapport_start\x00",
            "*",
            "",
        ]
    ),
    fs.tricky_text(0, 20),
).filter(lambda name: name not in HANDLED)


def oversized(min_chars: int = MAX_MESSAGE_CHARS + 1) -> st.SearchStrategy[str]:
    """Texts over the guard's limit, up to 100,000 characters: NUL-free and long even once
    Rasa's `UserMessage` has stripped them, so the guard sees them too long."""
    unit = fs.tricky_text(1, 8).map(lambda u: u.replace("\x00", "")).filter(bool)
    size = st.integers(min_chars + 16, 100_000)
    texts = st.builds(lambda u, n: (u * (n // len(u) + 1))[:n], unit, size)
    return texts.filter(lambda text: len(text.strip()) >= min_chars)


def guarded_texts() -> st.SearchStrategy[Any]:
    """What the guard answers itself: typed commands, nothing visible, not text, too long."""
    return st.one_of(
        fs.injections(),
        fs.injections(),
        fs.injections().map(lambda text: text + "\ud800"),  # a lone surrogate after the slash
        st.lists(st.sampled_from(fs.INVISIBLE), max_size=6).map("".join),
        fs.json_values.filter(lambda value: not isinstance(value, str)),
        oversized(),
    )


def any_texts() -> st.SearchStrategy[Any]:
    lone = st.lists(st.sampled_from(["\ud800", "\udfff", "\udc00a", "hi"]), min_size=1)
    return st.one_of(
        fs.messages(),
        guarded_texts(),
        lone.map("".join),
        fs.json_values,
        oversized(1),
    )


def forged_customers() -> st.SearchStrategy[Any]:
    """`customer` objects no shop signed (a wrong key), and any JSON value."""
    wrong = st.builds(
        lambda cid: shop_customer(cid, shop_signature(cid + "x")),
        st.one_of(st.sampled_from(fs.CUSTOMERS), fs.tricky_text(0, 40)),
    )
    return st.one_of(wrong, fs.json_values)


def event_payloads(own: str, others: list[str]) -> st.SearchStrategy[Any]:
    """Payloads of `user_uttered` and `rapport_start`: mostly objects, for the shopper's
    own session (with text the guard answers) or any other session id."""
    near_misses = st.sampled_from(
        [own.upper(), own + "\n", f" {own}", own[:-1], own + "0", f"{own}\x00", own[::-1]]
    )
    foreign = st.one_of(
        st.sampled_from(others),
        near_misses,
        st.builds(lambda: uuid.uuid4().hex),
        fs.tricky_text(0, 40),
        fs.json_values,
    )
    extras = {"session_token": fs.json_values, "customer": forged_customers(), "x": fs.json_values}
    mine = st.fixed_dictionaries(
        {"session_id": st.just(own)}, optional={"message": guarded_texts(), **extras}
    )
    theirs = st.fixed_dictionaries(
        {}, optional={"session_id": foreign, "message": any_texts(), **extras}
    )
    return st.one_of(mine, mine, mine, theirs, theirs, fs.json_values)


def request_payloads(tokens: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Payloads of `session_request`: objects with any token (never a valid one), sometimes
    a forged customer or an old-style session id; and any JSON value."""
    return st.one_of(
        st.fixed_dictionaries(
            {"session_token": tokens},
            optional={"customer": forged_customers(), "session_id": fs.json_values},
        ),
        st.fixed_dictionaries({}, optional={"customer": forged_customers()}),
        fs.json_values,
    )


def arguments(payloads: st.SearchStrategy[Any]) -> st.SearchStrategy[Args]:
    """The arguments of one event: mostly one payload, sometimes none or several."""
    return st.one_of(
        payloads.map(lambda payload: (payload,)),
        payloads.map(lambda payload: (payload,)),
        payloads.map(lambda payload: (payload,)),
        st.just(()),
        st.lists(payloads, min_size=2, max_size=3).map(tuple),
    )


def _replace_one(token: str, at: int, char: str) -> str:
    at %= len(token)
    return token[:at] + char + token[at + 1 :]


def spare_bits_twin(token: str) -> str:
    """`token` with the last signature character changed only in base64's spare bits."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    return token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]


def _issued_at(session_id: str, moment: float) -> str:
    return SessionTokens(SESSION_SECRET, clock=lambda: moment).issue(session_id)


def forged_tokens(issued: list[tuple[str, str]]) -> st.SearchStrategy[Any]:
    """Anything but a valid token, many of them close to the real tokens of `issued`."""
    pair = st.sampled_from(issued)
    max_age = int(TOKEN_MAX_AGE.total_seconds())
    expired = st.builds(
        lambda p, age: _issued_at(p[0], time.time() - age),
        pair,
        st.integers(max_age + 60, 10 * max_age),
    )
    future = st.builds(
        lambda p, ahead: _issued_at(p[0], time.time() + ahead), pair, st.integers(60, max_age)
    )
    not_an_id = st.one_of(
        pair.map(lambda p: p[0].upper()),
        pair.map(lambda p: p[0] + "\n"),
        st.text(alphabet=TOKEN_ALPHABET, max_size=40),
    ).map(lambda value: _Signer(SESSION_SECRET, time.time).sign(value).decode())
    tampered = st.builds(
        _replace_one, pair.map(lambda p: p[1]), st.integers(0, 200), st.sampled_from(TOKEN_ALPHABET)
    )
    return st.one_of(
        pair.map(lambda p: p[0]),  # a bare session id
        st.builds(lambda: uuid.uuid4().hex),
        tampered,
        pair.map(lambda p: spare_bits_twin(p[1])),
        st.builds(lambda p, junk: p[1] + junk, pair, fs.tricky_text(1, 4)),
        st.builds(lambda p, junk: junk + p[1], pair, fs.tricky_text(1, 4)),
        pair.map(lambda p: SessionTokens(OTHER_SECRET).issue(p[0])),
        expired,
        future,
        not_an_id,
        st.text(alphabet=TOKEN_ALPHABET, max_size=200),
        fs.tricky_text(0, 80),
        fs.json_values,
    ).filter(lambda token: all(token != genuine for _, genuine in issued))


# --- Socket.IO properties --------------------------------------------------------------


def test_socketio_any_event_keeps_the_healthy_chat_and_its_consent(fuzz: Fuzz) -> None:
    url = fuzz.stack.rasa_url
    shopper, other = WebChat(url), WebChat(url)
    try:
        shopper.request({})
        other.request({})
        own, own_token = shopper.session_id, shopper.token
        issued = [(own, own_token), (other.session_id, other.token)]
        known = {own, other.session_id}
        said = shopper.say("rapport_start", None, CONSENT)
        assert CONSENT in said[-1], said
        assert fuzz.store.consents_of("socketio", own) == []
        _run_events(fuzz, shopper, issued, known)
        assert fuzz.store.consents_of("socketio", own) == []
        assert fuzz.store.values_of("socketio", own) == []
        shopper.say("user_uttered", "yes", "")
        assert [c[2] for c in fuzz.store.consents_of("socketio", own)] == ["granted"]
        assert other.client.connected
        assert other.uttered(0) == [], "a message for another session reached its socket"
    finally:
        shopper.close()
        other.close()


def _run_events(
    fuzz: Fuzz, shopper: WebChat, issued: list[tuple[str, str]], known: set[str]
) -> None:
    own = shopper.session_id
    others = [session_id for session_id, _ in issued if session_id != own]
    payloads = event_payloads(own, others)
    emissions = st.one_of(
        st.tuples(st.sampled_from(["user_uttered", "rapport_start"]), arguments(payloads)),
        st.tuples(st.just("user_uttered"), arguments(payloads)),
        st.tuples(st.just("session_request"), arguments(request_payloads(forged_tokens(issued)))),
        st.tuples(UNKNOWN_EVENTS, arguments(st.one_of(payloads, fs.json_values))),
    )
    examples = [0]

    def probe() -> None:
        said = shopper.say("user_uttered", "hi", CONSENT)
        assert CONSENT in said[-1], said

    @fuzz_settings()
    @given(emission=emissions)
    @example(emission=("user_uttered", ()))
    @example(emission=("rapport_start", ({"session_id": own}, 1)))
    @example(emission=("session_request", ()))
    @example(emission=("connect", ({"x": 1},)))
    @example(emission=("user_uttered", ({"session_id": own, "message": 1},)))
    @example(emission=("user_uttered", ({"session_id": own, "message": ["/affirm"]},)))
    @example(emission=("user_uttered", ({"session_id": own, "message": "\x00/affirm\ud800"},)))
    @example(emission=("user_uttered", ({"session_id": own, "message": "/affirm" * 20_000},)))
    @example(emission=("user_uttered", ({"session_id": own + "\n", "message": "yes"},)))
    @example(emission=("session_request", ({"session_token": spare_bits_twin(issued[1][1])},)))
    @example(emission=("session_request", ({"session_token": own},)))
    @example(
        emission=(
            "session_request",
            ({"customer": shop_customer("fz-c1\x00")},),
        )
    )
    def emit(emission: tuple[str, Args]) -> None:
        event, args = emission
        size = packet_bytes(event, args)
        if size > MAX_PACKET_BYTES - PACKET_MARGIN:
            _throwaway(fuzz, event, args, size)
        elif event == "session_request":
            _session_request(fuzz, shopper, args, known, issued[0])
        else:
            _event(fuzz, shopper, event, args)
        assert shopper.client.connected, "the server disconnected the shopper"
        examples[0] += 1
        if examples[0] % PROBE_EVERY == 0:
            probe()

    emit()
    probe()


def _event(fuzz: Fuzz, shopper: WebChat, event: str, args: Args) -> None:
    own = shopper.session_id
    first = args[0] if args else None
    mine = event in HANDLED and isinstance(first, dict) and first.get("session_id") == own
    before = fuzz.store.counts()
    mark = len(shopper.events)
    if event in HANDLED or event == "connect":
        shopper.call(event, args)
    else:
        shopper.client.emit(event, args)  # nothing handles it: no acknowledgement comes
    said = shopper.uttered(mark)
    if not mine:
        fuzz.record("ignored" if event in HANDLED else "unknown event")
        assert fuzz.store.counts() == before, (event, args)
        assert said == [], said
    elif event == "user_uttered":
        fuzz.record("guarded")
        assert len(said) == 1, said
        assert said[0] in (REFUSED, EMPTY) or said[0].startswith(TOO_LONG), said
    else:
        fuzz.record("welcome")
        assert said and CONSENT in said[-1], said
    assert fuzz.store.consents_of("socketio", own) == []


def _session_request(
    fuzz: Fuzz, shopper: WebChat, args: Args, known: set[str], own: tuple[str, str]
) -> None:
    """Any request moves the shopper to a fresh session; their own token brings them back."""
    own_id, own_token = own
    fuzz.record("session_request")
    before = fuzz.store.counts()
    presented = args[0].get("session_token") if args and isinstance(args[0], dict) else None
    _assert_fresh(shopper.request(*args), presented, known)
    back = shopper.request({"session_token": own_token})
    assert back["session_id"] == own_id, back
    assert fuzz.store.counts() == before, args


def _assert_fresh(confirmation: dict[str, Any], presented: Any, known: set[str]) -> None:
    """A fresh session: well-formed, never issued before, not the one the token names."""
    session_id = confirmation["session_id"]
    assert session_shaped(session_id), confirmation
    assert str(confirmation["session_token"]).startswith(session_id + "."), confirmation
    assert session_id not in known, ("an issued session was handed out again", presented)
    if isinstance(presented, str):
        assert session_id != presented.split(".")[0], presented
    known.add(session_id)


def _throwaway(fuzz: Fuzz, event: str, args: Args, size: int) -> None:
    """A packet around or over the limit, from a socket of its own: only that one may go."""
    fuzz.record("oversized packet")
    before = fuzz.store.counts()
    chat = WebChat(fuzz.stack.rasa_url)
    try:
        chat.client.emit(event, args)
        if size > MAX_PACKET_BYTES + PACKET_MARGIN:
            deadline = time.monotonic() + ACK_TIMEOUT
            while chat.client.connected and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not chat.client.connected, "a packet over the limit was taken"
    finally:
        chat.close()
    assert fuzz.store.counts() == before


def test_socketio_forged_session_tokens_never_resume_a_session(fuzz: Fuzz) -> None:
    url = fuzz.stack.rasa_url
    holder, intruder = WebChat(url), WebChat(url)
    try:
        holder.request({})
        intruder.request({})
        issued = [(holder.session_id, holder.token), (intruder.session_id, intruder.token)]
        known = {session_id for session_id, _ in issued}

        @fuzz_settings()
        @given(
            token=forged_tokens(issued),
            shape=st.sampled_from(["token", "token and id", "token and customer"]),
            control=st.tuples(st.sampled_from(issued), st.booleans()),
        )
        @example(token=spare_bits_twin(issued[0][1]), shape="token", control=(issued[0], False))
        @example(token=issued[0][0], shape="token and id", control=(issued[1], True))
        def present(token: Any, shape: str, control: tuple[tuple[str, str], bool]) -> None:
            before = fuzz.store.counts()
            # The control: a genuine token (the one issued, or one minted a minute ago)
            # resumes its session, so the oracle can tell the two apart.
            (session_id, kept), minted = control
            genuine = _issued_at(session_id, time.time() - 60) if minted else kept
            resumed = intruder.request({"session_token": genuine})
            assert resumed["session_id"] == session_id, resumed
            request: dict[str, Any] = {"session_token": token}
            if shape == "token and id":
                request["session_id"] = issued[0][0]
            elif shape == "token and customer":
                request["customer"] = shop_customer("fz-c1", shop_signature("fz-c2"))
            fuzz.record("forged")
            _assert_fresh(intruder.request(request), token, known)
            assert fuzz.store.counts() == before

        present()
        assert holder.client.connected and intruder.client.connected
    finally:
        holder.close()
        intruder.close()


# --- Rasa's HTTP API -------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """As PyJWT decodes a segment: padding added, spare bits ignored."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


DIGESTS: dict[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}


def compact_jwt(header: Any, payload: Any, key: str, algorithm: str) -> str:
    """A JWS over any JSON header and payload (PyJWT refuses to encode malformed claims);
    signed with HMAC-`algorithm`, or with no signature for any other algorithm."""
    signing_input = f"{b64url(fs.dumps(header))}.{b64url(fs.dumps(payload))}"
    digest = DIGESTS.get(algorithm)
    if digest is None:
        return signing_input + "."
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def admin_jwt(secret: str, username: str, ttl: int, *, role: str = "admin") -> str:
    """A token as tests/e2e/test_rasa_api.py mints them: HS256, the role, valid `ttl` s."""
    now = int(time.time())
    payload = {"user": {"username": username, "role": role}, "iat": now, "exp": now + ttl}
    return jwt.encode(payload, secret, algorithm="HS256")


def _verified_claims(token: str, secret: str) -> dict[str, Any] | None:
    """The payload when `token` is an HS256 JWS whose signature `secret` made, else None."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        header = json.loads(b64url_decode(pieces[0]))
        payload = json.loads(b64url_decode(pieces[1]))
        signature = b64url_decode(pieces[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None
    expected = hmac.new(secret.encode(), f"{pieces[0]}.{pieces[1]}".encode(), hashlib.sha256)
    if not isinstance(payload, dict) or not hmac.compare_digest(signature, expected.digest()):
        return None
    return payload


def may_pass(authorization: str | None, secret: str, sender: str) -> bool:
    """Whether `authorization` carries a token Rasa may accept for `sender`'s conversation:
    HS256, signed with `secret`, `user.role` admin (or `user` with `sender` as username,
    Rasa's rule for a conversation's own user), and not expired beyond the leeway."""
    for part in (authorization or "").split():
        claims = _verified_claims(part, secret)
        user = claims.get("user") if claims is not None else None
        if claims is None or not isinstance(user, dict):
            continue
        role = user.get("role")
        if role != "admin" and not (role == "user" and user.get("username") == sender):
            continue
        expires = claims.get("exp")
        number = isinstance(expires, (int, float)) and not isinstance(expires, bool)
        if number and expires < time.time() - LEEWAY_SECONDS - 30:
            continue
        return True
    return False


def _away_from_the_leeway(offset: int) -> bool:
    return abs(offset + LEEWAY_SECONDS) > 60


def _or_any(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, fs.json_values)


def api_tokens(secret: str, sender: str) -> st.SearchStrategy[str]:
    """JWT-shaped tokens: any header and claims, signed with the stack's key or another."""
    offsets = st.integers(-(10**8), 10**8).filter(_away_from_the_leeway)
    moments = st.one_of(
        st.builds(lambda offset: int(time.time()) + offset, offsets),
        st.builds(lambda offset: time.time() + offset, offsets),
        fs.json_values,
    )
    roles = st.one_of(
        st.sampled_from(["admin", "admin", "user", "Admin", "ADMIN", "admin ", "guest", ""]),
        fs.json_values,
    )
    usernames = st.one_of(
        st.just(sender), st.sampled_from(["rapport", "admin", ""]), fs.tricky_text(0, 20)
    )
    user = st.one_of(
        st.fixed_dictionaries({"role": roles}, optional={"username": _or_any(usernames)}),
        fs.json_values,
    )
    claims = st.fixed_dictionaries(
        {},
        optional={
            "user": user,
            "exp": moments,
            "iat": moments,
            "nbf": moments,
            "sub": fs.json_values,
            "jti": fs.json_values,
            "aud": fs.json_values,
            "iss": fs.json_values,
        },
    )
    algorithms = st.sampled_from(["HS256", "HS256", "HS384", "HS512", "none", "None", "RS256"])
    headers = st.one_of(
        algorithms.map(lambda alg: {"alg": alg, "typ": "JWT"}),
        st.fixed_dictionaries(
            {"alg": _or_any(algorithms)},
            optional={"typ": fs.json_values, "kid": fs.json_values, "crit": fs.json_values},
        ),
        fs.json_values,
    )
    keys = st.one_of(
        st.just(secret),
        st.just(secret),
        st.sampled_from([secret[:-1], secret + "x", secret.upper(), "", "secret"]),
        st.text(max_size=64),
    )
    signed = st.builds(
        lambda header, payload, key, algorithm: compact_jwt(header, payload, key, algorithm),
        headers,
        st.one_of(claims, claims, fs.json_values),
        keys,
        st.one_of(algorithms, algorithms),
    )
    return st.one_of(
        signed,
        signed,
        signed,
        st.builds(
            lambda token, char, at: _replace_one(token, at, char),
            signed,
            st.sampled_from(TOKEN_ALPHABET),
            st.integers(0, 400),
        ),
        st.text(alphabet=TOKEN_ALPHABET, max_size=300),
        st.text(alphabet=LATIN_1, max_size=60),  # what a client can send in a header
    )


def api_authorizations(secret: str, sender: str) -> st.SearchStrategy[tuple[str | None, bool]]:
    """(Authorization header or None, whether it is a canonical valid token that must pass)."""
    tokens = api_tokens(secret, sender)
    schemes = st.sampled_from(["Bearer", "Bearer", "bearer", "BEARER", "Basic", "JWT", ""])
    separators = st.sampled_from([" ", " ", "  ", "\t", ""])
    latin = st.text(alphabet=LATIN_1, max_size=200)
    usernames = st.one_of(st.just(sender), st.just("rapport"), fs.tricky_text(0, 20))
    canonical = st.one_of(
        st.builds(admin_jwt, st.just(secret), usernames, st.integers(1, 3600)),
        st.builds(lambda ttl: admin_jwt(secret, sender, ttl, role="user"), st.integers(1, 3600)),
    )
    headers = st.one_of(
        st.builds(lambda scheme, sep, token: f"{scheme}{sep}{token}", schemes, separators, tokens),
        tokens.map(lambda token: f"Bearer {token}"),
        tokens.map(lambda token: f"Bearer {token}"),
        latin,
        latin.map(lambda text: f"Bearer {text}"),
        st.none(),
    ).map(lambda header: (header, False))
    return st.one_of(*[headers] * 5, canonical.map(lambda token: (f"Bearer {token}", True)))


def api_queries(secret: str) -> st.SearchStrategy[str]:
    """`?token=...`: nothing, noise, the JWT secret itself, a valid admin token."""
    values = st.one_of(
        st.text(max_size=80).map(lambda text: urllib.parse.quote(text, safe="")),
        st.binary(max_size=40).map(lambda raw: urllib.parse.quote_from_bytes(raw, safe="")),
        st.just(secret),
        st.builds(lambda: admin_jwt(secret, "rapport", 60)),
    )
    return st.one_of(st.just(""), st.just(""), values.map(lambda value: f"?token={value}"))


def test_rasa_api_any_authorization_is_refused_unless_an_admin_jwt(fuzz: Fuzz) -> None:
    stack = fuzz.stack
    secret = stack.jwt_secret
    shopper = f"fz-api-{uuid.uuid4().hex[:10]}"
    stack.texts(shopper, "hi")
    sender = stack.rest_conversation(shopper)  # the conversation Rasa keeps for it
    before = stack.tracker(sender)
    assert before["events"], before
    tracker_url = f"{stack.rasa_url}/conversations/{sender}/tracker"
    bodies = st.one_of(
        st.just(b"[]"),  # would erase the conversation
        st.just(fs.dumps([{"event": "slot", "name": "rp_pending", "value": None}])),
        fs.json_values.map(fs.dumps),
        st.binary(max_size=256),
    )
    admin = {"user": {"username": "x", "role": "admin"}}
    alg_none = compact_jwt({"alg": "none", "typ": "JWT"}, admin, "", "none")
    hs512 = compact_jwt({"alg": "HS512", "typ": "JWT"}, admin, secret, "HS512")
    user_not_an_object = compact_jwt({"alg": "HS256"}, {"user": "admin"}, secret, "HS256")
    kid_not_a_string = compact_jwt({"alg": "HS256", "kid": 5}, admin, secret, "HS256")
    expired = admin_jwt(secret, "x", -LEEWAY_SECONDS - 600)
    other_user = admin_jwt(secret, "someone-else", 60, role="user")

    @fuzz_settings()
    @given(
        authorization=api_authorizations(secret, sender),
        query=api_queries(secret),
        method=st.sampled_from(["GET", "PUT"]),
        body=bodies,
    )
    @example(authorization=(None, False), query=f"?token={secret}", method="PUT", body=b"[]")
    @example(authorization=(f"Bearer {alg_none}", False), query="", method="PUT", body=b"[]")
    @example(authorization=(f"Bearer {hs512}", False), query="", method="GET", body=b"")
    @example(
        authorization=(f"Bearer {user_not_an_object}", False), query="", method="PUT", body=b"[]"
    )
    @example(authorization=(f"Bearer {kid_not_a_string}", False), query="", method="GET", body=b"")
    @example(authorization=("Bearer \xe9\xff", False), query="", method="GET", body=b"")
    @example(authorization=(f"Bearer {expired}", False), query="", method="PUT", body=b"[]")
    @example(authorization=(f"Bearer {other_user}", False), query="", method="PUT", body=b"[]")
    def call(authorization: tuple[str | None, bool], query: str, method: str, body: bytes) -> None:
        header, canonical = authorization
        allowed = may_pass(header, secret, sender)
        headers = {} if header is None else {"Authorization": header}
        if method == "GET":
            url, raw = f"{tracker_url}{query}", None
        else:
            url = f"{tracker_url}/events{query}"
            # An accepted PUT replaces the events with the same ones: nothing changes.
            raw = fs.dumps(before["events"]) if allowed else body
        status, reply = http_json(method, url, raw=raw, headers=headers)
        fuzz.record(f"{method} {status}")
        assert status < 500, (status, reply)
        assert status in (200, 400, 401, 403), (status, reply)
        if status == 200:
            assert allowed, ("accepted without an admin token", header, query)
        if canonical:
            assert status == 200, (status, reply)
        if method == "PUT":
            assert stack.tracker(sender) == before, (status, header)

    call()
    assert stack.tracker(sender) == before
