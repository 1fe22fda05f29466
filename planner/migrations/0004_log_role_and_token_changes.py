"""Role changes (Membership) and API token creation/revocation go to the security log.

Database triggers rather than service code, so that every write path (pages, API, admin,
shell, raw SQL) is logged; the actor comes from the audit context of the statement.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION vivolog_security_context_detail() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'by_user_id', ctx -> 'user_id', 'by', ctx -> 'username', 'reason', ctx -> 'reason',
        'request_id', ctx -> 'request_id', 'client', ctx -> 'client'))
    FROM (SELECT NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb AS ctx) c
$$;

CREATE OR REPLACE FUNCTION vivolog_log_membership_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    event_kind text;
    subject bigint;
    detail jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        event_kind := 'role_granted';
        subject := NEW.user_id;
        detail := jsonb_build_object('lab_id', NEW.lab_id, 'role', NEW.role);
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.role IS NOT DISTINCT FROM OLD.role AND NEW.user_id = OLD.user_id
           AND NEW.lab_id = OLD.lab_id THEN
            RETURN NULL;
        END IF;
        event_kind := 'role_changed';
        subject := NEW.user_id;
        detail := jsonb_build_object(
            'lab_id', NEW.lab_id, 'role', NEW.role, 'previous_role', OLD.role);
    ELSE
        event_kind := 'role_revoked';
        subject := OLD.user_id;
        detail := jsonb_build_object('lab_id', OLD.lab_id, 'role', OLD.role);
    END IF;
    INSERT INTO planner_securityevent (kind, user_id, username, ip, created_at, detail)
    VALUES (event_kind, subject,
            coalesce((SELECT username FROM auth_user WHERE id = subject), ''),
            NULL, clock_timestamp(), detail || vivolog_security_context_detail());
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vivolog_log_token_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    event_kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        event_kind := 'token_created';
    ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        event_kind := 'token_revoked';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO planner_securityevent (kind, user_id, username, ip, created_at, detail)
    VALUES (event_kind, NEW.user_id,
            coalesce((SELECT username FROM auth_user WHERE id = NEW.user_id), ''),
            NULL, clock_timestamp(),
            jsonb_build_object('token_id', NEW.id, 'name', NEW.name, 'prefix', NEW.prefix,
                               'expires_at', NEW.expires_at)
            || vivolog_security_context_detail());
    RETURN NULL;
END
$$;

CREATE TRIGGER vivolog_security_membership
    AFTER INSERT OR UPDATE OR DELETE ON planner_membership
    FOR EACH ROW EXECUTE FUNCTION vivolog_log_membership_change();
CREATE TRIGGER vivolog_security_token
    AFTER INSERT OR UPDATE ON planner_personaltoken
    FOR EACH ROW EXECUTE FUNCTION vivolog_log_token_change();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS vivolog_security_membership ON planner_membership;
DROP TRIGGER IF EXISTS vivolog_security_token ON planner_personaltoken;
DROP FUNCTION IF EXISTS vivolog_log_membership_change();
DROP FUNCTION IF EXISTS vivolog_log_token_change();
DROP FUNCTION IF EXISTS vivolog_security_context_detail();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
