from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from signing.pdf import Verification, signed_pdf_verify


class Command(BaseCommand):
    help = "Check a signed PDF against the stored evidence; exits non-zero unless it is intact."

    def add_arguments(self, parser):
        parser.add_argument("pdf", type=Path, help="the signed PDF to check")

    def handle(self, *args, pdf: Path, **options):
        try:
            data = pdf.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {pdf}: {exc.strerror or exc}") from None
        result = signed_pdf_verify(data)
        self.stdout.write(f"File SHA-256: {result.sha256}")
        if result.request is not None:
            self.stdout.write(
                f"Request: {result.request.short_reference} {result.request.uuid} “{result.request.title}”"
            )
        if result.evidence is not None:
            self.stdout.write(
                f"Signed by {result.evidence.signer_name} <{result.evidence.signer_email}> at "
                f"{result.evidence.signed_at.isoformat()}; content hash {result.evidence.content_hash}"
            )
        if result.outcome == Verification.INTACT:
            self.stdout.write(
                self.style.SUCCESS("INTACT: this is the signed PDF the portal issued; the evidence matches.")
            )
            return
        if result.outcome == Verification.TAMPERED:
            raise CommandError(
                f"TAMPERED: this file names request {result.request.short_reference} but differs from the issued PDF "
                f"(issued SHA-256 {result.evidence.pdf_sha256})."
            )
        if result.outcome == Verification.MISMATCH:
            raise CommandError(f"EVIDENCE MISMATCH: the stored records no longer match: {', '.join(result.problems)}.")
        raise CommandError("UNKNOWN: this is not a signed PDF issued by the portal.")
