from rest_framework import serializers

from portal.accounts.two_factor import session_verified


class OrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    language = serializers.CharField()
    roles = serializers.SerializerMethodField()
    primary_role = serializers.CharField(allow_null=True)
    organisation = OrganisationSerializer(allow_null=True)
    second_factor_verified = serializers.SerializerMethodField()

    def get_roles(self, user) -> list[str]:
        return sorted(user.roles)

    def get_second_factor_verified(self, user) -> bool:
        return session_verified(user)
