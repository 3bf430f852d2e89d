import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

/** Start-up stops with this when the environment is wrong; it names every bad variable. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Reads the variables declared by `schema` (its properties, with their
 * defaults as initial values) from the environment and validates them all at
 * once. Variables the schema does not declare are ignored.
 */
export function loadConfig<T extends object>(schema: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const declared = Object.keys(new schema());
  const given: Record<string, string> = {};
  for (const key of declared) {
    const value = env[key];
    if (value !== undefined && value !== '') given[key] = value;
  }
  const config = plainToInstance(schema, given, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0) throw new ConfigurationError(describe(errors, given));
  return config;
}

function describe(errors: ValidationError[], given: Record<string, string>): string[] {
  return errors.map((error) => {
    const value = error.property in given ? ` (got "${mask(error.property, given[error.property])}")` : ' (not set)';
    return `${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}${value}`;
  });
}

/** Never echo secrets from the environment into logs. */
function mask(name: string, value: string): string {
  if (/SECRET|PASSWORD|TOKEN|KEY/i.test(name)) return '***';
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.protocol ? url.toString() : value;
  } catch {
    return value;
  }
}
