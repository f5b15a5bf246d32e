// Starts the real local stack (Kafka, FerretDB, SES emulator) with the same script the README
// uses, unless MONGODB_URI / KAFKA_BROKERS / SES_ENDPOINT point at existing servers.
// Remembers whether it started anything so that teardown stops only that.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const stack = path.join(__dirname, '..', '..', 'infra', 'local', 'stack.sh');

function alreadyUp(): boolean {
  try {
    execFileSync('bash', [stack, 'healthy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  const wasRunning = alreadyUp();
  execFileSync('bash', [stack, 'start'], { stdio: 'inherit' });
  process.env.PAYAM_STACK_STARTED_BY_TESTS = wasRunning ? '0' : '1';
}
