"""Turn a queued evidence pack into a ZIP: claim it, collect the case, render the summary, store.

A worker claims the pack with a conditional update (queued → building), so two workers never build
the same pack and a ready one is left alone; progress and a heartbeat are committed step by step for
the page to show. A build that ends in an error gives its claim back (building → queued), so that
the task's retry can take it at once; a permanent failure is recorded by the task's `on_failure`
(`evidence_pack_fail`). Only the first finished build stores its file and writes the audit event.

The ZIP holds:
- `summary.pdf` — the kind's summary rows, each section as a table, the documents with their SHA-256;
- `<section.key>.csv` — one per section with something to say (`audit_events.csv` always);
- `documents/<name>` — every document of the kind and every file of a section;
- `manifest.json` and `manifest.csv` — every other file's path, size and SHA-256.

Access is checked again here with the requester's rights today: a case they may no longer build
evidence for is not built.
"""

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.pdf import pdf_from_html

from .models import EvidencePack
from .permissions import can_build_for
from .registry import EvidenceFile, EvidenceKind, EvidenceSection, evidence_kind_for, evidence_sections
from .sections import timestamp

MANIFESTS = ("manifest.json", "manifest.csv")


class EvidenceRefused(Exception):
    """The case is gone, or the requester may no longer build its evidence."""


@dataclass(frozen=True)
class PackEntry:
    path: str
    content: bytes
    description: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def evidence_pack_claim(pack_id: int) -> bool:
    now = timezone.now()
    return bool(
        EvidencePack.objects.filter(pk=pack_id, state=EvidencePack.State.QUEUED).update(
            state=EvidencePack.State.BUILDING, progress=5, heartbeat_at=now, error=""
        )
    )


def evidence_pack_release(pack_id: int) -> None:
    """Give a claim back after a failed attempt: queued again, for the task's retry."""
    EvidencePack.objects.filter(pk=pack_id, state=EvidencePack.State.BUILDING).update(
        state=EvidencePack.State.QUEUED, progress=0
    )


def evidence_pack_build(pack_id: int) -> EvidencePack | None:
    """Build one pack if it is still to do; returns it, or None when it is done or another worker has it."""
    if not evidence_pack_claim(pack_id):
        return None
    try:
        return _build_claimed(pack_id)
    except Exception:
        # The claim goes back before the error reaches the task: a retry can take the pack at once,
        # and a permanent failure is recorded by the task's on_failure.
        evidence_pack_release(pack_id)
        raise


def evidence_pack_fail(pack_id: int, message: str) -> None:
    """Mark a pack failed with the reason (never a ready one), with its audit event."""
    with transaction.atomic():
        failed = (
            EvidencePack.objects.filter(pk=pack_id)
            .exclude(state=EvidencePack.State.READY)
            .update(state=EvidencePack.State.FAILED, error=message[:300], finished_at=timezone.now())
        )
        if failed:
            pack = EvidencePack.objects.select_related("content_type").get(pk=pack_id)
            audit_record(
                action="evidence.pack_failed", obj=pack, actor_label="system", changes={"error": message[:300]}
            )


def _build_claimed(pack_id: int) -> EvidencePack:
    pack = EvidencePack.objects.select_related("requested_by", "content_type").get(pk=pack_id)
    try:
        case, kind = _case_of(pack)
    except EvidenceRefused as refused:
        evidence_pack_fail(pack_id, str(refused))
        return EvidencePack.objects.get(pk=pack_id)
    with translation.override(pack.language):
        entries = pack_entries(pack, kind, case, progress=lambda percent: _progress(pack_id, percent))
    data = zip_bytes(entries)
    _progress(pack_id, 95)
    storage = EvidencePack.file.field.storage
    name = storage.save(EvidencePack.file.field.generate_filename(pack, pack.download_name), ContentFile(data))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        done = EvidencePack.objects.filter(pk=pack_id, state=EvidencePack.State.BUILDING, file="").update(
            state=EvidencePack.State.READY,
            progress=100,
            file=name,
            sha256=digest,
            size=len(data),
            finished_at=timezone.now(),
            error="",
        )
        if done:
            audit_record(
                action="evidence.pack_built",
                obj=pack,
                actor_label="system",
                changes={"sha256": digest, "bytes": len(data), "files": len(entries)},
            )
    if not done:
        storage.delete(name)
    return EvidencePack.objects.get(pk=pack_id)


def _case_of(pack: EvidencePack) -> tuple[object, EvidenceKind]:
    model = pack.content_type.model_class()
    kind = evidence_kind_for(model) if model is not None else None
    if kind is None:
        raise EvidenceRefused(_("This kind of case no longer has evidence packs."))
    case = model._default_manager.filter(pk=pack.object_id).first()
    if case is None:
        raise EvidenceRefused(_("The case no longer exists."))
    if not can_build_for(pack.requested_by, case):
        raise EvidenceRefused(_("The requester may no longer build the evidence of this case."))
    return case, kind


def pack_entries(pack: EvidencePack, kind: EvidenceKind, case, *, progress=lambda percent: None) -> list[PackEntry]:
    """Every file of the ZIP in its order: summary, section tables, documents, manifests."""
    summary = [(str(label), _cell(value)) for label, value in kind.summary(case)]
    progress(15)
    providers = evidence_sections()
    sections: list[EvidenceSection] = []
    for number, provider in enumerate(providers, start=1):
        section = provider.build(case)
        if section is not None:
            sections.append(section)
        progress(15 + 30 * number // max(len(providers), 1))
    documents = _documents([*kind.documents(case), *(f for s in sections for f in s.files)])
    progress(60)
    tables = [PackEntry(f"{s.key}.csv", csv_bytes(s.columns, s.rows), str(s.title)) for s in sections]
    html = render_to_string(
        "evidence/pdf/summary.html",
        {
            "LANGUAGE_CODE": pack.language,
            "pack": pack,
            "kind": kind,
            "case": case,
            "summary": summary,
            "sections": [_section_table(s) for s in sections],
            "documents": documents,
            "built_at": timestamp(timezone.now()),
            "requested_at": timestamp(pack.created_at),
        },
    )
    pdf = PackEntry("summary.pdf", pdf_from_html(html, identifier=f"evidence-pack-{pack.pk}".encode()), _("Summary"))
    progress(80)
    entries = [pdf, *tables, *documents]
    return [*entries, *_manifests(pack, kind, case, entries)]


def _section_table(section: EvidenceSection) -> dict:
    """A section as the PDF lays it out: its cells as text and each column's share of the page width.

    A column's share follows the length of its cells (within bounds), so a long JSON of changes
    does not squeeze the time and the actor into a letter a line.
    """
    rows = [[_cell(value) for value in row] for row in section.rows]
    weights = []
    for index, column in enumerate(section.columns):
        lengths = [len(str(column))] + [len(row[index]) for row in rows if index < len(row)]
        # Short values (a time, an address) get room for the longest of them on one line.
        weights.append(min(max(sum(lengths) / len(lengths), min(max(lengths), 26), 8), 40))
    total = sum(weights) or 1
    return {
        "section": section,
        "rows": rows,
        "widths": [round(100 * weight / total, 1) for weight in weights],
        "file": f"{section.key}.csv",
    }


def _manifests(pack, kind, case, entries: list[PackEntry]) -> list[PackEntry]:
    files = [
        {"path": e.path, "size": len(e.content), "sha256": e.sha256, "description": str(e.description)} for e in entries
    ]
    manifest = {
        "pack": pack.pk,
        "kind": str(kind.label),
        "case": {"type": case._meta.label_lower, "id": case.pk, "title": str(case)},
        "requested_by": pack.requested_by.email,
        "requested_at": timestamp(pack.created_at),
        "built_at": timestamp(timezone.now()),
        "algorithm": "SHA-256",
        "files": files,
    }
    as_json = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    as_csv = csv_bytes(
        [_("Path"), _("Size (bytes)"), "SHA-256", _("Description")],
        [[f["path"], f["size"], f["sha256"], f["description"]] for f in files],
    )
    return [PackEntry("manifest.json", as_json, _("Manifest")), PackEntry("manifest.csv", as_csv, _("Manifest"))]


def _documents(files: list[EvidenceFile]) -> list[PackEntry]:
    """Each file under `documents/` with a safe name, made unique where two files share one."""
    taken: set[str] = set()
    documents = []
    for file in files:
        name = _safe_name(file.name)
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        candidate, counter = name, 2
        while candidate.lower() in taken:
            candidate = f"{stem}-{counter}{'.' + extension if dot else ''}"
            counter += 1
        taken.add(candidate.lower())
        documents.append(PackEntry(f"documents/{candidate}", file.content, str(file.description)))
    return documents


def _safe_name(name: str) -> str:
    """A file name without a path, control characters or a leading dot; never empty."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = re.sub(r"[\x00-\x1f\x7f:*?\"<>|]", "_", base).strip().lstrip(".")
    return base[:150] or "document"


def csv_bytes(columns, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c) for c in columns])
    for row in rows:
        writer.writerow([_spreadsheet_safe(_cell(value)) for value in row])
    # With a byte order mark, so that a spreadsheet opens umlauts and Cyrillic as written.
    return ("\ufeff" + buffer.getvalue()).encode()


def _spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula (`=`, `+`, `@`, a `-` not of a number) starts with a quote."""
    if text and (text[0] in "=+@\t\r" or (text[0] == "-" and not re.fullmatch(r"-[\d.,]+", text))):
        return "'" + text
    return text


def zip_bytes(entries: list[PackEntry]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            archive.writestr(entry.path, entry.content)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timestamp(value)
    return str(value)


def _progress(pack_id: int, percent: int) -> None:
    """Committed at once: the page shows it."""
    EvidencePack.objects.filter(pk=pack_id, state=EvidencePack.State.BUILDING).update(
        progress=percent, heartbeat_at=timezone.now()
    )
