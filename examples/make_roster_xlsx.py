"""Build `roster.xlsx` (sheets 教师 and 学生) from `teachers.csv` and `students.csv` next to it.

The CSVs are the source; run `python examples/make_roster_xlsx.py` after editing them so the
two example formats keep the same content. Digit-only cells (学号, phones) are written as
numbers, the way they end up when someone types them into Excel.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SHEETS = {"教师": "teachers.csv", "学生": "students.csv"}


def cell(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def main() -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, file_name in SHEETS.items():
        sheet = workbook.create_sheet(title)
        with (HERE / file_name).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                sheet.append([cell(text) for text in row])
    workbook.save(HERE / "roster.xlsx")
    print(f"wrote {HERE / 'roster.xlsx'}")


if __name__ == "__main__":
    main()
