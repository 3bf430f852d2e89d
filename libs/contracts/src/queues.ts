/** Every BullMQ queue and job name of the platform, in one place. */
export const QueueNames = {
  /** Harvester: one job per harvest run (scheduled or manual). */
  HarvestRuns: 'harvest-runs',
  /** Catalog publisher: one job per publication push, keyed and debounced by publication. */
  PublicationPushes: 'publication-pushes',
} as const;

export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];

export const JobNames = {
  RunHarvest: 'run-harvest',
  PushPublication: 'push-publication',
} as const;

export type JobName = (typeof JobNames)[keyof typeof JobNames];
