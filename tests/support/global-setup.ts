// Starts the real local stack (Kafka, FerretDB, SES emulator) with the same script the README
// uses, unless MONGODB_URI / KAFKA_BROKERS / SES_ENDPOINT point at existing servers.
// Remembers whether it started anything so that teardown stops only that, and creates every
// topic up front.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Topics } from '@payam/contracts';
import { createKafka, ensureTopics } from '@payam/kafka';

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
  // Every topic exists, with its partition leaders elected, before the first test file starts:
  // on a fresh broker, test files running in parallel would otherwise race to create them and
  // meet NOT_LEADER errors on topics created a moment before.
  const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
  await ensureTopics(createKafka({ brokers, clientId: 'payam-test-setup', logger: quiet }), Object.values(Topics));
}
