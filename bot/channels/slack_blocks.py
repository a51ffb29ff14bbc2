"""Slack message formatting: bot text as mrkdwn sections, choices as Block Kit buttons.

Slack parses `&`, `<` and `>` in mrkdwn (and in a message's fallback `text`) as
control characters, so bot text is escaped here before it is posted. Button
labels are `plain_text` (never parsed); button values go back to us unchanged
when a shopper clicks, and become the shopper's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

Block = dict[str, Any]

ACTION_PREFIX = "rapport_choice_"
"""Every button we post has an `action_id` starting with this; clicks on others are ignored."""

MAX_SECTION_CHARS = 3000
MAX_BUTTON_TEXT_CHARS = 75
MAX_BUTTON_VALUE_CHARS = 2000
MAX_ACTIONS_PER_BLOCK = 25

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LABELLED_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
_BARE_LINK = re.compile(r"<((?:https?|mailto|tel):[^<>|]+)>")


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` needs: a fallback `text` and the `blocks`."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def plain_text(slack_text: str) -> str:
    """A shopper's message as typed: links shown as their label, entities unescaped.

    Slack turns `a@b.com` into `<mailto:a@b.com|a@b.com>` and escapes `&<>` in
    the text it delivers.
    """
    text = _LABELLED_LINK.sub(lambda match: match.group(2) or match.group(1), slack_text)
    text = _BARE_LINK.sub(lambda match: match.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _chunks(text: str) -> Iterable[str]:
    """Escaped pieces of `text`, each short enough for one section block."""
    piece: list[str] = []
    size = 0
    for char in text:
        escaped = _ESCAPES.get(char, char)
        if size + len(escaped) > MAX_SECTION_CHARS:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(escaped)
        size += len(escaped)
    if piece:
        yield "".join(piece)


def sections(text: str) -> list[Block]:
    """`text` as mrkdwn section blocks (one, unless it is over Slack's 3,000 characters)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _chunks(text)]


def _button(index: int, title: str, value: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": title[:MAX_BUTTON_TEXT_CHARS], "emoji": True},
        "value": value[:MAX_BUTTON_VALUE_CHARS],
        "action_id": f"{ACTION_PREFIX}{index}",
    }


def _buttons(choices: Iterable[Mapping[str, Any]]) -> list[Block]:
    """Rasa button dicts (`title`, `payload`) as Block Kit buttons; unusable ones are left out."""
    elements: list[Block] = []
    for choice in choices:
        title = choice.get("title")
        payload = choice.get("payload")
        if not isinstance(title, str) or not title.strip():
            continue
        value = payload if isinstance(payload, str) and payload.strip() else title
        elements.append(_button(len(elements), title, value))
    return elements


def actions(choices: Iterable[Mapping[str, Any]]) -> list[Block]:
    """Actions blocks holding one button per choice (at most 25 buttons per block)."""
    elements = _buttons(choices)
    return [
        {"type": "actions", "elements": elements[start : start + MAX_ACTIONS_PER_BLOCK]}
        for start in range(0, len(elements), MAX_ACTIONS_PER_BLOCK)
    ]


def text_message(text: str) -> SlackMessage:
    """A plain bot message."""
    return SlackMessage(text=escape(text), blocks=sections(text))


def choice_message(text: str, choices: Iterable[Mapping[str, Any]]) -> SlackMessage:
    """A bot message followed by buttons; `text` (or the button labels) is the fallback."""
    buttons = actions(choices)
    labels = ", ".join(e["text"]["text"] for block in buttons for e in block["elements"])
    return SlackMessage(text=escape(text or labels), blocks=sections(text) + buttons)
