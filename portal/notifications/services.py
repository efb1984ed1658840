# Placeholder while notifications are being written in this session.
def email_queue(*, to, subject, body, html_body=""):
    raise RuntimeError("not yet")
