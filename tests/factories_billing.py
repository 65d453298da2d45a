"""Helpers for the Xero reconciliation tests: export files written by hand in Xero's
real Sales Invoices and Contacts layouts (FORMATS.md section 1), and mirrored rows."""

from __future__ import annotations

import csv
from pathlib import Path

INVOICE_HEADERS = [
    "ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "InvoiceNumber",
    "Reference",
    "InvoiceDate",
    "DueDate",
    "PlannedDate",
    "Total",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "InventoryItemCode",
    "Description",
    "Quantity",
    "UnitAmount",
    "Discount",
    "LineAmount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "Type",
    "Sent",
    "Status",
]
CONTACT_HEADERS = [
    "*ContactName",
    "AccountNumber",
    "EmailAddress",
    "FirstName",
    "LastName",
    "POAttentionTo",
    "POAddressLine1",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "PhoneNumber",
    "TaxNumber",
    "AccountsReceivableTaxCodeName",
    "LegalName",
]


def line(contact: str, number: str, date: str, amount: str, description: str = "", **extra) -> dict:
    """One export row; `date` as the AU export writes it (DD/MM/YYYY)."""
    return {
        "ContactName": contact,
        "InvoiceNumber": number,
        "InvoiceDate": date,
        "DueDate": date,
        "Description": description,
        "Quantity": "1.0000",
        "UnitAmount": amount,
        "LineAmount": amount,
        "Total": amount,
        "AccountCode": "200",
        "TaxType": "GST on Income",
        "Currency": "AUD",
        "Type": "Sales invoice",
        "Sent": "Sent",
        "Status": "Paid",
        **extra,
    }


def write_invoices(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=INVOICE_HEADERS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def write_contacts(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CONTACT_HEADERS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"*ContactName": row.pop("name"), **row})
    return path
