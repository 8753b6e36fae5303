"""Where the scannable text is in OpenAI request and reply bodies.

Every message role is scanned (system, developer, user, assistant, tool), content
strings and text parts alike, and tool-call arguments; not only the last user message.
A ``TextSlot`` reads and rewrites one string in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class TextSlot:
    container: Any  # the dict or list holding the string
    key: Any  # its key or index
    where: str  # for findings: "messages[2].content", never the text

    @property
    def text(self) -> str:
        value = self.container[self.key]
        return value if isinstance(value, str) else ""

    def replace(self, text: str) -> None:
        self.container[self.key] = text


def request_slots(api: str, body: dict[str, Any]) -> list[TextSlot]:
    slots: list[TextSlot] = []
    if api == "chat.completions":
        messages = body.get("messages")
        if isinstance(messages, list):
            for index, message in enumerate(messages):
                if isinstance(message, dict):
                    _message_slots(message, f"messages[{index}]", slots)
    elif api == "completions":
        _string_or_list(body, "prompt", slots)
    elif api == "embeddings":
        _string_or_list(body, "input", slots)
    return slots


def reply_slots(api: str, reply: dict[str, Any]) -> list[TextSlot]:
    slots: list[TextSlot] = []
    choices = reply.get("choices")
    if not isinstance(choices, list):
        return slots
    for index, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict):
            _message_slots(message, f"choices[{index}].message", slots)
        elif isinstance(choice.get("text"), str):
            slots.append(TextSlot(choice, "text", f"choices[{index}].text"))
    return slots


def _message_slots(message: dict[str, Any], where: str, slots: list[TextSlot]) -> None:
    content = message.get("content")
    if isinstance(content, str):
        slots.append(TextSlot(message, "content", f"{where}.content"))
    elif isinstance(content, list):
        for index, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                slots.append(TextSlot(part, "text", f"{where}.content[{index}]"))
    refusal = message.get("refusal")
    if isinstance(refusal, str):
        slots.append(TextSlot(message, "refusal", f"{where}.refusal"))
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for index, call in enumerate(tool_calls):
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                slots.append(
                    TextSlot(function, "arguments", f"{where}.tool_calls[{index}].arguments")
                )
    function_call = message.get("function_call")  # the legacy single-function form
    if isinstance(function_call, dict) and isinstance(function_call.get("arguments"), str):
        slots.append(TextSlot(function_call, "arguments", f"{where}.function_call.arguments"))


def _string_or_list(body: dict[str, Any], key: str, slots: list[TextSlot]) -> None:
    value = body.get(key)
    if isinstance(value, str):
        slots.append(TextSlot(body, key, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                slots.append(TextSlot(value, index, f"{key}[{index}]"))
