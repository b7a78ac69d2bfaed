"""Inbound e-mail as intake sees it: the parts of an RFC 822 message a case needs (no I/O).

`parse` turns the raw bytes a mail gateway forwards into an `InboundEmail`: Message-ID, sender
address, subject (RFC 2047 decoded), Date, the text body (text/plain preferred, else text/html
with the tags stripped) and the attachments by name, size and type only. Attachment contents are
decoded only to be counted; nothing in them is interpreted.

The sender address is personal data: it leaves this module only inside `InboundEmail.sender`;
wherever else it appears (a signature, a quoted reply, the Message-ID) `parse` masks it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html import unescape
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, cast

from services.intake.domain.masking import mask_email

CONTENT_LIMIT = 20000
SUBJECT_LIMIT = 998  # the longest line RFC 5322 allows
MESSAGE_ID_LIMIT = 998
NAME_LIMIT = 255
MAX_ATTACHMENTS = 100
# parts of every level a message may have (the 100 attachments, their bodies and alternatives);
# parsing stops at the first one beyond: a message of thousands of parts costs no more
MAX_PARTS = 250
# TS20261125-0001 / ZX20261125-12345: the numbers cases.case_number() makes
CASE_NO = re.compile(r"(?<![A-Za-z0-9])(?:TS|ZX)\d{8}-\d{4,}(?!\d)", re.IGNORECASE)
COMPLAINT_WORDS = ("投诉", "complaint")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# NUL, which PostgreSQL text cannot hold, and lone surrogates, which stand for bytes that were
# not text in the declared charset (the parser keeps them so) and cannot be stored either
_UNUSABLE = re.compile(r"[\x00\ud800-\udfff]")


class EmailParseError(ValueError):
    """Not a message we can take. The text never contains anything from the message."""


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    content_type: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "content_type": self.content_type}


@dataclass(frozen=True)
class InboundEmail:
    message_id: str
    sender: str
    subject: str
    date: datetime | None
    text: str
    attachments: tuple[Attachment, ...] = field(default=())


class _TooManyParts(Exception):
    pass


def _counting_factory() -> Callable[..., EmailMessage]:
    """A message class for the parser that refuses to make more than MAX_PARTS parts."""
    made = 0

    def make(policy: Any = policy.default) -> EmailMessage:
        nonlocal made
        made += 1
        if made > MAX_PARTS + 1:  # the parser makes one to try the factory out
            raise _TooManyParts
        return EmailMessage(policy=policy)

    return make


def parse(raw: bytes) -> InboundEmail:
    """The parts of `raw` a case needs; EmailParseError when it is no usable message.

    Usable means: it has headers and a From header with an address in it, at most MAX_PARTS
    parts, no NUL and no text that is not valid in its charset (the gateway is told so with a
    4xx, and does not retry). Without a Message-ID one is derived from the bytes, so a
    gateway's retry of it is still recognised.
    """
    if not raw.strip():
        raise EmailParseError("the message is empty")
    if b"\x00" in raw:
        raise EmailParseError("the message contains a NUL byte")
    try:
        msg = BytesParser(_class=_counting_factory(), policy=policy.default).parsebytes(raw)
        return _read(cast(EmailMessage, msg), raw)
    except _TooManyParts:
        raise EmailParseError(f"the message has more than {MAX_PARTS} parts") from None
    except EmailParseError:
        raise
    except Exception:
        # the stdlib parser raises assorted errors (IndexError, ValueError, …) on hostile
        # headers; any of them means the same to the gateway: this message is not usable
        raise EmailParseError("the message could not be parsed") from None


def _read(msg: EmailMessage, raw: bytes) -> InboundEmail:
    if not msg.keys():
        raise EmailParseError("the message has no headers")
    sender = _sender(msg)
    if sender is None:
        raise EmailParseError("the message has no sender address (From)")
    body = msg.get_body(preferencelist=("plain",)) or msg.get_body(preferencelist=("html",))
    text = ""
    if body is not None:
        text = _text(body)
        if body.get_content_subtype() == "html":
            text = strip_html(text)
    # the address lives on in `sender` only: wherever else it appears, it is masked
    return InboundEmail(
        message_id=_usable(redact(_message_id(msg, raw), sender), "Message-ID"),
        sender=_usable(sender, "sender address"),
        subject=_usable(
            redact(_one_line(str(msg.get("Subject", "")))[:SUBJECT_LIMIT], sender), "Subject"
        ),
        date=_date(msg),
        text=_usable(redact(text.strip(), sender), "text"),
        attachments=tuple(
            Attachment(_usable(redact(a.name, sender), "attachment name"), a.size, a.content_type)
            for a in _attachments(msg, body)
        ),
    )


def _usable(value: str, what: str) -> str:
    if _UNUSABLE.search(value):
        raise EmailParseError(f"the message's {what} holds a NUL or bytes that are not text")
    return value


def _sender(msg: EmailMessage) -> str | None:
    header = msg.get("From")
    for address in getattr(header, "addresses", ()):
        spec = address.addr_spec.strip()
        local, at, domain = spec.partition("@")
        if local and at and domain:
            return spec
    return None


def _message_id(msg: EmailMessage, raw: bytes) -> str:
    given = " ".join(str(msg.get("Message-ID", "")).split())
    if given:
        if len(given) > MESSAGE_ID_LIMIT:
            raise EmailParseError("the Message-ID is too long")
        return given
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.intake>"


def _date(msg: EmailMessage) -> datetime | None:
    header = msg.get("Date")
    when = getattr(header, "datetime", None)
    if not isinstance(when, datetime):
        return None
    # "-0000" means "zone unknown" (RFC 5322): the parser gives a naive time, read it as UTC
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _text(part: Message) -> str:
    """A text part decoded by its charset (an unknown one is read as UTF-8); bytes that are
    not text in it make the message unusable rather than silently replaced."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        return payload.decode(charset)
    except UnicodeDecodeError:
        raise EmailParseError(
            "the message's text holds bytes that are not text in its charset"
        ) from None


def _attachments(msg: Message, body: Message | None) -> list[Attachment]:
    """Every part that is not the body or an alternative form of it: name, size, type only.

    An attached message (message/rfc822) counts as one attachment; its parts are not visited.
    """
    found: list[Attachment] = []

    def visit(part: Message) -> None:
        if len(found) >= MAX_ATTACHMENTS or part is body:
            return
        maintype = part.get_content_maintype()
        if maintype == "multipart":
            for child in part.iter_parts():  # type: ignore[attr-defined]
                visit(child)
            return
        filename = part.get_filename()
        named = filename is not None or part.get_content_disposition() == "attachment"
        if part.get_content_type() in ("text/plain", "text/html") and not named:
            return  # the other form of a multipart/alternative body, or a stray text part
        found.append(Attachment(_safe_name(filename), _size(part), part.get_content_type()))

    if msg.get_content_maintype() == "multipart":
        visit(msg)
    return found


def _safe_name(filename: str | None) -> str:
    """The last path component, without control characters, bounded; "unnamed" if none."""
    name = PurePosixPath(_CONTROL.sub("", filename or "").replace("\\", "/")).name.strip()
    return name[:NAME_LIMIT] or "unnamed"


def _size(part: Message) -> int:
    """Decoded size in bytes (an attached message: its size as sent)."""
    try:
        if part.get_content_maintype() == "message":
            return len(part.as_bytes())
        payload = part.get_payload(decode=True)
        return len(payload) if isinstance(payload, bytes) else 0
    except Exception:  # a damaged part still gets listed, with size 0
        return 0


class _TextOnly(HTMLParser):
    _BLOCKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def strip_html(html: str) -> str:
    """The readable text of an HTML body: tags, scripts and styles gone, entities decoded."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    text = unescape("".join(parser.chunks))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- what the case makes of it -----------------------------------------------------------------


def case_number_in(subject: str) -> str | None:
    """The first case number in a subject (`Re: [TS20261125-0001] …`), upper-cased."""
    found = CASE_NO.search(subject)
    return found.group(0).upper() if found else None


def kind_of(subject: str, text: str) -> str:
    """`complaint` when the customer says so (投诉 / complaint), else `consultation`."""
    words = f"{subject}\n{text}".casefold()
    return "complaint" if any(w in words for w in COMPLAINT_WORDS) else "consultation"


def redact(text: str, address: str) -> str:
    """`text` with every occurrence of `address` (any case) masked: `z***@example.com`."""
    if not address:
        return text
    return re.sub(re.escape(address), mask_email(address), text, flags=re.IGNORECASE)


def case_content(subject: str, text: str, limit: int = CONTENT_LIMIT) -> str:
    """What the case records: the subject, a blank line, the body; bounded."""
    content = f"{subject}\n\n{text}" if subject and text else subject or text
    return content[:limit] or "(empty message)"
