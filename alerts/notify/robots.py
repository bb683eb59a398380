"""Chat robot formats: WeCom (企业微信) group robot, DingTalk (钉钉) robot, Feishu (飞书) bot.

All three show the same `text.MessageText`: Chinese block first, English block after. Each has
its own markup and limits, and each answers HTTP 200 even when it refuses a message, with the
verdict in the JSON body (`errcode` for WeCom and DingTalk, `code` for Feishu); `robot_refusal`
reads that verdict so a wrong signature is not mistaken for a delivery.
"""

from __future__ import annotations

import json
from typing import Any

from alerts.model import Grade
from alerts.notify.text import MessageText

__all__ = [
    "WECOM_MAX_BYTES",
    "dingtalk_markdown",
    "feishu_card",
    "feishu_text",
    "robot_refusal",
    "wecom_markdown",
]

# WeCom caps markdown content at 4096 UTF-8 bytes and drops longer messages outright.
WECOM_MAX_BYTES = 4096
# DingTalk and Feishu allow far more; a cap still keeps a runaway group from being refused.
_OTHER_MAX_BYTES = 16_000

# WeCom markdown knows three colours only: info (green), comment (grey), warning (orange-red).
_WECOM_COLOUR = {
    Grade.BLUE: "comment",
    Grade.YELLOW: "warning",
    Grade.ORANGE: "warning",
    Grade.RED: "warning",
}
# Coloured dots read at a glance on a lock screen, where no markup is rendered.
_DOT = {Grade.BLUE: "🔵", Grade.YELLOW: "🟡", Grade.ORANGE: "🟠", Grade.RED: "🔴"}
_RESOLVED_DOT = "✅"

# Codes that mean "not now" rather than "never": rate limits and "system busy".
_RETRYABLE_CODES = {
    "wecom": {-1, 45009},  # system busy; API frequency limit (20 messages/min per robot)
    "dingtalk": {-1, 130101},  # system busy; "send too fast, exceed 20 times per minute"
    "feishu": {11232},  # message frequency limit
}


def _dot(text: MessageText) -> str:
    if text.resolved:
        return _RESOLVED_DOT
    return _DOT[text.grade] if text.grade else ""


def _fit(text: str, max_bytes: int) -> str:
    """`text` cut at a line boundary to at most `max_bytes` UTF-8 bytes, marked with "…"."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    lines = text.split("\n")
    while lines and len(("\n".join(lines) + "\n…").encode("utf-8")) > max_bytes:
        lines.pop()
    return "\n".join(lines) + "\n…"


def wecom_markdown(text: MessageText) -> dict[str, Any]:
    """`{"msgtype": "markdown", "markdown": {"content": ...}}` with WeCom's font colours."""
    colour = "info" if text.resolved else _WECOM_COLOUR.get(text.grade or Grade.BLUE, "comment")
    zh_lines = "\n".join(f"> {line}" for line in text.lines_zh)
    en_lines = "\n".join(f"> {line}" for line in text.lines_en)
    content = (
        f'**<font color="{colour}">{_dot(text)}{text.title_zh}</font>**\n{zh_lines}\n\n'
        f'<font color="comment">{text.title_en}</font>\n{en_lines}'
    )
    return {"msgtype": "markdown", "markdown": {"content": _fit(content, WECOM_MAX_BYTES)}}


def dingtalk_markdown(text: MessageText) -> dict[str, Any]:
    """`{"msgtype": "markdown", "markdown": {"title", "text"}}`.

    The title is what the phone's notification and the chat list show, so it carries the grade
    and the place. DingTalk's markdown needs a blank line between lines to break them.
    """
    body = "\n\n".join(
        [
            f"#### {_dot(text)}{text.title_zh}",
            *text.lines_zh,
            "---",
            f"**{text.title_en}**",
            *text.lines_en,
        ]
    )
    title = f"{_dot(text)}{text.title_zh}"
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": _fit(body, _OTHER_MAX_BYTES)},
    }


def feishu_card(text: MessageText) -> dict[str, Any]:
    """An interactive card: coloured header (grade), Chinese block, rule, English block."""
    # Feishu card header templates include our four grade colours by name.
    template = "green" if text.resolved else (text.grade or Grade.BLUE).value
    zh = _fit("\n".join(text.lines_zh), _OTHER_MAX_BYTES // 2)
    en = _fit("\n".join([f"**{text.title_en}**", *text.lines_en]), _OTHER_MAX_BYTES // 2)
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": f"{_dot(text)}{text.title_zh}"},
                "template": template,
            },
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": zh}},
                {"tag": "hr"},
                {"tag": "div", "text": {"tag": "lark_md", "content": en}},
            ],
        },
    }


def feishu_text(text: MessageText) -> dict[str, Any]:
    """Plain text, for groups whose bot may not send cards."""
    lines = [f"{_dot(text)}{text.title_zh}", *text.lines_zh, "", text.title_en, *text.lines_en]
    return {"msg_type": "text", "content": {"text": _fit("\n".join(lines), _OTHER_MAX_BYTES)}}


def robot_refusal(kind: str, body: bytes) -> tuple[bool, str] | None:
    """None when a robot's 2xx answer accepted the message, else (retryable, reason).

    WeCom and DingTalk answer `{"errcode": 0, "errmsg": "ok"}`; Feishu `{"code": 0, ...}` (older
    deployments `{"StatusCode": 0, ...}`). A body that is not such JSON is taken as accepted:
    it comes from a proxy or a test receiver, and refusing it would resend forever.
    """
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(answer, dict):
        return None
    if kind == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        message = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code = answer.get("errcode", 0)
        message = answer.get("errmsg", "")
    if not isinstance(code, int) or code == 0:
        return None
    retryable = code in _RETRYABLE_CODES.get(kind, set())
    return retryable, f"{kind} refused the message: code {code}: {message}"
