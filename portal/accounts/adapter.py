from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    """Every e-mail allauth sends (reset, verification) goes through our outbox, never inline."""

    def send_mail(self, template_prefix, email, context):
        from portal.notifications.services import email_queue

        message = self.render_mail(template_prefix, email, context)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        email_queue(to=email, subject=message.subject, body=message.body, html_body=html)
