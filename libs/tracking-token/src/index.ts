export * from './payload';
export * from './keys';
export * from './signer';
