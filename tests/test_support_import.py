"""Importing the helpdesk's ticket exports and the triage sheet: all or nothing, one
mirror row per ticket whichever way it arrives."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from customers.choices import AliasKind
from customers.models import AccountAlias
from support_bridge import services
from support_bridge.choices import TicketSource, TicketStatus
from support_bridge.models import RiskScore, Ticket
from tests.factories import AccountFactory, ContactFactory
from tests.factories_support import SECRET, TicketFactory, event_body, post_event, sample

pytestmark = pytest.mark.django_db

FRESHDESK_HEADERS = [
    "Ticket ID", "Subject", "Status", "Priority", "Created time", "Resolved time", "Last update time",
    "Resolution time (in hrs)", "Tags", "Survey results", "Product", "Full name", "Email", "Company Name",
    "Client code",
]  # fmt: skip


def freshdesk_csv(rows: list[list[str]], *, headers=FRESHDESK_HEADERS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def row(ticket_id="2001", code="CC009", *, subject="VPN down", status="Open", priority="High", **extra) -> list[str]:
    values = {
        "created": "2026-10-01 09:00:00",
        "resolved": "",
        "updated": "2026-10-01 09:00:00",
        "hours": "",
        "tags": "vpn",
        "survey": "",
        "product": "",
        "name": "Helen Marsh",
        "email": "helen.marsh@meridianhealth.example",
        "company": "Meridian Health",
        **extra,
    }
    return [
        ticket_id, subject, status, priority, values["created"], values["resolved"], values["updated"],
        values["hours"], values["tags"], values["survey"], values["product"], values["name"], values["email"],
        values["company"], code,
    ]  # fmt: skip


@pytest.fixture
def meridian():
    account = AccountFactory(number=9, code="CC009", legal_name="Meridian Health Partners Pty Ltd")
    ContactFactory(account=account, email="Helen.Marsh@meridianhealth.example")
    return account


def run(data: bytes, name: str = "tickets.csv", **kwargs) -> services.ImportResult:
    return services.import_tickets(data=data, name=name, actor=None, reason="Test import", **kwargs)


def test_a_freshdesk_export_with_client_codes_imports_every_ticket(meridian):
    result = run(
        freshdesk_csv(
            [
                row("2001"),
                row("2002", status="Resolved", resolved="2026-10-02 12:30:00", hours="27:30:00", survey="Not Good"),
            ]
        )
    )

    assert result.ok and (result.created, result.updated) == (2, 0), result.summary()
    solved = Ticket.objects.get(external_id="2002")
    assert (solved.account, solved.source, solved.status) == (meridian, TicketSource.FRESHDESK, TicketStatus.SOLVED)
    assert solved.resolution_hours == Decimal("27.50")
    assert solved.satisfaction == 0
    assert solved.contact.email == "Helen.Marsh@meridianhealth.example"  # matched ignoring case
    assert solved.opened_at == dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)  # Perth local time, UTC+8
    assert solved.history.get().history_change_reason == "Test import (tickets.csv)"


def test_the_shared_freshdesk_sample_imports_by_company_name():
    acme = AccountFactory(legal_name="Acme Pty Ltd")
    bluegum = AccountFactory(legal_name="Bluegum Logistics Pty Ltd")
    swan = AccountFactory(legal_name="Swan River Dental Group Pty Ltd")
    AccountAlias.objects.create(account=swan, value="Swan River Dental P/L")

    result = run(sample("freshdesk_tickets_export.csv"), name="freshdesk_tickets_export.csv")

    assert result.ok, [reason for _, reason in result.rejected]
    assert result.kind == "freshdesk" and result.created == 4
    assert dict(Ticket.objects.values_list("external_id", "account")) == {
        "1042": acme.pk,
        "1043": acme.pk,  # "ACME" normalises to the same name
        "1047": bluegum.pk,
        "1051": swan.pk,  # through the alias
    }
    backup = Ticket.objects.get(external_id="1047")
    assert backup.subject == 'Backup job failed - warehouse NAS ("VSS error 0x80042306")'
    assert (backup.priority, backup.satisfaction, backup.resolution_hours) == ("urgent", 0, Decimal("6.42"))
    assert Ticket.objects.get(external_id="1042").satisfaction == 10  # "Awesome"


def test_importing_the_same_export_twice_counts_each_ticket_once(meridian):
    data = freshdesk_csv([row("2001"), row("2002")])
    run(data)
    again = run(data)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Ticket.objects.count() == 2


def test_a_newer_export_updates_the_ticket_and_an_older_one_does_not(meridian):
    run(freshdesk_csv([row("2001", status="Open", updated="2026-10-01 09:00:00")]))
    run(freshdesk_csv([row("2001", status="Closed", updated="2026-10-03 09:00:00", resolved="2026-10-03 09:00:00")]))
    run(freshdesk_csv([row("2001", status="Pending", updated="2026-10-02 09:00:00")]))

    assert Ticket.objects.get().status == TicketStatus.CLOSED


def test_a_missing_required_column_imports_nothing_and_names_the_column(meridian):
    headers = [h for h in FRESHDESK_HEADERS if h != "Created time"]
    rows = [[v for h, v in zip(FRESHDESK_HEADERS, row(), strict=True) if h != "Created time"]]
    result = run(freshdesk_csv(rows, headers=headers))

    assert not result.ok
    assert result.missing_columns == ["Created time"]
    assert "missing column(s) Created time" in result.summary()
    assert not Ticket.objects.exists()


def test_one_bad_row_imports_nothing_and_reports_every_rejected_row_with_its_reason(meridian):
    result = run(
        freshdesk_csv(
            [
                row("2001"),
                row("2002", priority="Critical"),
                row("2003", created="next Tuesday"),
                row("2004", code="CC999"),
                row("2001", subject="Same id again"),
            ]
        )
    )

    assert not result.ok
    assert not Ticket.objects.exists()
    report = list(csv.reader(io.StringIO(result.rejected_csv().decode("utf-8-sig"))))
    assert report[0] == ["Row", *FRESHDESK_HEADERS, "Reason"]
    reasons = {line[1]: line[-1] for line in report[1:]}
    assert reasons == {
        "2002": "Unknown priority “Critical”.",
        "2003": "The opened time “next Tuesday” is not a date and time.",
        "2004": "No client CC999.",
        "2001": "Ticket 2001 is also on row 2.",
    }
    assert [line[0] for line in report[1:]] == ["3", "4", "5", "6"]


def test_a_company_name_matching_two_clients_is_rejected_not_guessed():
    AccountFactory(legal_name="Acme Pty Ltd")
    AccountFactory(legal_name="ACME")
    result = run(freshdesk_csv([row("2001", code="", company="Acme")]))

    assert [reason for _, reason in result.rejected] == ["No client code, and “Acme” names 2 clients."]
    assert not Ticket.objects.exists()


def test_a_windows_1252_export_is_decoded(meridian):
    subject = "Caf\u00e9 Wi-Fi \u2013 can\u2019t connect"  # é, en dash, curly apostrophe: all in cp1252
    data = freshdesk_csv([row("2001", subject=subject, name="Ren\u00e9e O'Brien")], encoding="cp1252")
    assert data.decode("cp1252").count(subject) == 1
    assert run(data).ok
    assert Ticket.objects.get().subject == subject


def test_a_dry_run_counts_but_writes_nothing(meridian):
    result = run(freshdesk_csv([row("2001")]), dry_run=True)
    assert (result.ok, result.created, result.dry_run) == (True, 1, True)
    assert "would import 1 row(s)" in result.summary()
    assert not Ticket.objects.exists()


ZENDESK_HEADERS = ["Id", "Subject", "Status", "Priority", "Created at", "Updated at", "Solved at", "Organization"]


def test_a_csv_export_and_a_webhook_for_the_same_ticket_make_one_ticket(client, settings):
    settings.SUPPORT_WEBHOOK_SECRETS = [SECRET]
    bluegum = AccountFactory(legal_name="Bluegum Logistics Pty Ltd")
    AccountAlias.objects.create(account=bluegum, kind=AliasKind.HELPDESK_ORG, value="9500000000444")
    post_event(client, sample("zendesk_webhook_ticket_created.body.json"))
    export = [
        ["35436", "Backup job failed - warehouse NAS", "solved", "high", "2025-08-12T06:55:00Z",
         "2025-08-12T13:20:19Z", "2025-08-12T13:20:19Z", "Bluegum Logistics"],
    ]  # fmt: skip

    result = run(freshdesk_csv(export, headers=ZENDESK_HEADERS), name="zendesk-export.csv")

    assert result.ok and result.kind == "zendesk" and result.updated == 1, result.summary()
    ticket = Ticket.objects.get()
    assert (ticket.external_id, ticket.status, ticket.account) == ("35436", TicketStatus.SOLVED, bluegum)
    # And the webhook's later redelivery of the older "created" event changes nothing.
    post_event(client, sample("zendesk_webhook_ticket_created.body.json").replace(b"0a4f7e6c", b"1a4f7e6c"))
    assert Ticket.objects.get().status == TicketStatus.SOLVED


def triage_xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Triage"
    sheet.append(["Support triage - week 47"])  # a title row above the header, as people do
    sheet.append(
        ["Ticket ID", "Client code", "Client", "Logged", "Issue", "Product", "Priority", "Status", "Hours", "CSAT"]
    )
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_triage_sheet_fills_gaps_in_helpdesk_tickets_and_adds_the_rest(meridian, client, settings):
    helpdesk = TicketFactory(account=meridian, external_id="2734", satisfaction=None)
    data = triage_xlsx(
        [
            [2734, "CC009", "Meridian Health", dt.datetime(2026, 11, 14, 9, 30), "Backup again", "", "High", "Open",
             None, 2],
            [3001, "cc009", "Meridian Health", dt.datetime(2026, 11, 20, 8, 0), "Phones down", "", "Urgent",
             "Resolved", 4.5, 3],
        ]
    )  # fmt: skip

    result = run(data, name="triage.xlsx")

    assert result.ok and result.kind == "triage" and (result.created, result.updated) == (1, 1), result.summary()
    helpdesk.refresh_from_db()
    assert helpdesk.satisfaction == 2 and helpdesk.source == TicketSource.ZENDESK
    assert helpdesk.subject != "Backup again"  # the helpdesk stays the authority on what it knows
    triage = Ticket.objects.get(external_id="3001")
    assert (triage.source, triage.status, triage.resolution_hours) == ("triage_sheet", "solved", Decimal("4.50"))

    # When the helpdesk later sends ticket 3001 itself, it takes over the triage row.
    settings.SUPPORT_WEBHOOK_SECRETS = [SECRET]
    post_event(
        client,
        event_body(
            event_id="e-3001", ticket_id="3001", external_id="CC009", status="CLOSED", updated=dt.datetime.now(dt.UTC)
        ),
    )
    assert Ticket.objects.filter(external_id="3001").count() == 1
    assert Ticket.objects.get(external_id="3001").source == TicketSource.ZENDESK


def test_the_import_command_writes_rejected_rows_beside_the_file(meridian, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(freshdesk_csv([row("2001"), row("2002", status="")]))

    with pytest.raises(CommandError, match="1 of 2 row"):
        call_command("import_tickets", str(path), "--source", "freshdesk", stdout=io.StringIO())

    report = (tmp_path / "export.csv.rejected.csv").read_text(encoding="utf-8-sig")
    assert "Status is empty." in report
    assert not Ticket.objects.exists()


def test_the_import_command_imports_a_good_file(meridian, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(freshdesk_csv([row("2001")]))
    out = io.StringIO()
    call_command("import_tickets", str(path), stdout=out)
    assert "imported 1 row(s): 1 new ticket(s)" in out.getvalue()
    assert Ticket.objects.count() == 1


def test_an_import_rescores_the_clients_it_touched(meridian, django_capture_on_commit_callbacks):
    data = (
        b"Ticket ID,Subject,Status,Priority,Created time,Client code\r\n"
        b"9001,VPN down,Open,Urgent,2026-11-01 09:00:00,CC009\r\n"
    )
    RiskScore.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_tickets(data=data, name="t.csv", actor=None, reason="Test").ok
    assert RiskScore.objects.filter(account=meridian).exists()
