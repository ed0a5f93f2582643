// The host's audit log (table audit_events, append-only): staff actions and security alerts.
//
// Written in the transaction of the action it records. Alerts raised by requests that failed
// authentication are throttled per kind and subject (one row per window): whoever can send requests
// must not be able to grow the database at will. Requests from no known identity are not recorded
// at all, for the same reason (they go to the server log only).
import type { Sql } from './host-database.js';

export type AuditSeverity = 'info' | 'alert';

export interface AuditEventInput {
  /** Dotted lower-case name, e.g. `terminal.registered`, `auth.replay`. */
  kind: string;
  severity: AuditSeverity;
  /** Who acted or sent the request: `staff:<token id>`, `terminal:<id>`, `cli`. */
  actor: string;
  /** What it concerns (a terminal ID, a token ID, a CRL number). */
  subject?: string;
  detail?: Record<string, unknown>;
}

export interface AuditEvent {
  eventId: bigint;
  at: Date;
  kind: string;
  severity: AuditSeverity;
  actor: string;
  subject: string | null;
  detail: Record<string, unknown>;
}

export const ALERT_THROTTLE_SECONDS = 60;

export async function appendAuditEvent(sql: Sql, event: AuditEventInput): Promise<void> {
  await sql.query(
    `INSERT INTO audit_events (kind, severity, actor, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
    [event.kind, event.severity, event.actor, event.subject ?? null, event.detail ?? {}],
  );
}

/**
 * Records the alert unless one of the same kind and subject was recorded within the last
 * `windowSeconds`; returns whether it was recorded. (Two host instances may each record one in the
 * same window: the bound is per instance, which is enough.)
 */
export async function appendThrottledAlert(
  sql: Sql,
  event: Omit<AuditEventInput, 'severity'>,
  windowSeconds = ALERT_THROTTLE_SECONDS,
): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO audit_events (kind, severity, actor, subject, detail)
     SELECT $1::text, 'alert', $2::text, $3::text, $4::jsonb
      WHERE NOT EXISTS (SELECT 1 FROM audit_events
                         WHERE kind = $1 AND subject IS NOT DISTINCT FROM $3
                           AND at > now() - make_interval(secs => $5::double precision))
     RETURNING event_id`,
    [event.kind, event.actor, event.subject ?? null, event.detail ?? {}, windowSeconds],
  );
  return rows.length === 1;
}

export class AuditLog {
  constructor(private readonly db: Sql) {}

  /** Events after `afterId` (exclusive), oldest first. */
  async list(options: { afterId?: bigint; limit?: number; kind?: string } = {}): Promise<AuditEvent[]> {
    const rows = await this.db.query<{
      event_id: bigint;
      at: Date;
      kind: string;
      severity: AuditSeverity;
      actor: string;
      subject: string | null;
      detail: Record<string, unknown>;
    }>(
      `SELECT event_id, at, kind, severity, actor, subject, detail FROM audit_events
        WHERE event_id > $1 AND ($2::text IS NULL OR kind = $2)
        ORDER BY event_id LIMIT $3`,
      [options.afterId ?? 0n, options.kind ?? null, options.limit ?? 100],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      at: r.at,
      kind: r.kind,
      severity: r.severity,
      actor: r.actor,
      subject: r.subject,
      detail: r.detail,
    }));
  }
}
