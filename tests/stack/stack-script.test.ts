// infra/local/stack.sh keeps its promises: start is idempotent (reuses what answers), stop
// ends exactly what it started, and a missing tool gets one clear message naming it. Run on
// other ports and a throwaway state folder, so the shared stack of the test run is untouched.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = path.join(__dirname, '..', '..', 'infra', 'local', 'stack.sh');

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.MONGODB_URI;
  delete e.KAFKA_BROKERS;
  delete e.SES_ENDPOINT;
  return e;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

test('start is idempotent and stop leaves no process behind', async () => {
  const state = mkdtempSync(path.join(tmpdir(), 'payam-stack-'));
  const e = env({ PAYAM_STATE: state, PAYAM_SES_PORT: '18405' });
  const first = await run('bash', [script, 'start', 'ses'], { env: e });
  expect(first.stderr).toMatch(/starting aws-ses-v2-local on 127\.0\.0\.1:18405/);
  const pid = Number(readFileSync(path.join(state, 'pids', 'ses.pid'), 'utf8'));
  expect(await answers('http://127.0.0.1:18405/store')).toBe(true);

  const second = await run('bash', [script, 'start', 'ses'], { env: e });
  expect(second.stderr).toMatch(/already answering on 127\.0\.0\.1:18405, reusing it/);
  expect(Number(readFileSync(path.join(state, 'pids', 'ses.pid'), 'utf8'))).toBe(pid);

  await run('bash', [script, 'stop'], { env: e });
  expect(existsSync(path.join(state, 'pids', 'ses.pid'))).toBe(false);
  expect(() => process.kill(pid, 0)).toThrow(); // the process is gone
  expect(await answers('http://127.0.0.1:18405/store')).toBe(false);
});

test('a missing tool gets one clear message naming it', async () => {
  const state = mkdtempSync(path.join(tmpdir(), 'payam-stack-'));
  const cache = mkdtempSync(path.join(tmpdir(), 'payam-cache-')); // no FerretDB built here yet
  const e = env({ PAYAM_STATE: state, PAYAM_CACHE: cache, PAYAM_FERRETDB_PORT: '28999', PATH: '/usr/bin:/bin' });
  const failure = await run('bash', [script, 'start', 'ferretdb'], { env: e }).catch((err: { code: number; stderr: string }) => err);
  expect(failure).toMatchObject({ code: 1 });
  expect((failure as { stderr: string }).stderr).toMatch(/'go' is not installed; it is needed to build FerretDB/);
});
