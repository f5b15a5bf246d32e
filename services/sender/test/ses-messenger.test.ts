import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { emailsTo, stack, uniqueName } from '@payam/testkit';
import { classifySesError, SesMessenger, trimSesClient } from '../src/delivery/ses-messenger';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('SesMessenger against the SES emulator', () => {
  const messenger = new SesMessenger({ endpoint: stack.sesEndpoint, region: 'us-east-1', credentials, maxSockets: 4 });
  afterAll(() => messenger.destroy());

  it('sends Simple content with our headers and returns the MessageId', async () => {
    const to = `${uniqueName('ses')}@example.com`;
    const sent = await messenger.send({
      from: 'news@shop.example.com',
      to,
      replyTo: ['help@shop.example.com'],
      subject: 'Hello there',
      html: '<p>Hi <a href="https://t.example.com/c/x">there</a></p>',
      text: 'Hi there',
      headers: [
        { name: 'List-Unsubscribe', value: '<https://t.example.com/u/tok>' },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ],
      configurationSet: null,
      tags: { workspace: 'ws_1', campaign: 'cmp_1', delivery: 'dlv_1' },
    });
    expect(sent.messageId).toMatch(/\S/);
    const [stored, ...more] = await emailsTo([to]);
    expect(more).toHaveLength(0);
    expect(stored!.subject).toBe('Hello there');
    expect(stored!.body.html).toContain('https://t.example.com/c/x');
    expect(stored!.body.text).toBe('Hi there');
    expect(stored!.replyTo).toEqual(['help@shop.example.com']);
    const headers = Object.fromEntries((stored!.headers ?? []).map((h) => [h.name, h.value]));
    expect(headers).toMatchObject({ 'List-Unsubscribe': '<https://t.example.com/u/tok>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
  });
});

describe('trimSesClient', () => {
  // The logger middleware is observable only through a logger: with one given, an untrimmed
  // client logs every send (the control), a trimmed one never runs the middleware.
  const input = () =>
    new SendEmailCommand({
      FromEmailAddress: 'news@shop.example.com',
      Destination: { ToAddresses: [`${uniqueName('trim')}@example.com`] },
      Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hi' } } } },
    });
  const clientWith = (logger: { info: jest.Mock }) =>
    new SESv2Client({ endpoint: stack.sesEndpoint, region: 'us-east-1', credentials, maxAttempts: 1, logger: { ...logger, debug() {}, warn() {}, error() {} } });

  it.each([
    ['untrimmed', false, 1],
    ['trimmed', true, 0],
  ])('%s client (trimmed: %s): the logger is called %i time(s)', async (_label, trim, calls) => {
    const info = jest.fn();
    const client = clientWith({ info });
    if (trim) trimSesClient(client);
    try {
      const out = await client.send(input());
      expect(out.MessageId).toMatch(/\S/);
      expect(info).toHaveBeenCalledTimes(calls);
    } finally {
      client.destroy();
    }
  });
});

describe('classifySesError', () => {
  const aws = (name: string, status?: number, extra: object = {}) => Object.assign(new Error(`${name} happened`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });
  it.each([
    ['HTTP 429', aws('SomethingElse', 429), 'retryable', true],
    ['TooManyRequestsException', aws('TooManyRequestsException', 400), 'retryable', true],
    ['SDK throttling flag', aws('Odd', 400, { $retryable: { throttling: true } }), 'retryable', true],
    ['MessageRejected', aws('MessageRejected', 400), 'permanent', false],
    ['bad request', aws('BadRequestException', 400), 'permanent', false],
    ['account suspended', aws('AccountSuspendedException', 400), 'account', false],
    ['sending paused', aws('SendingPausedException', 400), 'account', false],
    ['server fault', aws('InternalFailure', 500), 'retryable', false],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'retryable', false],
    ['no answer at all', new Error('weird'), 'retryable', false],
  ])('%s', (_label, err, kind, throttled) => {
    const e = classifySesError(err);
    expect(e.kind).toBe(kind);
    expect(e.throttled).toBe(throttled);
  });
});
