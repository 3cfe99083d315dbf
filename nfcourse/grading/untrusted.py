"""Text that comes from the learner's side of the sandbox, made safe to print, store and compare.

Anything the sandboxed worker sends (error messages, type names, printed output) can hold characters that
no file or terminal accepts: lone surrogates such as `chr(0xD800)`, which make `str.encode("utf-8")` raise.
Every such string passes through `plain_text` once, where it enters the grader, so nothing later can fail
on it.
"""

from __future__ import annotations


def plain_text(value: object, limit: int) -> str:
    """`str(value)` cut to `limit` characters, every code point UTF-8 cannot encode (a lone surrogate) made "?".

    Never raises: a value whose `__str__` fails becomes its type's name.
    """
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a forged object may raise anything from __str__
        text = f"<{type(value).__name__}>"
    text = str.__str__(text)[:limit] if isinstance(text, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8")
