"""Admin building blocks shared by the apps."""

from django.contrib import admin

from .policy import policy_for


class RestrictedAdmin(admin.ModelAdmin):
    """The change list and every object page through the model's policy (portal.core.policy).

    Staff reach in admin exactly what the policy lets them see elsewhere: an object outside it is
    not listed and its page answers 404 (admin fetches objects through `get_queryset`).
    """

    policy_action = "view"

    def get_queryset(self, request):
        return policy_for(self.model).restrict(super().get_queryset(request), request.user, self.policy_action)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services, imports or tasks: staff read them in admin and never edit them there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
