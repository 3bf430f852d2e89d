export * from './bbk-validator';
export * from './field-error';
export * as ApiSchemas from './schemas';
export { MAX_RECORDS_PER_BATCH } from './schemas';
