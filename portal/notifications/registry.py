"""Event types that can notify a user, registered by the apps that emit them.

An app calls `register_event(...)` in its AppConfig.ready() and ships the texts as templates
under `notifications/events/<key>/`: `title.txt` (in-app title), `body.txt` (in-app and
e-mail text), `subject.txt` (e-mail subject, falls back to the title) and, only if the
event may go out by SMS, `sms.txt`. Templates are rendered without HTML escaping: they are
plain text.
"""

import functools
import re
from dataclasses import dataclass, field

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context, Engine, TemplateDoesNotExist, engines
from django.utils.translation import gettext_lazy as _

IN_APP = "in_app"
EMAIL = "email"
SMS = "sms"
CHANNELS = (IN_APP, EMAIL, SMS)
CHANNEL_LABELS = {IN_APP: _("In the portal"), EMAIL: _("E-mail"), SMS: _("SMS")}
# The texts an event can have (templates under notifications/events/<key>/<part>.txt).
PARTS = ("title", "body", "subject", "sms")

_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


class UnknownEvent(LookupError):
    """Nobody registered this event type."""


@dataclass(frozen=True)
class EventType:
    key: str
    label: str
    default_channels: frozenset = field(default_factory=lambda: frozenset({IN_APP, EMAIL}))
    description: str = ""
    # Channels the user cannot switch off (e.g. the e-mail telling them their password changed).
    required_channels: frozenset = field(default_factory=frozenset)
    # False hides the event from the preference page; the defaults then always apply.
    configurable: bool = True
    # The roles that can receive it; empty: anyone. A user only sets preferences for their events.
    roles: frozenset = field(default_factory=frozenset)

    def concerns(self, user) -> bool:
        return not self.roles or bool(self.roles & user.roles)

    def template_name(self, part: str) -> str:
        return f"notifications/events/{self.key}/{part}.txt"

    @property
    def supports_sms(self) -> bool:
        return _template_exists(self.template_name("sms"))

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this event can use at all."""
        return tuple(c for c in CHANNELS if c != SMS or self.supports_sms)

    def render(self, part: str, context: dict) -> str:
        """Render one text of this event; the caller picks the language (translation.override)."""
        template = _text_engine().get_template(self.template_name(part))
        return template.render(Context(context, autoescape=False)).strip()

    def sources(self) -> tuple[str, ...]:
        """The source of each text this event has (what a notification must keep to render them again)."""
        return _template_sources(tuple(self.template_name(part) for part in PARTS))


_events: dict[str, EventType] = {}


def register_event(
    key: str,
    label: str,
    default_channels=frozenset({IN_APP, EMAIL}),
    *,
    description: str = "",
    required_channels=frozenset(),
    configurable: bool = True,
    roles=frozenset(),
) -> EventType:
    """Make an event type known. Registering the same key again replaces it (reloads, tests)."""
    if not _KEY_RE.match(key):
        raise ValueError(f"Event keys look like 'area.name', got {key!r}.")
    default_channels = frozenset(default_channels)
    required_channels = frozenset(required_channels)
    unknown = (default_channels | required_channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"Unknown channels for {key}: {sorted(unknown)}")
    event = EventType(
        key=key,
        label=label,
        default_channels=default_channels | required_channels,
        description=description,
        required_channels=required_channels,
        configurable=configurable,
        roles=frozenset(roles),
    )
    _events[key] = event
    return event


def event_get(key: str) -> EventType:
    try:
        return _events[key]
    except KeyError:
        raise UnknownEvent(key) from None


def event_list(*, configurable_only: bool = False) -> list[EventType]:
    events = sorted(_events.values(), key=lambda e: e.key)
    return [e for e in events if e.configurable or not configurable_only]


@functools.cache
def _text_engine() -> Engine:
    """The project's template directories, but without autoescaping: these texts are not HTML."""
    default = engines["django"].engine
    return Engine(dirs=default.dirs, app_dirs=default.app_dirs, libraries=default.libraries, autoescape=False)


@functools.cache
def _template_sources(names: tuple[str, ...]) -> tuple[str, ...]:
    sources = []
    for name in names:
        try:
            sources.append(_text_engine().get_template(name).source)
        except TemplateDoesNotExist:
            continue
    return tuple(sources)


@functools.cache
def _template_exists(name: str) -> bool:
    try:
        _text_engine().get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


@receiver(setting_changed)
def _forget_templates(*, setting, **kwargs):
    """Tests that change TEMPLATES get an engine that sees their directories."""
    if setting == "TEMPLATES":
        _text_engine.cache_clear()
        _template_exists.cache_clear()
        _template_sources.cache_clear()
