export * from './token';
export * from './records';
export * from './model';
export * from './resolver';
