"""Running the app as a PostgreSQL role that does not own the tables (docs/database-roles.md).

The owner role runs migrations; the app role gets ordinary read and write rights on every table
but only SELECT and INSERT on the audit trail (its events and the patients they list). Not owning
the tables, it cannot drop or disable the append-only triggers, alter the tables, or TRUNCATE them.
"""

from __future__ import annotations

from django.db import connection

from dermis.web.clinic.audit_triggers import TABLES as AUDIT_TABLES


def app_role_grants(role: str) -> list[str]:
    """The statements the owner runs (after every migration) to let `role` run the app."""
    q = connection.ops.quote_name
    database = q(connection.settings_dict["NAME"])
    role = q(role)
    return [
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {q(table)} FROM {role}" for table in AUDIT_TABLES),
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
