export * from './environment';
export * from './infrastructure';
export * from './processes';
export * from './wait';
export * from './fakes';
export * from './in-process';
export * from './http-client';
