// Child processes of the benches: servers that print {"port": …} on stdout once they listen.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');

/** Runs `script` under tsx (with `nodeArgs`, e.g. --cpu-prof) and resolves with the port it prints. */
export function startPortChild(script: string, env: NodeJS.ProcessEnv = process.env, nodeArgs: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(TSX, [...nodeArgs, script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} did not start in 60 s`)), 60_000);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{"port"')) continue;
        clearTimeout(timer);
        resolve({ child, port: (JSON.parse(line) as { port: number }).port });
      }
    });
    child.once('exit', (code) => reject(new Error(`${path.basename(script)} exited with ${code}`)));
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux): the CPU a message
 * costs is steadier than a rate on a machine whose speed moves between runs.
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
  // utime and stime are fields 14 and 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The pid of the node process that runs a startPortChild script: tsx's command line starts it as
 * its own child (the wrapper itself only waits), so the CPU to measure is the grandchild's.
 */
export function scriptPid(child: ChildProcess): number {
  const pid = child.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  return children.length === 1 ? Number(children[0]) : pid;
}
