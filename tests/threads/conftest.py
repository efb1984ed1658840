"""A small book for the thread tests: broker1 (Alpha) advises Anna (login client1) and Bert (login
client2); broker3 (Beta) advises Carla, who has no login. Files land in a temporary MEDIA_ROOT."""

from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.models import Client
from tests.signing.conftest import pdf_bytes, png_bytes


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def book(cast):
    cast.broker1.first_name, cast.broker1.last_name = "Boris", "Brandt"
    cast.broker1.save()
    cast.client1.first_name, cast.client1.last_name = "Anna", "Albers"
    cast.client1.save()
    return SimpleNamespace(
        anna=Client.objects.create(
            number="C1001", first_name="Anna", last_name="Albers", advisor=cast.broker1, user=cast.client1
        ),
        bert=Client.objects.create(
            number="C1002", first_name="Bert", last_name="Brandt", advisor=cast.broker1, user=cast.client2
        ),
        carla=Client.objects.create(number="C3001", first_name="Carla", last_name="Conrad", advisor=cast.broker3),
    )


def pdf_upload(name: str = "statement.pdf", text: str = "Statement") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def thread_url(obj, name: str = "messages", *args) -> str:
    content_type = ContentType.objects.get_for_model(obj)
    return reverse(f"threads:{name}", args=[content_type.pk, obj.pk, *args])
