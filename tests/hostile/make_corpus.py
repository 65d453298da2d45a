"""Writes the hostile-file corpus: files an attacker or a broken export could hand the
imports (legacy stores and ticket files). `python -m tests.hostile.make_corpus DIR`.

Each file is small to write (workbooks are built by hand with zipfile, so a far-away cell
or a lying dimension costs bytes, not memory) but is made to exhaust memory or time, or to
reach a traceback, in a reader that trusts it. `tests/test_hostile_corpus.py` imports every
file in a separate process and checks each is refused or imported, with no traceback and
a bounded peak RSS.
"""

from __future__ import annotations

import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

MASTER = ["Client ID", "Client Name", "Product", "Seats", "Start Date", "Renewal Date", "Annual Value"]
MASTER += ["Website", "Email", "Phone", "Primary Contact"]
GOOD = ["CC901", "Hostile Test Pty Ltd", "DataVault", "10", "1/07/2025", "1/07/2026", "$9,000"]
GOOD += ["https://hostile.example", "ops@hostile.example", "08 9000 1234", "Pat Hostile"]
TICKETS = ["Ticket ID", "Subject", "Status", "Priority", "Created time", "Last update time", "Company Name"]
TICKET = ["9001", "Printer on fire", "Open", "High", "2025-07-02 08:14:05", "2025-07-02 09:00:00", "Hostile"]

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)


def column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def cell(ref: str, value: object, prefix: str = "") -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<{prefix}c r="{ref}"><{prefix}v>{value}</{prefix}v></{prefix}c>'
    return f'<{prefix}c r="{ref}" t="inlineStr"><{prefix}is><{prefix}t>{value}</{prefix}t></{prefix}is></{prefix}c>'


def row_xml(number: int, values: list, prefix: str = "") -> str:
    cells = "".join(
        cell(f"{column(i)}{number}", escape(str(v)) if isinstance(v, str) else v, prefix) for i, v in enumerate(values)
    )
    return f'<{prefix}row r="{number}">{cells}</{prefix}row>'


def sheet_xml(rows: list[list], *, dimension: str = "", extra_rows: str = "", prefix: str = "") -> str:
    body = "".join(row_xml(n, values, prefix) for n, values in enumerate(rows, 1)) + extra_rows
    dim = f'<{prefix}dimension ref="{dimension}"/>' if dimension else ""
    xmlns = f'xmlns:{prefix[:-1]}="{NS}"' if prefix else f'xmlns="{NS}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{prefix}worksheet {xmlns} xmlns:r="{REL_NS}">'
        f"{dim}<{prefix}sheetData>{body}</{prefix}sheetData></{prefix}worksheet>"
    )


def workbook_xml(sheets: int = 1) -> str:
    items = "".join(f'<sheet name="Sheet{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, sheets + 1))
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
        f"<sheets>{items}</sheets></workbook>"
    )


def workbook_rels(targets: list[str]) -> str:
    items = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="{escape(target, {chr(34): "&quot;"})}"/>'
        for n, target in enumerate(targets, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{items}</Relationships>'
    )


def write_xlsx(
    path: Path,
    sheet: str | bytes,
    *,
    target: str = "worksheets/sheet1.xml",
    part: str = "",
    workbook: str | None = None,
    rels: str | None = None,
    extra: dict[str, str | bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> None:
    part = part or "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook or workbook_xml())
        archive.writestr("xl/_rels/workbook.xml.rels", rels or workbook_rels([target]))
        archive.writestr(part, sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> None:
    import csv

    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)


def with_good(field: str, value: object, headers: list[str] = MASTER, good: list[str] = GOOD) -> list[list]:
    row = list(good)
    row[headers.index(field)] = value
    return [headers, row]


# --- The corpus ---------------------------------------------------------------------------

BAD_VALUES: list[tuple[str, str, object]] = [
    ("long_name", "Client Name", "N" * 300),
    ("huge_name", "Client Name", "Huge " * 20_000),  # 100,000 characters
    ("javascript_website", "Website", "javascript:alert(document.cookie)"),
    ("data_website", "Website", "data:text/html,<script>alert(1)</script>"),
    ("bad_email", "Email", "not an email@@example"),
    ("bad_phone", "Phone", "+++###+++" * 5),
    ("negative_seats", "Seats", "-5"),
    ("absurd_seats", "Seats", "1000000000000"),
    ("absurd_value", "Annual Value", "$1e30"),
    ("nan_value", "Annual Value", "NaN"),
    ("inf_value", "Annual Value", "inf"),
    ("far_year", "Renewal Date", "1/07/99999"),
    ("zero_date", "Renewal Date", "0/0/0"),
    ("huge_serial", "Renewal Date", "99999999999"),
    ("formula_name", "Client Name", "=cmd|' /C calc'!A0"),
    ("plus_formula", "Client Name", "+1+1"),
    ("at_formula", "Client Name", "@SUM(A1)"),
    ("crlf_name", "Client Name", "Acme\r\nBcc: everyone@example.com"),
    ("control_name", "Client Name", "Acme\x07\x1b[31m Pty Ltd"),
    ("rtl_name", "Client Name", "Acme \u202egnp.exe"),
    ("bad_code", "Client ID", "CC" + "9" * 40),
    ("sql_name", "Client Name", "Robert'); DROP TABLE customers_account;--"),
    ("emoji_name", "Client Name", "\U0001f4a5" * 500),
    ("long_contact", "Primary Contact", "P" * 5000),
    ("long_email", "Email", "a" * 300 + "@example.com"),
]


def build(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []

    def add(name: str, writer: Callable[[Path], None]) -> None:
        path = directory / name
        writer(path)
        made.append(path)

    good_rows = [MASTER, GOOD]
    # Values that must become rejected rows (or clean imports), in CSV and in a workbook.
    for name, field, value in BAD_VALUES:
        rows = with_good(field, value)
        add(f"value_{name}.csv", lambda p, rows=rows: write_csv(p, rows))
        xml_safe = [[v.replace("\x07", "").replace("\x1b", "") if isinstance(v, str) else v for v in r] for r in rows]
        add(f"value_{name}.xlsx", lambda p, rows=xml_safe: write_xlsx(p, sheet_xml(rows)))

    # Sheets that declare or reach far-away dimensions.
    for name, ref in [
        ("xfd1048576", "XFD1048576"),
        ("a1048576", "A1048576"),
        ("xfd1", "XFD1"),
        ("zz200000", "ZZ200000"),
        ("aaa50000", "AAA50000"),
    ]:
        far = f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">{cell(ref, "far")}</row>'
        add(f"far_cell_{name}.xlsx", lambda p, far=far: write_xlsx(p, sheet_xml(good_rows, extra_rows=far)))
    for name, dim in [
        ("full", "A1:XFD1048576"),
        ("rows", "A1:K1048576"),
        ("cols", "A1:XFD2"),
        ("garbage", "A1:ZZZZ99999999999"),
        ("reversed", "XFD1048576:A1"),
    ]:
        add(f"dimension_{name}.xlsx", lambda p, dim=dim: write_xlsx(p, sheet_xml(good_rows, dimension=dim)))
    add(
        "row_number_overflow.xlsx",
        lambda p: write_xlsx(
            p, sheet_xml(good_rows, extra_rows=f'<row r="99999999999">{cell("A99999999999", "x")}</row>')
        ),
    )
    add(
        "cell_ref_zero.xlsx",
        lambda p: write_xlsx(p, sheet_xml(good_rows, extra_rows=f'<row r="3">{cell("A0", "x")}</row>')),
    )
    add(
        "rows_out_of_order.xlsx",
        lambda p: write_xlsx(p, sheet_xml([], extra_rows=row_xml(2, GOOD) + row_xml(1, MASTER) + row_xml(2, GOOD))),
    )

    # Relationship targets that leave the workbook or name nothing.
    for name, target in [
        ("dotdot", "../worksheets/sheet1.xml"),
        ("dot", "./worksheets/sheet1.xml"),
        ("absolute", "/xl/worksheets/sheet1.xml"),
        ("backslash", "worksheets\\sheet1.xml"),
        ("escape", "../../../../etc/passwd"),
        ("root_escape", "/etc/passwd"),
        ("missing", "worksheets/nothing.xml"),
        ("empty", ""),
        ("url", "http://evil.example/s.xml"),
        ("self", "workbook.xml"),
    ]:
        add(f"rel_target_{name}.xlsx", lambda p, target=target: write_xlsx(p, sheet_xml(good_rows), target=target))
    add(
        "rel_target_dotdot_real.xlsx",
        lambda p: write_xlsx(p, sheet_xml(good_rows), target="../xl/worksheets/sheet1.xml"),
    )

    # Damaged archives.
    def bad_crc(path: Path, member: str) -> None:
        write_xlsx(path, sheet_xml(good_rows), compression=zipfile.ZIP_STORED)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
        start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
        data[start] = ord("#") if data[start] != ord("#") else ord("$")
        path.write_bytes(bytes(data))

    add("bad_crc_sheet.xlsx", lambda p: bad_crc(p, "xl/worksheets/sheet1.xml"))
    add("bad_crc_workbook.xlsx", lambda p: bad_crc(p, "xl/workbook.xml"))
    add("bad_crc_rels.xlsx", lambda p: bad_crc(p, "xl/_rels/workbook.xml.rels"))

    def truncated(path: Path, keep: float) -> None:
        write_xlsx(path, sheet_xml(good_rows * 50))
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    add("truncated_half.xlsx", lambda p: truncated(p, 0.5))
    add("truncated_end.xlsx", lambda p: truncated(p, 0.97))
    add("zip_without_workbook.xlsx", lambda p: zipfile.ZipFile(p, "w").writestr("hello.txt", "hi"))
    add("workbook_without_rels.xlsx", lambda p: _without(p, "xl/_rels/workbook.xml.rels"))
    add("workbook_without_sheet.xlsx", lambda p: _without(p, "xl/worksheets/sheet1.xml"))

    def zip_bomb(path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES)
            archive.writestr("xl/workbook.xml", workbook_xml())
            archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(["worksheets/sheet1.xml"]))
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                member.write(sheet_xml(good_rows).encode()[:-30])
                block = b" " * (1 << 20)
                for _ in range(60):
                    member.write(block)

    add("zip_bomb.xlsx", zip_bomb)
    add(
        "many_parts.xlsx",
        lambda p: write_xlsx(p, sheet_xml(good_rows), extra={f"xl/media/x{n}.bin": b"" for n in range(2500)}),
    )
    add(
        "many_sheets.xlsx",
        lambda p: write_xlsx(
            p, sheet_xml(good_rows), workbook=workbook_xml(400), rels=workbook_rels(["worksheets/sheet1.xml"] * 400)
        ),
    )

    # Cells that hide things.
    nul_rows = [MASTER, [*GOOD[:1], "Nul_x0000_ Pty_x0000_ Ltd", *GOOD[2:]]]
    add("nul_escaped.xlsx", lambda p: write_xlsx(p, sheet_xml(nul_rows)))
    add("nul_entity.xlsx", lambda p: write_xlsx(p, sheet_xml(good_rows).replace("Hostile Test", "Hostile&#0;Test")))
    add("nul_raw_xml.xlsx", lambda p: write_xlsx(p, sheet_xml(good_rows).replace("Hostile Test", "Hostile\x00Test")))
    add(
        "nul_raw.csv",
        lambda p: p.write_bytes(
            b"Client ID,Client Name,Renewal Date,Annual Value\r\nCC901,Nul\x00 Pty Ltd,1/07/2026,$9000\r\n"
        ),
    )
    formula = row_xml(2, GOOD[:6]).replace("</row>", '<c r="G2"><f>SUM(A1:A2)</f></c></row>')
    add("formula_without_value.xlsx", lambda p: write_xlsx(p, sheet_xml([MASTER], extra_rows=formula)))
    prefixed = row_xml(2, GOOD[:6], "x:").replace("</x:row>", '<x:c r="G2"><x:f>SUM(A1:A2)</x:f></x:c></x:row>')
    add("prefixed_formula.xlsx", lambda p: write_xlsx(p, sheet_xml([MASTER], extra_rows=prefixed, prefix="x:")))
    add("prefixed_sheet.xlsx", lambda p: write_xlsx(p, sheet_xml(good_rows, prefix="x:")))
    prefixed_value = prefixed.replace("<x:f>SUM(A1:A2)</x:f>", "<x:f>SUM(A1:A2)</x:f><x:v>9000</x:v>")
    add(
        "prefixed_formula_with_value.xlsx",
        lambda p: write_xlsx(p, sheet_xml([MASTER], extra_rows=prefixed_value, prefix="x:")),
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
        + "]>"
    )
    add(
        "billion_laughs_sheet.xlsx",
        lambda p: write_xlsx(p, laughs + sheet_xml(good_rows).split("?>", 1)[1].replace("Hostile Test", "&lol9;")),
    )
    add(
        "billion_laughs_workbook.xlsx",
        lambda p: write_xlsx(
            p,
            sheet_xml(good_rows),
            workbook=laughs + workbook_xml().split("?>", 1)[1].replace('name="Sheet1"', 'name="&lol9;"'),
        ),
    )
    add(
        "billion_laughs_rels.xlsx",
        lambda p: write_xlsx(
            p,
            sheet_xml(good_rows),
            rels=laughs
            + workbook_rels(["worksheets/sheet1.xml"])
            .split("?>", 1)[1]
            .replace('Target="worksheets', 'Target="&lol9;worksheets'),
        ),
    )
    add(
        "external_entity.xlsx",
        lambda p: write_xlsx(
            p,
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + sheet_xml(good_rows).split("?>", 1)[1].replace("Hostile Test", "&e;"),
        ),
    )
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sst xmlns="{NS}" count="2000000000" uniqueCount="2000000000"><si><t>x</t></si></sst>'
    )
    add(
        "shared_strings_count.xlsx",
        lambda p: write_xlsx(p, sheet_xml(good_rows), extra={"xl/sharedStrings.xml": shared}),
    )
    add("huge_cell.xlsx", lambda p: write_xlsx(p, sheet_xml(with_good("Client Name", "x" * 2_000_000))))
    add(
        "deep_xml.xlsx",
        lambda p: write_xlsx(
            p, sheet_xml(good_rows).replace("<sheetData>", "<sheetData>" + "<a>" * 100_000 + "</a>" * 100_000)
        ),
    )
    add("not_xml_sheet.xlsx", lambda p: write_xlsx(p, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10))
    add(
        "utf16_sheet.xlsx",
        lambda p: write_xlsx(p, sheet_xml(good_rows).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")),
    )

    # Size: rows, columns, cell length.
    add("rows_200001.csv", lambda p: _many_rows_csv(p, 200_001))
    add("rows_400000_tickets.csv", lambda p: _many_rows_csv(p, 400_000, tickets=True))
    add("rows_200100.xlsx", lambda p: _many_rows_xlsx(p, 200_100))
    add(
        "columns_20000.csv",
        lambda p: write_csv(p, [MASTER + [f"Extra {n}" for n in range(20_000)], GOOD + ["x"] * 20_000]),
    )
    add("columns_16384.xlsx", lambda p: write_xlsx(p, sheet_xml([MASTER + [f"E{n}" for n in range(16_000)], GOOD])))
    add("cell_200k.csv", lambda p: write_csv(p, with_good("Client Name", "y" * 200_000)))
    add(
        "empty_lines_300k.csv", lambda p: p.write_text(",".join(MASTER) + "\n" + "\n" * 300_000 + ",".join(GOOD) + "\n")
    )
    add("one_line_10mb.csv", lambda p: p.write_text(",".join(MASTER) + "\n" + "z" * 10_000_000))
    add("unclosed_quote.csv", lambda p: p.write_text(",".join(MASTER) + '\n"CC901,' + "q" * 1_000_000 + "\n"))

    # Not what they claim to be.
    add("pdf.csv", lambda p: p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 100))
    add("elf.xlsx", lambda p: p.write_bytes(b"\x7fELF" + bytes(4096)))
    add("gzip.csv", lambda p: p.write_bytes(zlib.compress(b"x" * 100_000)))
    add("ole_xls.xlsx", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)))
    add("empty.csv", lambda p: p.write_bytes(b""))
    add("empty.xlsx", lambda p: p.write_bytes(b""))
    add("bom_only.csv", lambda p: p.write_bytes(b"\xef\xbb\xbf"))
    add("random_bytes.csv", lambda p: p.write_bytes(bytes((n * 7919) % 251 + 1 for n in range(50_000))))
    add("utf16.csv", lambda p: write_csv(p, good_rows, encoding="utf-16"))
    add(
        "mixed_encoding.csv",
        lambda p: p.write_bytes(
            (",".join(MASTER) + "\n" + ",".join(GOOD) + "\n").encode() * 2000
            + "Caf\xe9,x\n".encode("cp1252")
            + ",".join(GOOD).encode()
            + b"\n"
        ),
    )
    add("html_table.csv", lambda p: p.write_text("<html><table><tr><td>Client Name</td></tr></table></html>"))
    add("header_only.csv", lambda p: write_csv(p, [MASTER]))
    add("header_only.xlsx", lambda p: write_xlsx(p, sheet_xml([MASTER])))
    add("no_known_header.csv", lambda p: write_csv(p, [["a", "b", "c"], ["1", "2", "3"]]))
    add("header_row_40.xlsx", lambda p: write_xlsx(p, sheet_xml([["title"]] * 40 + good_rows)))
    add("duplicate_headers.csv", lambda p: write_csv(p, [MASTER + MASTER, GOOD + GOOD]))
    add("crlf_inside_quoted.csv", lambda p: write_csv(p, with_good("Client Name", "Two\nLines\rPty Ltd")))
    add(
        "tickets_bad_values.csv",
        lambda p: write_csv(
            p,
            [
                TICKETS,
                TICKET,
                ["9002\x00", "x" * 10_000, "EXPLODED", "Ultra", "yesterday", "", '=HYPERLINK("http://evil")'],
                [{"a": 1}, "", "", "", "", "", ""],
            ],
        ),
    )
    add(
        "tickets_far_cell.xlsx",
        lambda p: write_xlsx(
            p,
            sheet_xml(
                [["Ticket ID", "Client code", "Logged", "Issue", "Status"], ["7", "CC901", "2/07/2025", "x", "Open"]],
                extra_rows=f'<row r="1048576">{cell("XFD1048576", "far")}</row>',
            ),
        ),
    )
    add(
        "tickets_dimension.xlsx",
        lambda p: write_xlsx(
            p, sheet_xml([["Ticket ID", "Client code", "Logged", "Issue", "Status"]], dimension="A1:XFD1048576")
        ),
    )
    add(
        "tickets_rows_200100.xlsx",
        lambda p: _many_rows_xlsx(p, 200_100, headers=["Ticket ID", "Client code", "Logged", "Issue", "Status"]),
    )
    return made


def _without(path: Path, member: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        for name, data in (
            ("xl/workbook.xml", workbook_xml()),
            ("xl/_rels/workbook.xml.rels", workbook_rels(["worksheets/sheet1.xml"])),
            ("xl/worksheets/sheet1.xml", sheet_xml([MASTER, GOOD])),
        ):
            if name != member:
                archive.writestr(name, data)


def _many_rows_csv(path: Path, rows: int, *, tickets: bool = False) -> None:
    with open(path, "w", newline="") as handle:
        if tickets:
            handle.write(",".join(TICKETS) + "\n")
            line = ",".join(TICKET[1:]) + "\n"
            handle.writelines(f"{n}," + line for n in range(rows))
        else:
            handle.write(",".join(MASTER) + "\n")
            line = ",".join(GOOD[1:]).replace("$9,000", "9000") + "\n"
            handle.writelines(f"CC{n}," + line for n in range(rows))


def _many_rows_xlsx(path: Path, rows: int, headers: list[str] = MASTER) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml())
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(["worksheets/sheet1.xml"]))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(sheet_xml([headers]).split("</sheetData>")[0].encode())
            for n in range(2, rows + 2):
                member.write(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>'.encode())
            member.write(b"</sheetData></worksheet>")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    files = build(target)
    print(f"{len(files)} hostile files in {target}")
