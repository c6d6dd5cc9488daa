"""CSV export of the queue (admins only), safe against spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, request
from flask_login import login_required

from casework import audit, sar
from webhook import queue
from webhook.auth import admin_required
from webhook.inbox.blueprint import bp, me
from webhook.state import state

CSV_FIELDS = [
    "reference",
    "kind",
    "status",
    "channel",
    "created_at",
    "due_date",
    "resolved_at",
    "assignee",
    "sms_unreachable",
    "summary",
    "outcome",
]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must not start with = + - @.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
@login_required
@admin_required
def export_csv() -> Response:
    filters = queue.Filters.from_args(request.args)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    with state().db() as session:
        rows = queue.queue(session, filters, me().id, limit=100_000)
        for t in rows:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        t.reference,
                        t.kind.value,
                        t.status.value,
                        t.channel,
                        t.created_at.isoformat(timespec="seconds"),
                        t.sar.due_on.isoformat() if t.sar and t.sar.due_on else "",
                        t.resolved_at.isoformat(timespec="seconds") if t.resolved_at else "",
                        t.assignee.email if t.assignee else "",
                        t.sms_unreachable,
                        t.summary,
                        t.outcome,
                    )
                ]
            )
        audit.log(session, me().email, "tickets.exported", None, count=len(rows))
    name = f"requests-{sar.today_uk().isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
