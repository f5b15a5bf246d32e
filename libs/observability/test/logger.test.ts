import { createLogger } from '../src';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

describe('createLogger', () => {
  it('writes one JSON object per line carrying the service name and a level label', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'tracker', destination });
    log.info({ campaignId: 'c1' }, 'campaign sent');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: 'tracker', level: 'info', msg: 'campaign sent', campaignId: 'c1' });
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('honours the level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 's', level: 'warn', destination });
    log.info('hidden');
    log.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('redacts credentials in logged headers, also in child loggers', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 's', destination }).child({ requestId: 'r1' });
    log.info({
      req: { headers: { authorization: 'Bearer pk_secret', 'x-api-key': 'pk_other', cookie: 'sid=1', accept: '*/*' } },
    });
    const headers = (lines[0]!.req as { headers: Record<string, string> }).headers;
    expect(headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]', accept: '*/*' });
    expect(JSON.stringify(lines[0])).not.toContain('pk_');
  });
});
