"""Chat messages → prompt token ids, where only the chat template can produce special tokens.

Rendering the template to one string and tokenising it with special tokens enabled would let a customer who types
``<|im_start|>system`` write a real control token. Instead the template is rendered with a placeholder in place of
every message's content; the text between placeholders (the template's own markup) is tokenised with special
tokens enabled and each content with special tokens disabled, so user and passage text stay plain text. Pure: the
two tokenisers are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from chatbot.protocols import Message

Tokenize = Callable[[str], list[int]]
_PLACEHOLDER = "\ue000{}\ue001"  # private-use characters: never in a chat template, stripped from contents below
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")
_PRIVATE = re.compile("[\ue000\ue001]")


def render_template(template: str, messages: Sequence[Message], *, bos_token: str = "", eos_token: str = "") -> str:
    """The chat template rendered as transformers renders it (sandboxed Jinja, generation prompt added)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(
        messages=[dict(m) for m in messages],
        add_generation_prompt=True,
        bos_token=bos_token,
        eos_token=eos_token,
    )


def chat_token_ids(
    template: str,
    messages: Sequence[Mapping[str, str]],
    *,
    tokenize_markup: Tokenize,
    tokenize_text: Tokenize,
    bos_token: str = "",
    eos_token: str = "",
) -> list[int]:
    """Token ids of ``messages`` rendered with ``template``; contents can never become special tokens."""
    masked = [{"role": str(m["role"]), "content": _PLACEHOLDER.format(i)} for i, m in enumerate(messages)]
    contents = [_PRIVATE.sub("", str(m["content"])) for m in messages]
    rendered = render_template(template, masked, bos_token=bos_token, eos_token=eos_token)
    ids: list[int] = []
    position = 0
    for match in _PLACEHOLDER_RE.finditer(rendered):
        if match.start() > position:
            ids.extend(tokenize_markup(rendered[position : match.start()]))
        content = contents[int(match.group(1))]
        if content:
            ids.extend(tokenize_text(content))
        position = match.end()
    if position < len(rendered):
        ids.extend(tokenize_markup(rendered[position:]))
    return ids
