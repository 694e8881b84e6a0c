"""history records usernames: entries made through the API stored the user's display name as
who changed a value (updated_by, changed_by, …) where pages stored the username; rewrite each
stored display name to its user's username where exactly one user has that display name and no
user has it as username. Anything else (a name two users share, 演示数据, 命令行：…) is left.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Every column that records who wrote a row.
WHO_COLUMNS = (
    ("actual", "updated_by"),
    ("actual_change", "changed_by"),
    ("spending", "updated_by"),
    ("spending_change", "changed_by"),
    ("evaluation_step", "who"),
    ("evaluation_note", "updated_by"),
    ("import_batch", "imported_by"),
    ("evidence", "uploaded_by"),
)

# Display names that name one user only, and are nobody's username (then the stored value may
# already be that username: which of the two it means cannot be told).
UNAMBIGUOUS = """
    SELECT display_name FROM app_user
    WHERE display_name IS NOT NULL AND display_name NOT IN (SELECT username FROM app_user)
    GROUP BY display_name HAVING count(*) = 1
"""


def upgrade() -> None:
    for table, column in WHO_COLUMNS:
        op.execute(f"""
            UPDATE {table}
            SET {column} = (SELECT u.username FROM app_user u WHERE u.display_name = {table}.{column})
            WHERE {column} IN ({UNAMBIGUOUS})
        """)


def downgrade() -> None:
    """Nothing to undo: a username is as good an answer for the earlier code as a display name."""
