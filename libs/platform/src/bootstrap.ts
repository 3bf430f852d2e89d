import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { runMigrations } from '@odb/persistence';
import { ConfigurationError } from './config/load-config';
import { RestServiceConfig, ServiceConfig } from './config/service-config';
import { fastifyAdapter, setUpFastify } from './http/fastify';
import { normaliseBasePath } from './http/public-url';
import { API_BASE_SETTING } from './http/resource-urls';

export interface RestApiDescription {
  title: string;
  description: string;
}

export interface StartServiceOptions<C extends ServiceConfig> {
  name: string;
  /** Reads and validates the configuration (throws ConfigurationError). */
  loadConfig: (env: NodeJS.ProcessEnv) => C;
  module: (config: C) => DynamicModule;
  /** REST services: base path, OpenAPI document and Swagger UI. */
  restApi?: RestApiDescription;
  /**
   * The HTTP server under Nest: Express (default) or Fastify, for a hot read
   * path (ADR 0007). Fastify services parse bodies with Fastify's own parser.
   */
  http?: 'express' | 'fastify';
}

/**
 * Creates and starts a service. Configuration is validated before anything
 * else; a bad variable stops the process with a message naming it.
 */
export async function startService<C extends ServiceConfig>(options: StartServiceOptions<C>): Promise<INestApplication> {
  try {
    return await createAndListen(options);
  } catch (error) {
    process.stderr.write(`${options.name} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

async function createAndListen<C extends ServiceConfig>(options: StartServiceOptions<C>): Promise<INestApplication> {
  let config: C;
  try {
    config = options.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  if (config.MIGRATE_ON_START) {
    const applied = await runMigrations({ url: config.DATABASE_URL, applicationName: `${options.name}-migrate` });
    if (applied.length > 0) process.stdout.write(`${options.name}: applied migrations ${applied.join(', ')}\n`);
  }

  const app = await createService(options, config);
  await app.listen(config.PORT, config.HOST);
  const url = await app.getUrl();
  new NestLogger('Bootstrap').log(`${options.name} listening on ${url.replace('[::1]', 'localhost')}`);
  closeOnSignals(app, config.SHUTDOWN_GRACE_MS);
  return app;
}

/**
 * The configured application, not yet listening: what `startService` runs,
 * and what tests drive in-process.
 */
export async function createService<C extends ServiceConfig>(
  options: Pick<StartServiceOptions<C>, 'module' | 'restApi' | 'http'>,
  config: C,
): Promise<INestApplication> {
  const rest = options.restApi ? (config as unknown as RestServiceConfig) : undefined;
  const base = normaliseBasePath(rest?.API_BASE ?? '');
  const module = options.module(config);
  const app = options.http === 'fastify' ? await createFastifyApp(module, rest, base) : await createExpressApp(module, base);
  app.useLogger(app.get(Logger));
  app.enableCors();

  if (options.restApi) {
    if (base) app.setGlobalPrefix(base, { exclude: ['health', 'ready', 'metrics'] });
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(options.restApi.title)
        .setDescription(options.restApi.description)
        .setVersion('1')
        .addApiKey({ type: 'apiKey', in: 'header', name: 'x-bbk-auth-token' }, 'token')
        .build(),
    );
    SwaggerModule.setup(`${base}/docs`, app, document, { jsonDocumentUrl: `${base}/openapi.json`, useGlobalPrefix: false });
  }
  return app;
}

async function createExpressApp(module: DynamicModule, base: string): Promise<NestExpressApplication> {
  // Bodies are parsed by the service core's middleware, inside Nest's error handling.
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  app.set(API_BASE_SETTING, base);
  return app;
}

async function createFastifyApp(module: DynamicModule, rest: RestServiceConfig | undefined, base: string): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, fastifyAdapter(rest?.MAX_BODY_SIZE), { bufferLogs: true });
  app.getHttpAdapter().getInstance().decorate(API_BASE_SETTING, base);
  await setUpFastify(app);
  return app;
}

/**
 * SIGTERM/SIGINT: stop taking work, let in-flight requests, jobs and messages
 * finish (Nest shutdown hooks), then exit 0. Past the grace period, exit 1
 * rather than hang.
 */
function closeOnSignals(app: INestApplication, graceMs: number): void {
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    new NestLogger('Bootstrap').log(`${signal} received: draining`);
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${graceMs} ms; exiting\n`);
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}
