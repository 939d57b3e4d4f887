"""Callbacks built the way WeChat Work builds them, with wechatpy's own crypto, for tests.

WeCom POSTs `<xml><ToUserName/><AgentID/><Encrypt/></xml>` to the callback URL with
`msg_signature`, `timestamp` and `nonce` in the query; the signature is SHA-1 over the sorted
token, timestamp, nonce and ciphertext. URL verification is a GET with an encrypted `echostr`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner


@dataclass(frozen=True)
class WecomApp:
    """One self-built app's callback settings, as WeCom's admin page shows them."""

    corp_id: str
    token: str
    encoding_aes_key: str
    agent_id: int = 1000002

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.encoding_aes_key, self.corp_id)


#: A made-up app: the key is 32 known bytes in WeCom's 43-character form.
TEST_APP = WecomApp(
    corp_id="ww0123456789abcdef",
    token="jiafangTestToken",
    encoding_aes_key=base64.b64encode(bytes(range(32))).decode().rstrip("="),
)


@dataclass(frozen=True)
class SignedCallback:
    """What to send: the query string and (for POST) the body."""

    query: dict[str, str]
    body: str = ""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, encrypted)
    return str(signer.signature)


def _element(name: str, value: Any) -> str:
    if isinstance(value, int):
        return f"<{name}>{value}</{name}>"
    # CDATA is literal: only "]]>" must be split across two sections.
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{name}><![CDATA[{text}]]></{name}>"


def text_xml(app: WecomApp, *, user: str, content: str, msg_id: int, create_time: int) -> str:
    """A member's text message to the app, as decrypted XML."""
    fields = {
        "ToUserName": app.corp_id,
        "FromUserName": user,
        "CreateTime": create_time,
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
        "AgentID": app.agent_id,
    }
    return "<xml>" + "".join(_element(k, v) for k, v in fields.items()) + "</xml>"


def event_xml(app: WecomApp, *, user: str, event: str, create_time: int, **extra: str | int) -> str:
    """An event (e.g. `enter_agent`, or `template_card_event` with EventKey and TaskId)."""
    fields: dict[str, Any] = {
        "ToUserName": app.corp_id,
        "FromUserName": user,
        "CreateTime": create_time,
        "MsgType": "event",
        "Event": event,
        "AgentID": app.agent_id,
        **extra,
    }
    return "<xml>" + "".join(_element(k, v) for k, v in fields.items()) + "</xml>"


def encrypt_callback(
    app: WecomApp, xml: str, *, timestamp: int, nonce: str | None = None
) -> SignedCallback:
    """An encrypted POST callback carrying `xml`."""
    nonce = nonce or secrets.token_hex(8)
    envelope = app.crypto().encrypt_message(xml, nonce, str(timestamp))
    encrypted = ElementTree.fromstring(envelope).findtext("Encrypt") or ""
    body = (
        "<xml>"
        + _element("ToUserName", app.corp_id)
        + _element("AgentID", app.agent_id)
        + _element("Encrypt", encrypted)
        + "</xml>"
    )
    query = {
        "msg_signature": signature(app.token, str(timestamp), nonce, encrypted),
        "timestamp": str(timestamp),
        "nonce": nonce,
    }
    return SignedCallback(query=query, body=body)


def url_verification(
    app: WecomApp, *, echo: str, timestamp: int, nonce: str | None = None
) -> SignedCallback:
    """The GET WeCom sends when an admin saves the callback URL; `echo` is the expected answer."""
    nonce = nonce or secrets.token_hex(8)
    echostr = PrpCrypto(app.crypto().key).encrypt(echo, app.corp_id).decode()
    query = {
        "msg_signature": signature(app.token, str(timestamp), nonce, echostr),
        "timestamp": str(timestamp),
        "nonce": nonce,
        "echostr": echostr,
    }
    return SignedCallback(query=query)
