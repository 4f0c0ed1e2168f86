export * from './errors';
export * from './permissions';
export * from './auth-store';
export * from './password';
export * from './tokens';
export * from './jwt-tokens';
