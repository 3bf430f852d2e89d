import type { INestApplication } from '@nestjs/common';
import { ServiceConfig, StartServiceOptions, createService } from '@odb/platform';

export interface InProcessService<C extends ServiceConfig> {
  app: INestApplication;
  config: C;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The API base, e.g. http://127.0.0.1:41234/v1 */
  api: string;
  close(): Promise<void>;
}

/**
 * Runs a service inside the test process, configured from `env` exactly as
 * its main.ts would be, listening on a free port.
 */
export async function startInProcess<C extends ServiceConfig>(
  service: StartServiceOptions<C>,
  env: Record<string, string>,
): Promise<InProcessService<C>> {
  const config = service.loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1' });
  const app = await createService(service, config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const base = (config as unknown as { API_BASE?: string }).API_BASE ?? '';
  return { app, config, url, api: `${url}${base === '/' ? '' : base}`, close: () => app.close() };
}
