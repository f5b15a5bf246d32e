import type { FieldProblem } from '@payam/contracts';

/**
 * Thrown by loadConfig. The message names every bad or missing variable at once, so an operator
 * fixes the environment in one round instead of discovering the problems one restart at a time.
 */
export class ConfigError extends Error {
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    super(['Invalid configuration:', ...problems.map((p) => `  - ${p.path || '(environment)'}: ${p.message}`)].join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
