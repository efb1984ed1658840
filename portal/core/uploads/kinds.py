"""The kinds of file the portal accepts, named by content type, extension and label."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    label: str


PDF = FileKind("application/pdf", "pdf", "PDF")
PNG = FileKind("image/png", "png", "PNG")
JPEG = FileKind("image/jpeg", "jpg", "JPEG")
ALL_KINDS = (PDF, PNG, JPEG)
IMAGE_KINDS = (PNG, JPEG)
# What a stored file whose recorded type is none of ours is served as: a download, never shown.
UNKNOWN_KIND = FileKind("application/octet-stream", "bin", "")
