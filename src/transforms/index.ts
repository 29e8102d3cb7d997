export * from './plan.js';
export * from './operations.js';
export * from './grammar.js';
export * from './formats.js';
export * from './geometry.js';
