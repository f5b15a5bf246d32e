export * from './stack';
export * from './ses-store';
export * from './kafka-reader';
export * from './kafka-offsets';
export * from './openapi-check';
