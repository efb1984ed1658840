"""Every action code the code base writes to the audit trail has a human label.

The codes are collected from the source: each call with an `action=` keyword that is a dotted
string (`audit_record(action="client.shared")`, or a helper that passes it on). A code built
with an f-string is expanded through DYNAMIC, which names the values it can take; a new
f-string must be added there, so that no code escapes the check.
"""

import ast
import re
from pathlib import Path

from django.conf import settings

from portal.accounts.models import PhoneVerification
from portal.approvals.models import Approval
from portal.audit.actions import _labels
from signing.models import SigningChallenge
from signing.services import HANDLING_OUTCOMES

ROOT = Path(settings.BASE_DIR)
SKIPPED = {"tests", "migrations", "node_modules", "benchmarks", "scripts", "static", "templates", "locale"}
CODE = r"^[a-z_]+\.[a-z0-9_]+$"

# The prefix of each f-string code and the values its placeholder takes.
DYNAMIC = {
    # challenge_end(): a code round ends used, dead (too many wrong codes), void or expired.
    "signing.challenge_": [s for s in SigningChallenge.Status.values if s != SigningChallenge.Status.ACTIVE],
    # phone_verification._round_end(): a mobile verification round ends verified, expired, dead or void.
    "auth.phone_code_": [s for s in PhoneVerification.Status.values if s != PhoneVerification.Status.ACTIVE],
    # signature_request_handle(): the back office's outcomes.
    "signing.request_": [str(outcome) for outcome in HANDLING_OUTCOMES],
    # approvals.services._finish(): a case ends approved, rejected, withdrawn or expired.
    "approvals.": [s for s in Approval.State.values if s != Approval.State.PENDING],
}


def source_files():
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED or any(p.startswith(".") for p in path.relative_to(ROOT).parts):
            continue
        yield path


def action_codes() -> dict[str, str]:
    """{code: where it is written} for every audit action in the source."""
    found = {}
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                value = keyword.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    if re.match(CODE, value.value):
                        found[value.value] = where
                elif isinstance(value, ast.IfExp):
                    for branch in (value.body, value.orelse):
                        if isinstance(branch, ast.Constant) and re.match(CODE, str(branch.value)):
                            found[branch.value] = where
                elif isinstance(value, ast.JoinedStr):
                    prefix = "".join(str(part.value) for part in value.values if isinstance(part, ast.Constant))
                    assert prefix in DYNAMIC, f"{where}: add the values of the code {prefix}… to DYNAMIC"
                    for suffix in DYNAMIC[prefix]:
                        found[prefix + suffix] = where
    return found


def test_the_collector_finds_the_codes_it_should():
    codes = action_codes()
    # A plain code, one from a conditional, one from an f-string, one passed on through a helper.
    for code in ("client.shared", "signing.code_resent", "signing.challenge_dead", "signing.request_changed"):
        assert code in codes
    assert len(codes) > 50


def test_every_audit_action_in_the_code_base_has_a_label():
    missing = {code: where for code, where in action_codes().items() if code not in _labels}
    assert missing == {}


def test_the_new_labels_read_as_sentences():
    from portal.audit.actions import action_label

    assert str(action_label("client.shared")) == "Client shared with a broker of the firm"
    assert str(action_label("feed.imported")) == "Core system feed imported"
    assert str(action_label("reports.statement_downloaded")) == "Statement downloaded by the client"
    assert str(action_label("signing.signed_pdf_downloaded")) == "Signed PDF downloaded by the client"
