"""The marketing suppression list for staff: look a contact up, export the current list.

`GET /api/suppressions?channel=email&contact=...` (bearer token or inbox session, as
/api/tickets): is that contact suppressed for that channel, since when, under which
reference, and which uses it has withdrawn consent for. `GET /inbox/suppressions.csv`
(admins): every current suppression with the contact, for the teams that run the
mailing systems. Lookups and exports are audited
without the contact itself.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user, login_required

from casework import audit, suppressions
from casework.pseudonym import pseudonym_secret
from casework.sar import today_uk
from webhook.api import _unauthorised
from webhook.auth import admin_required, api_user
from webhook.errors import error_response
from webhook.inbox import _cell
from webhook.state import state

bp = Blueprint("suppressions", __name__, url_prefix="/api/suppressions")
admin_bp = Blueprint("suppressions_admin", __name__, url_prefix="/inbox")

MAX_CONTACT = 300
CSV_FIELDS = ("channel", "contact", "since", "reference", "source", "contact_key")


@bp.get("")
def check() -> Any:
    user = api_user()
    if user is None:
        return _unauthorised()
    channel = request.args.get("channel", "").strip().lower()
    contact = request.args.get("contact", "")[:MAX_CONTACT]
    st = state()
    with st.db() as session:
        try:
            result = suppressions.status(
                session,
                org=st.org.id,
                channel=channel,
                contact=contact,
                secret=pseudonym_secret(st.settings),
            )
        except suppressions.InvalidContact as error:
            return error_response(400, str(error).capitalize() + ".")
        audit.log(
            session,
            user.email,
            "suppressions.checked",
            result["reference"],
            channel=channel,
            suppressed=result["suppressed"],
        )
    return jsonify(result)


@admin_bp.get("/suppressions.csv")
@login_required
@admin_required
def export_csv() -> Response:
    st = state()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    with st.db() as session:
        rows = suppressions.current(session, st.org.id)
        for row in rows:
            writer.writerow([_cell(row[field]) for field in CSV_FIELDS])
        audit.log(session, current_user.email, "suppressions.exported", None, count=len(rows))
    name = f"suppressions-{st.org.id}-{today_uk().isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
