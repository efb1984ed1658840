"""The texts of a notification, rendered from its event and parameters in the language asked for.

A notification is stored with its event key and parameters (`params.py`), and its texts are rendered
when they are shown: the in-app list in the reader's current language, an e-mail or SMS in the
recipient's language when the worker sends it. The title and body rendered when it was written are
kept too: rows written before parameters were stored, or whose event is gone, show those.
"""

import logging

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from . import registry
from .params import params_thaw

logger = logging.getLogger(__name__)


def user_language(user) -> str:
    """The language the user reads messages in (their stored choice, else the portal's default)."""
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def event_texts(
    *, event: registry.EventType, params: dict, user, link: str, channels, language: str | None = None
) -> dict:
    """Every text of one notification for these channels, rendered in `language` (default: the active one).

    `params` are the stored (frozen) parameters: what is written is rendered from exactly what is kept.
    """
    base_url = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    absolute_link = f"{base_url}{link}" if link else ""
    ctx = {**params_thaw(params), "user": user, "link": absolute_link, "event": event}
    texts = {}
    with translation.override(language or translation.get_language()):
        texts["title"] = " ".join(event.render("title", ctx).splitlines())[:200]
        texts["body"] = event.render("body", ctx)
        if registry.EMAIL in channels:
            try:
                texts["subject"] = " ".join(event.render("subject", ctx).splitlines())[:255]
            except TemplateDoesNotExist:
                texts["subject"] = texts["title"][:255]
            texts["email_body"] = texts["body"] + (f"\n\n{absolute_link}" if absolute_link else "")
            texts["html_body"] = render_to_string(
                "notifications/email/notification.html",
                {"title": texts["title"], "body": texts["body"], "link": absolute_link, "user": user},
            )
        if registry.SMS in channels:
            texts["sms"] = event.render("sms", ctx)
    return texts


def notification_texts(notification) -> tuple[str, str]:
    """(title, body) of an in-app notification in the active language; as written for an old row."""
    if notification.params is None:
        return notification.title, notification.body
    try:
        event = registry.event_get(notification.event)
        texts = event_texts(
            event=event,
            params=notification.params,
            user=notification.user,
            link=notification.link_url,
            channels=(registry.IN_APP,),
        )
    except Exception:  # an event or template gone since: the text as written still reads
        logger.warning("Notification %s: shown as written, its texts could not be rendered", notification.pk)
        return notification.title, notification.body
    return texts["title"], texts["body"]


def outbox_texts_now(message) -> dict | None:
    """An event's e-mail or SMS rendered now in its recipient's language: the fields to store before
    sending, or None for a message that keeps the text it was written with (no event parameters,
    no recipient account, or a sealed secret in it)."""
    if message.params is None or message.user is None or not message.event or message.carries_secret:
        return None
    try:
        event = registry.event_get(message.event)
        channel = registry.EMAIL if message.channel == "email" else registry.SMS
        texts = event_texts(
            event=event,
            params=message.params,
            user=message.user,
            link=message.link_url,
            channels=(channel,),
            language=user_language(message.user),
        )
    except Exception:  # sent as written rather than not at all
        logger.warning("Outbox message %s: sent as written, its texts could not be rendered", message.pk)
        return None
    if channel == registry.SMS:
        return {"body": texts["sms"]}
    return {"subject": texts["subject"], "body": texts["email_body"], "html_body": texts["html_body"]}
