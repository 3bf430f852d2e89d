import { Transform } from 'class-transformer';
import { ValidationOptions, registerDecorator } from 'class-validator';

/** "true"/"false"/"1"/"0" → boolean; anything else is left for validation to refuse. */
export const AsBoolean = () =>
  Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    const text = String(value).toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(text)) return true;
    if (['false', '0', 'no', 'off'].includes(text)) return false;
    return value;
  });

/** Integer strings → number; anything else is left for validation to refuse. */
export const AsInteger = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));

/** A URL whose scheme is one of `protocols` (e.g. `postgres:`). */
export function IsServiceUrl(protocols: string[], options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isServiceUrl',
      target: target.constructor,
      propertyName: property,
      options: { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          return value.split(',').every((part) => {
            try {
              return protocols.includes(new URL(part.trim()).protocol);
            } catch {
              return false;
            }
          });
        },
      },
    });
}

/** An API base path such as `/v1` or `/coordinator/v1` (or `/` for none). */
export function IsBasePath(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isBasePath',
      target: target.constructor,
      propertyName: property,
      options: { message: 'must be a path such as /v1 (letters, digits, - _ . /)', ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /^\/?[A-Za-z0-9._\-/]*$/.test(value),
      },
    });
}
