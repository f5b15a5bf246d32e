export * from './config-error';
export * from './duration';
export * from './env-schemas';
export * from './base-env';
export * from './load-config';
