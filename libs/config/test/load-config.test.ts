import { z } from 'zod';
import { ConfigError, baseEnvShape, envBool, envDuration, envInt, envList, envUrl, loadConfig, parseDuration } from '../src';

describe('loadConfig', () => {
  it('applies the base defaults to an empty environment', () => {
    const config = loadConfig(baseEnvShape, {});
    expect(config).toEqual({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      MONGODB_URI: 'mongodb://127.0.0.1:27017',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads and coerces the given variables and ignores unrelated ones', () => {
    const config = loadConfig(
      { ...baseEnvShape, PORT: envInt(3000) },
      {
        NODE_ENV: 'production',
        KAFKA_BROKERS: ' k1:9092, k2:9093 ,',
        MONGODB_URI: 'mongodb://m1:27017,m2:27017/payam?replicaSet=rs0',
        PORT: '8080',
        UNRELATED: 'x',
      },
    );
    expect(config.NODE_ENV).toBe('production');
    expect(config.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9093']);
    expect(config.MONGODB_URI).toBe('mongodb://m1:27017,m2:27017/payam?replicaSet=rs0');
    expect(config.PORT).toBe(8080);
    // Type level (checked by tsc): coerced types come through, unknown names do not exist.
    const typed: { PORT: number; KAFKA_BROKERS: string[]; NODE_ENV: 'development' | 'test' | 'production' } = config;
    expect(typed.PORT).toBe(8080);
    // @ts-expect-error UNRELATED is not part of the shape
    expect(config.UNRELATED).toBeUndefined();
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('lists every missing and bad variable in one error', () => {
    const shape = {
      ...baseEnvShape,
      PORT: envInt(undefined, { min: 1, max: 65535 }),
      ADMIN_SECRET: z.string().min(16),
      SES_ENDPOINT: envUrl(),
      DEBUG_SQL: envBool(false),
    };
    let caught: unknown;
    try {
      loadConfig(shape, {
        NODE_ENV: 'staging',
        KAFKA_BROKERS: 'not a broker',
        PORT: '70000',
        SES_ENDPOINT: 'ftp://x',
        DEBUG_SQL: 'maybe',
        SHUTDOWN_TIMEOUT_MS: '',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    const paths = error.problems.map((p) => p.path).sort();
    expect(paths).toEqual(['ADMIN_SECRET', 'DEBUG_SQL', 'KAFKA_BROKERS', 'NODE_ENV', 'PORT', 'SES_ENDPOINT']);
    expect(error.message.split('\n')[0]).toBe('Invalid configuration:');
    for (const path of paths) expect(error.message).toContain(`\n  - ${path}: `);
    expect(error.problems.find((p) => p.path === 'ADMIN_SECRET')?.message).toBe('required but not set');
    expect(error.problems.find((p) => p.path === 'PORT')?.message).toBe('expected an integer <= 65535');
    expect(error.problems.find((p) => p.path === 'KAFKA_BROKERS')?.message).toMatch(/host:port/);
  });

  it('treats an empty value as unset, so the default applies or the variable is reported missing', () => {
    expect(loadConfig({ PORT: envInt(3000) }, { PORT: '  ' }).PORT).toBe(3000);
    expect(() => loadConfig({ PORT: envInt() }, { PORT: '' })).toThrow('PORT: required but not set');
  });

  it('accepts a ready z.object as well as a shape', () => {
    const schema = z.object({ A: envInt(), B: envList() });
    expect(loadConfig(schema, { A: '1', B: 'x' })).toEqual({ A: 1, B: ['x'] });
  });
});

describe('env schemas', () => {
  const parse = <T>(schema: z.ZodType<T>, value: string | undefined) => schema.safeParse(value);

  it('envInt accepts integers only', () => {
    expect(parse(envInt(), ' 42 ').data).toBe(42);
    expect(parse(envInt(), '-7').data).toBe(-7);
    for (const bad of ['4.2', '1e3', 'abc', '12px', '99999999999999999999']) expect(parse(envInt(), bad).success).toBe(false);
    expect(parse(envInt(5), undefined).data).toBe(5);
    expect(parse(envInt(), undefined).success).toBe(false);
  });

  it('envBool understands the usual spellings and nothing else', () => {
    for (const t of ['true', 'TRUE', '1', 'yes', 'on']) expect(parse(envBool(), t).data).toBe(true);
    for (const f of ['false', 'False', '0', 'no', 'off']) expect(parse(envBool(), f).data).toBe(false);
    expect(parse(envBool(), 'nope').success).toBe(false);
    expect(parse(envBool(true), undefined).data).toBe(true);
  });

  it('envList splits on commas, trims and drops empties', () => {
    expect(parse(envList(), 'a, b,,c ,').data).toEqual(['a', 'b', 'c']);
    expect(parse(envList(['d']), undefined).data).toEqual(['d']);
  });

  it('envUrl accepts http(s) URLs only', () => {
    expect(parse(envUrl(), 'http://localhost:8005').data).toBe('http://localhost:8005');
    expect(parse(envUrl(), 'https://example.com/x').success).toBe(true);
    for (const bad of ['localhost:8005', 'javascript:alert(1)', 'ftp://host/x', 'not a url']) {
      expect(parse(envUrl(), bad).success).toBe(false);
    }
    expect(parse(envUrl('http://a.test'), undefined).data).toBe('http://a.test');
  });

  it('envDuration turns units into milliseconds', () => {
    expect(parse(envDuration(), '30s').data).toBe(30_000);
    expect(parse(envDuration(), '5m').data).toBe(300_000);
    expect(parse(envDuration(), '2h').data).toBe(7_200_000);
    expect(parse(envDuration(), '90d').data).toBe(90 * 86_400_000);
    expect(parse(envDuration(), '250ms').data).toBe(250);
    expect(parse(envDuration(), '1500').data).toBe(1500);
    for (const bad of ['1.5h', '-5s', '5 weeks', 's', '']) expect(parse(envDuration(), bad).success).toBe(false);
    expect(parse(envDuration('1m'), undefined).data).toBe(60_000);
    // A lower bound: below it is refused with what was expected; a default below it is a programming error.
    expect(parse(envDuration(undefined, { min: 10 }), '10ms').data).toBe(10);
    for (const low of ['0', '9ms']) expect(parse(envDuration(undefined, { min: 10 }), low).error?.issues[0]?.message).toBe('expected a duration of at least 10ms');
    expect(() => envDuration('5ms', { min: 10 })).toThrow('envDuration: invalid default 5ms');
    expect(parse(envDuration(250), undefined).data).toBe(250);
    expect(() => envDuration('soon')).toThrow(/invalid default/);
  });

  it('parseDuration returns null for anything that is not a duration', () => {
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('7 d')).toBe(604_800_000);
    expect(parseDuration('7w')).toBeNull();
    expect(parseDuration('9'.repeat(30) + 'd')).toBeNull();
  });
});
