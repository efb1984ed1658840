from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThreadsConfig(AppConfig):
    """Message threads attached to any object; who may read one is the owning app's decision."""

    name = "portal.threads"
    label = "threads"
    verbose_name = _("Messages")

    def ready(self):
        from portal.audit.actions import register_actions
        from portal.evidence.registry import register_evidence_section
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from .evidence import thread_evidence_section
        from .services import EVENT_MESSAGE

        register_event(
            EVENT_MESSAGE,
            _("New message in a conversation"),
            default_channels={IN_APP, EMAIL},
            description=_("Someone wrote to you in a conversation about a client or a case."),
        )
        register_actions(
            {
                "threads.message_posted": _("Message written"),
                "threads.note_added": _("Internal note written"),
            }
        )
        register_evidence_section("thread", thread_evidence_section, order=60)
