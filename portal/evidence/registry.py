"""What an evidence pack is made of, contributed by the apps and kernel parts that know it.

Two registries, filled in `AppConfig.ready()` so the evidence pack never imports an app:

- **kinds** — the cases staff may download a pack for. The owning app says who may (its policy),
  what the summary says, which documents belong, and which related objects' audit events count:

      register_evidence_kind(
          SignatureRequest,
          label=_("Signed request"),
          can_build=lambda actor, obj: policy.has(actor, obj, "handle"),
          summary=lambda obj: [(_("Client"), obj.recipient_name), ...],
          documents=lambda obj: [EvidenceFile("signed.pdf", obj.signed_pdf.read(), _("Signed PDF"))],
          related=lambda obj: [obj.evidence],
      )

- **sections** — what every pack carries whatever the case: the audit events (the evidence app's own),
  the approvals, the message thread. Each returns an `EvidenceSection` for the object, or None when
  it has nothing to say (no approval was ever asked for this case).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvidenceFile:
    """A document in the pack: stored under `documents/`, listed in the manifest with its SHA-256."""

    name: str
    content: bytes
    description: str = ""


@dataclass(frozen=True)
class EvidenceSection:
    """One part of a pack: a table (`<key>.csv` in the ZIP and a table in the PDF summary), plus files."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    files: list[EvidenceFile] = field(default_factory=list)
    # Said under the table in the summary, e.g. "Internal notes are marked as such".
    note: str = ""


@dataclass(frozen=True)
class EvidenceKind:
    model: type
    label: str
    can_build: Callable  # (actor, obj) -> bool: the owning app's policy
    summary: Callable  # (obj) -> list[(label, value)]: what happened, who, when, from where
    documents: Callable = lambda obj: []  # (obj) -> list[EvidenceFile]
    related: Callable = lambda obj: []  # (obj) -> list of objects whose audit events belong to the case


@dataclass(frozen=True)
class SectionProvider:
    key: str
    build: Callable  # (obj) -> EvidenceSection | None
    order: int = 50


_kinds: dict[type, EvidenceKind] = {}
_sections: dict[str, SectionProvider] = {}


def register_evidence_kind(model, *, label, can_build, summary, documents=None, related=None) -> EvidenceKind:
    kind = EvidenceKind(
        model=model,
        label=label,
        can_build=can_build,
        summary=summary,
        documents=documents or (lambda obj: []),
        related=related or (lambda obj: []),
    )
    _kinds[model] = kind
    return kind


def evidence_kind_for(model) -> EvidenceKind | None:
    return _kinds.get(model)


def evidence_kinds() -> Iterable[EvidenceKind]:
    return _kinds.values()


def register_evidence_section(key: str, build: Callable, *, order: int = 50) -> SectionProvider:
    """Add a section to every pack (registering the same key again replaces it: reloads, tests)."""
    provider = SectionProvider(key=key, build=build, order=order)
    _sections[key] = provider
    return provider


def evidence_sections() -> list[SectionProvider]:
    return sorted(_sections.values(), key=lambda p: (p.order, p.key))
