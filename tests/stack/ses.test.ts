// The SES v2 API as the sender uses it, against the aws-ses-v2-local emulator.
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { emailsTo, stack, uniqueName } from '@payam/testkit';

test('an email sent with SESv2Client (Simple content, List-Unsubscribe headers) is readable from the emulator store', async () => {
  const client = new SESv2Client({
    endpoint: stack.sesEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const to = `${uniqueName('r')}@example.com`;
  const unsubscribe = 'https://t.example.com/u/abc';
  const out = await client.send(
    new SendEmailCommand({
      FromEmailAddress: 'News <news@example.com>',
      Destination: { ToAddresses: [to] },
      ConfigurationSetName: 'marketing',
      EmailTags: [{ Name: 'workspace', Value: 'ws_1' }],
      Content: {
        Simple: {
          Subject: { Data: 'Hello', Charset: 'UTF-8' },
          Body: { Html: { Data: '<p>Hi</p>' }, Text: { Data: 'Hi' } },
          Headers: [
            { Name: 'List-Unsubscribe', Value: `<${unsubscribe}>` },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ],
        },
      },
    }),
  );
  expect(out.MessageId).toBeTruthy();

  const [stored] = await emailsTo([to]);
  expect(stored).toMatchObject({ messageId: out.MessageId, subject: 'Hello', body: { html: '<p>Hi</p>', text: 'Hi' } });
  expect(stored!.headers).toEqual(
    expect.arrayContaining([
      { name: 'List-Unsubscribe', value: `<${unsubscribe}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]),
  );
});
