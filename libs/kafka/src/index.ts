export * from './client';
export * from './topics';
export * from './publisher';
export * from './consumer';
export * from './co-partitioned';
