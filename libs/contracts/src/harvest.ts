/**
 * Harvest source settings shared by the coordinator (which validates them) and
 * the harvester (which schedules runs from them).
 */

/** Named schedules and the cron pattern each stands for (minute hour day-of-month month day-of-week). */
export const HARVEST_SCHEDULE_PRESETS = {
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 1',
  monthly: '0 0 1 * *',
} as const;

export type HarvestSchedulePreset = keyof typeof HARVEST_SCHEDULE_PRESETS;

/** The cron pattern of a stored schedule (a preset name or a cron expression); null when runs are manual only. */
export function harvestCronPattern(schedule: string | null | undefined): string | null {
  if (!schedule) return null;
  return (HARVEST_SCHEDULE_PRESETS as Record<string, string>)[schedule] ?? schedule;
}

export type HarvestMode = 'metadata' | 'data';

export type HarvestRunStatus = 'queued' | 'running' | 'done' | 'done-with-errors' | 'failed';

/** Outcomes counted in a run report (every one is a key of `counts`). */
export const HARVEST_OUTCOMES = ['added', 'updated', 'unchanged', 'deleted', 'skipped', 'failed'] as const;

export type HarvestOutcome = (typeof HARVEST_OUTCOMES)[number] | 'kept';

/** Data of a BullMQ harvest job: a scheduled run has no run id yet, a requested one has. */
export interface HarvestJobData {
  harvestSourceId: string;
  runId?: string;
}
