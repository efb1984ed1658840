"""Factories for the shared kernel; each app adds its own below or in its own module."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from portal.accounts.models import Organisation, User

PASSWORD = "partnerzone-test-pass"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Firm {n}")
    kind = Organisation.Kind.BROKER_FIRM


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})
        if extracted:
            # get_or_create: a transactional test before this one may have flushed the role groups.
            self.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in extracted))
            self.__dict__.pop("roles", None)


# --- Profile: a mobile number proven by SMS code (the demo's clients have one; signing needs it) ----------------

from django.utils import timezone  # noqa: E402  (kept with its section for easy merges)


class PhoneVerifiedUserFactory(UserFactory):
    """A user whose mobile number is verified, as signing requires of the person who signs."""

    phone = factory.Sequence(lambda n: f"+49151{n:08d}")
    phone_verified_at = factory.LazyFunction(timezone.now)
