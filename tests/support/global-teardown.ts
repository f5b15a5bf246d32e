// Stops the stack only when this test run started it (and PAYAM_KEEP_STACK is not set), so a
// developer's running stack survives `npm test`, and CI leaves no stray process behind.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  if (process.env.PAYAM_STACK_STARTED_BY_TESTS !== '1' || process.env.PAYAM_KEEP_STACK === '1') return;
  execFileSync('bash', [path.join(__dirname, '..', '..', 'infra', 'local', 'stack.sh'), 'stop'], { stdio: 'inherit' });
}
