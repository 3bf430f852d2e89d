export * from './auth.guard';
export * from './auth.module';
export * from './key-store';
export * from './token-verifier';
export * from './tokens';
export * from './secret-box';
