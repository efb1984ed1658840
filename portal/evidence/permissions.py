"""Who may reach an evidence pack: its requester; and whoever the case's kind lets build one.

The second half is the owning app's rule (`EvidenceKind.can_build`), decided on the case itself, so
it cannot be a filter: the policy here holds the requester's half, for lists and admin, and
`selectors.evidence_pack_access` adds the kind's decision for one pack.
"""

from django.db.models import Q

from portal.core.policy import Policy, register_policy

from .models import EvidencePack
from .registry import evidence_kind_for


class EvidencePackPolicy(Policy):
    model = EvidencePack
    actions = ("view",)

    def scope(self, actor, action):
        return Q(requested_by_id=actor.pk)


packs = register_policy(EvidencePackPolicy())


def can_build_for(actor, obj) -> bool:
    """Whether `actor` may build (and read) the evidence of `obj`: its kind's rule; no kind, nobody."""
    if obj is None or actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    kind = evidence_kind_for(type(obj))
    return bool(kind is not None and kind.can_build(actor, obj))
