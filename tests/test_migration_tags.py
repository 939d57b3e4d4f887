"""The data migration that writes the special type 智障 as the respectful 智力障碍."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from models.db.engine import Database
from models.db.migrate import upgrade


async def test_students_tagged_the_old_way_are_tagged_with_the_respectful_words(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    await asyncio.to_thread(upgrade, url, "0016")
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO school (id, name, timezone, year_start_month, year_start_day, demo) VALUES (1, '测试小学', 'Asia/Shanghai', 9, 1, false)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO school_class (id, school_id, grade, number, name) VALUES (1, 1, 3, 2, '三(2)班')"
                )
            )
            for number, tags in (("1", "贫困,智障"), ("2", "留守"), ("3", "智障")):
                await connection.execute(
                    text(
                        "INSERT INTO student (school_id, student_no, name, class_id, tags, active)"
                        " VALUES (1, :no, '学生', 1, :tags, true)"
                    ),
                    {"no": number, "tags": tags},
                )
        await asyncio.to_thread(upgrade, url, "0017")
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT student_no, tags FROM student ORDER BY student_no")
            )
            assert rows.all() == [("1", "贫困,智力障碍"), ("2", "留守"), ("3", "智力障碍")]
    finally:
        await db.dispose()
