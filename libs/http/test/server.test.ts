import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { closeServer, listen } from '../src';

function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function appWithSlowRoute() {
  const app = express();
  let started!: () => void;
  const slowStarted = new Promise<void>((r) => (started = r));
  app.get('/slow', (_req, res) => {
    started();
    setTimeout(() => res.send('done'), 200);
  });
  app.get('/hang', () => started());
  app.get('/fast', (_req, res) => void res.send('fast'));
  return { app, slowStarted };
}

describe('listen and closeServer', () => {
  it('lets an in-flight request finish, then closes promptly although the connection was kept alive', async () => {
    const { app, slowStarted } = appWithSlowRoute();
    const server = await listen(app, 0, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    await get(port, '/fast', agent); // leaves an idle keep-alive socket behind
    const pending = get(port, '/slow', agent);
    await slowStarted;
    const began = Date.now();
    await closeServer(server, 5_000);
    expect(Date.now() - began).toBeLessThan(2_000);
    await expect(pending).resolves.toEqual({ status: 200, body: 'done' });
    expect(server.listening).toBe(false);
    agent.destroy();
  });

  it('destroys requests still running after the timeout', async () => {
    const { app, slowStarted } = appWithSlowRoute();
    const server = await listen(app, 0, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: false });
    const pending = get(port, '/hang', agent);
    await slowStarted;
    const began = Date.now();
    await closeServer(server, 100);
    expect(Date.now() - began).toBeLessThan(1_500);
    await expect(pending).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const first = await listen(express(), 0, '127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    await expect(listen(express(), port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
    await closeServer(first, 100);
  });
});
