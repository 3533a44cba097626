import { badInput, loadConfig, newId, type EntityManager } from '../../../lib';
import { AttestationStatus, GazeAttestation, GazeSample, REQUIRED_GAZE_CENTISECONDS } from './gaze.entity';

/*
 * Gaze time, measured by the server's clock: a sample counts the pause since the previous sample of
 * its session, in centiseconds. A pause longer than GAZE_MAX_GAP_CENTISECONDS means the eyes left,
 * so that sample starts a new session at 0 cs; a burst of samples sent at once counts ~0. A session
 * that reaches 222 cs is verified for ATTESTATION_TTL_SECONDS and is complete: the next sample starts
 * a new one. One account's samples go one at a time (an advisory lock), so none is counted twice.
 */

export interface GazeValues {
  gazeX: number;
  gazeY: number;
  cogValue: number;
  emoValue: number;
  envValue: number;
  confidence: number;
}

const FIELDS: Record<keyof GazeValues, string> = {
  gazeX: 'gaze_x',
  gazeY: 'gaze_y',
  cogValue: 'cog_value',
  emoValue: 'emo_value',
  envValue: 'env_value',
  confidence: 'confidence',
};

/** Every value must be a finite number from 0 to 1 (screen coordinates normalised, tensor, confidence). */
export function checkGazeValues(values: GazeValues): GazeValues {
  for (const [name, column] of Object.entries(FIELDS) as [keyof GazeValues, string][]) {
    const value = values[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
      throw badInput(`${column} must be a number from 0 to 1`, { field: name });
  }
  return values;
}

interface AttestationRow {
  id: string;
  progress_cs: number;
  sample_count: number;
  verified_at: Date | null;
  expires_at: Date | null;
  expired: boolean;
}

const asAttestation = (row: AttestationRow | undefined, status: AttestationStatus): GazeAttestation => ({
  id: row?.id ?? null,
  status,
  progressCs: row?.progress_cs ?? 0,
  requiredCs: REQUIRED_GAZE_CENTISECONDS,
  sampleCount: row?.sample_count ?? 0,
  verifiedAt: row?.verified_at ? new Date(row.verified_at) : null,
  expiresAt: row?.expires_at ? new Date(row.expires_at) : null,
});

const COLUMNS = `"id", "progress_cs", "sample_count", "verified_at", "expires_at",
  coalesce("expires_at" <= now(), false) as "expired"`;

/** Stores one sample in its session (continuing the open one or starting another) and counts its time. */
export async function storeGazeSample(
  em: EntityManager,
  accountId: string,
  values: GazeValues,
): Promise<{ sample: GazeSample; attestation: GazeAttestation }> {
  checkGazeValues(values);
  const { GAZE_MAX_GAP_CENTISECONDS: maxGap, ATTESTATION_TTL_SECONDS: ttl } = loadConfig();
  return em.fork().transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`gaze:${accountId}`]);
    const [open] = await tx.execute<{ id: string; gap_cs: number }[]>(
      `select "id", floor(extract(epoch from now() - "last_sample_at") * 100)::int as "gap_cs"
         from "accounts"."gaze_attestation"
        where "account_id" = ? and "verified_at" is null
          and "created_at" = (select max("created_at") from "accounts"."gaze_attestation" where "account_id" = ?)`,
      [accountId, accountId],
    );
    const continues = open && open.gap_cs <= maxGap;
    const countedCs = continues ? Math.max(0, open.gap_cs) : 0;
    const [row] = continues
      ? await tx.execute<AttestationRow[]>(
          `update "accounts"."gaze_attestation" set "progress_cs" = "progress_cs" + ?,
             "sample_count" = "sample_count" + 1, "last_sample_at" = now(),
             "verified_at" = case when "progress_cs" + ? >= ? then now() end,
             "expires_at" = case when "progress_cs" + ? >= ? then now() + make_interval(secs => ?) end
           where "id" = ? returning ${COLUMNS}`,
          [
            countedCs,
            countedCs,
            REQUIRED_GAZE_CENTISECONDS,
            countedCs,
            REQUIRED_GAZE_CENTISECONDS,
            ttl,
            open.id,
          ],
        )
      : await tx.execute<AttestationRow[]>(
          `insert into "accounts"."gaze_attestation" ("id", "account_id", "sample_count", "last_sample_at")
           values (?, ?, 1, now()) returning ${COLUMNS}`,
          [newId('att'), accountId],
        );
    const sample = tx.create(GazeSample, {
      ...values,
      accountId,
      attestationId: row!.id,
      countedCs,
      createdAt: new Date(),
    });
    await tx.flush();
    const status = row!.verified_at ? AttestationStatus.VERIFIED : AttestationStatus.PENDING;
    return { sample, attestation: asAttestation(row, status) };
  });
}

/**
 * An account's attestation: its latest verification while unexpired (VERIFIED), else its latest
 * session (PENDING while gathering, EXPIRED when that session's verification ran out).
 */
export async function attestationOf(em: EntityManager, accountId: string): Promise<GazeAttestation> {
  const [verified] = await em.execute<AttestationRow[]>(
    `select ${COLUMNS} from "accounts"."gaze_attestation"
      where "account_id" = ? and "expires_at" > now() order by "verified_at" desc limit 1`,
    [accountId],
  );
  if (verified) return asAttestation(verified, AttestationStatus.VERIFIED);
  const [latest] = await em.execute<AttestationRow[]>(
    `select ${COLUMNS} from "accounts"."gaze_attestation"
      where "account_id" = ? order by "created_at" desc limit 1`,
    [accountId],
  );
  return asAttestation(latest, latest?.expired ? AttestationStatus.EXPIRED : AttestationStatus.PENDING);
}
