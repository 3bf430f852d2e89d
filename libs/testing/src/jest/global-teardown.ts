import { INFRA_ENV, TestInfrastructure } from '../infrastructure';
import { dropDatabase } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const encoded = process.env[INFRA_ENV];
  if (encoded) {
    const infrastructure = JSON.parse(encoded) as TestInfrastructure;
    await dropDatabase(infrastructure.databaseUrl, infrastructure.templateDatabase).catch(() => undefined);
  }
  const containers = (globalThis as { __odbContainers?: Array<{ stop(): Promise<unknown> }> }).__odbContainers;
  if (containers) await Promise.all(containers.map((container) => container.stop()));
}
