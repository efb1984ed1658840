"""Audit every login, logout, failed login and role change, however it happened (page, admin, shell).

And forget the cached signed-in user (`backends.py`) whenever what it holds changes: the user
row, their groups, a group's name, their second-factor devices.
"""

from allauth.account.signals import password_changed, password_reset
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django_otp.models import Device

from portal.audit import context
from portal.audit.services import audit_record

from .backends import signed_in_forget

User = get_user_model()


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, obj=user)


@receiver(user_logged_in)
def record_session(sender, request, user, **kwargs):
    """The new session joins the user's list of active sessions (profile, "sign out everywhere else")."""
    from .user_sessions import user_session_record

    if request is not None and hasattr(request, "session"):
        user_session_record(request=request, user=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, obj=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    login = str(credentials.get("email") or credentials.get("username") or "")[:254]
    user = User.objects.filter(email__iexact=login).first() if login else None
    audit_record(
        action="auth.login_failed",
        actor=None,
        obj=user,
        actor_label=login,
        changes={"login": login},
    )


@receiver(m2m_changed, sender=User.groups.through)
def audit_role_change(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if reverse:
        # group.user_set.add(...): instance is the group, pk_set the users.
        users = User.objects.filter(pk__in=pk_set or [])
        groups = [instance.name]
    else:
        users = [instance]
        groups = list(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
        if action == "pre_clear":
            groups = list(instance.groups.values_list("name", flat=True))
    if not groups:
        return
    verb = "added" if action == "post_add" else "removed"
    actor = context.current_actor()
    for user in users:
        user.forget_cached_state()
        audit_record(action="auth.roles_changed", actor=actor, obj=user, changes={verb: sorted(groups)})


@receiver(m2m_changed, sender=User.groups.through)
def forget_signed_in_on_role_change(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if not reverse:
        signed_in_forget(instance.pk)
    elif action in {"pre_clear", "post_clear"}:
        for user_id in instance.user_set.values_list("pk", flat=True):
            signed_in_forget(user_id)
    else:
        for user_id in pk_set or ():
            signed_in_forget(user_id)


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def forget_signed_in_user(sender, instance, **kwargs):
    signed_in_forget(instance.pk)


@receiver(post_save, sender=Group)
def forget_signed_in_on_group_rename(sender, instance, created, **kwargs):
    if not created:  # a renamed group changes its members' roles
        for user_id in instance.user_set.values_list("pk", flat=True):
            signed_in_forget(user_id)


def forget_signed_in_on_device_change(sender, instance, **kwargs):
    signed_in_forget(instance.user_id)


def connect_device_receivers() -> None:
    """Every installed kind of second-factor device (TOTP, recovery codes, any added later)."""
    for model in apps.get_models():
        if issubclass(model, Device):
            post_save.connect(forget_signed_in_on_device_change, sender=model, dispatch_uid=f"signed-in:{model}")
            post_delete.connect(forget_signed_in_on_device_change, sender=model, dispatch_uid=f"signed-in-d:{model}")


@receiver(password_changed)
@receiver(password_reset)
def notify_password_changed(sender, request, user, **kwargs):
    from portal.notifications.services import notify

    audit_record(action="auth.password_changed", actor=user, obj=user)
    notify(user=user, event="security.password_changed")
