import path from 'node:path';
import { Classifier } from '../src/classification/classifier';
import { IpRanges, truncateIp, normalizeIp } from '../src/classification/ip';

const ranges = IpRanges.fromFile(path.join(__dirname, '..', 'data', 'apple-mpp-ranges.txt'));
const make = (storeRawIp = false) => new Classifier({ appleProxyRanges: ranges, storeRawIp, clickTooFastMs: 10_000, clickBurstWindowMs: 1_500 });

const UA = {
  appleMailMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  appleMailIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  appleMailIpad: 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  outlookWin: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5413; Pro)',
  outlookIos: 'Outlook-iOS/709.2226530.prod.iphone (4.12.0)',
  thunderbird: 'Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Thunderbird/102.10.0',
  gmailProxy: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  yahooProxy: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html',
  chromeWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  bare: 'Mozilla/5.0',
  barracuda: 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
  mimecast: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Mimecast URL Protect',
  proofpoint: 'Mozilla/5.0 (compatible; Proofpoint URL Defense)',
  pythonRequests: 'python-requests/2.31.0',
  curl: 'curl/8.4.0',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36',
  bingPreview: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.1938.76 Safari/537.36 Edg/116.0.1938.76 BingPreview/1.0b',
};

describe('opens', () => {
  const cases: Array<[string, string | undefined, string, Record<string, unknown>]> = [
    ['Apple Mail on macOS', UA.appleMailMac, '198.51.100.7', { client: 'Apple Mail', os: 'Mac OS', device: 'desktop', machine: false }],
    ['Apple Mail on iPhone', UA.appleMailIphone, '198.51.100.7', { client: 'Apple Mail', os: 'iOS', device: 'mobile', machine: false }],
    ['Apple Mail on iPad', UA.appleMailIpad, '198.51.100.7', { client: 'Apple Mail', os: 'iOS', device: 'tablet', machine: false }],
    ['Safari is not Apple Mail', UA.safariMac, '198.51.100.7', { client: 'Safari', os: 'Mac OS', device: 'desktop', machine: false }],
    ['Outlook for Windows showing images', UA.outlookWin, '198.51.100.7', { client: 'Outlook', clientVersion: '16.0.5413', os: 'Windows', device: 'desktop', machine: false }],
    ['Outlook for iOS', UA.outlookIos, '198.51.100.7', { client: 'Outlook', device: 'mobile', machine: false }],
    ['Thunderbird', UA.thunderbird, '198.51.100.7', { client: 'Thunderbird', clientVersion: '102.10.0', os: 'Linux', device: 'desktop', machine: false }],
    ['Gmail image proxy', UA.gmailProxy, '66.249.84.10', { client: 'Gmail', os: null, device: 'proxy', machine: true, machineReasons: ['gmail_image_proxy'] }],
    ['Yahoo image proxy', UA.yahooProxy, '98.136.1.1', { client: 'Yahoo Mail', device: 'proxy', machine: true, machineReasons: ['yahoo_image_proxy'] }],
    ['Apple Mail Privacy Protection (bare agent from Apple)', UA.bare, '17.58.101.2', { client: 'Apple Mail', device: 'proxy', machine: true, machineReasons: ['apple_mpp'] }],
    ['Apple MPP over IPv6', UA.bare, '2620:149:a:1::5', { machine: true, machineReasons: ['apple_mpp'], ip: '2620:149:a::' }],
    ['bare agent elsewhere is not MPP', UA.bare, '198.51.100.7', { client: null, machine: false }],
    ['Chrome on Android', UA.chromeAndroid, '198.51.100.7', { client: 'Chrome', os: 'Android', device: 'mobile', machine: false }],
    ['Barracuda scanner', UA.barracuda, '198.51.100.7', { device: 'bot', machine: true, machineReasons: ['scanner_agent'] }],
    ['no user agent', undefined, '198.51.100.7', { machine: true, machineReasons: ['no_user_agent'] }],
  ];
  test.each(cases)('%s', (_name, userAgent, ip, expected) => {
    expect(make().classifyOpen({ userAgent, ip, method: 'GET' })).toMatchObject(expected);
  });
});

describe('clicks', () => {
  const long = Math.floor(Date.now() / 1000) - 3600;
  let d = 0;
  const cases: Array<[string, { ua?: string; method?: string; referrer?: string; issuedAt?: number }, string[]]> = [
    ['a person in Chrome', { ua: UA.chromeWin }, []],
    ['a person in Firefox on Linux', { ua: UA.firefoxLinux }, []],
    ['HEAD request', { ua: UA.chromeWin, method: 'HEAD' }, ['head_request']],
    ['Mimecast', { ua: UA.mimecast }, ['scanner_agent']],
    ['Proofpoint', { ua: UA.proofpoint }, ['scanner_agent']],
    ['python-requests', { ua: UA.pythonRequests }, ['scanner_agent']],
    ['curl', { ua: UA.curl }, ['scanner_agent']],
    ['headless Chrome', { ua: UA.headless }, ['scanner_agent']],
    ['Microsoft Office link preview', { ua: UA.outlookWin }, ['scanner_agent']],
    ['BingPreview (Defender/Safe Links)', { ua: UA.bingPreview }, ['scanner_agent']],
    ['Safe Links referrer', { ua: UA.chromeWin, referrer: 'https://eur01.safelinks.protection.outlook.com/?url=x' }, ['scanner_referrer']],
    ['bare agent', { ua: UA.bare }, ['bare_user_agent']],
    ['within seconds of the send', { ua: UA.chromeWin, issuedAt: Math.floor(Date.now() / 1000) - 2 }, ['too_fast']],
  ];
  test.each(cases)('%s', (_name, c, reasons) => {
    const cls = make().classifyClick(
      { userAgent: c.ua, ip: '203.0.113.9', method: c.method ?? 'GET', referrer: c.referrer },
      { issuedAt: c.issuedAt ?? long, deliveryKey: `d${d++}`, linkIndex: 0, now: Date.now() },
    );
    expect(cls.machineReasons).toEqual(reasons);
    expect(cls.machine).toBe(reasons.length > 0);
    expect(cls.ip).toBe('203.0.113.0');
  });

  test('every link of one message within a second: the later clicks are flagged link_burst', () => {
    const c = make();
    const t = Date.now();
    const at = (link: number, ms: number, key = 'w:d1') =>
      c.classifyClick({ userAgent: UA.chromeWin, ip: '203.0.113.9', method: 'GET' }, { issuedAt: 0, deliveryKey: key, linkIndex: link, now: t + ms }).machineReasons;
    expect(at(0, 0)).toEqual([]);
    expect(at(1, 200)).toEqual(['link_burst']);
    expect(at(2, 400)).toEqual(['link_burst']);
    expect(at(0, 10_000)).toEqual([]); // the same person coming back later
    expect(at(0, 10_100)).toEqual([]); // the same link twice is not a burst
    expect(at(1, 100, 'w:other')).toEqual([]); // another message
  });
});

test('IP addresses are truncated to /24 and /48 unless raw storage is configured', () => {
  expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
  expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
  expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
  expect(truncateIp(normalizeIp('::ffff:192.0.2.5'))).toBe('192.0.2.0');
  expect(normalizeIp('not an ip')).toBeNull();
  expect(make(true).classifyOpen({ userAgent: UA.chromeWin, ip: '203.0.113.77', method: 'GET' }).ip).toBe('203.0.113.77');
  expect(make(false).classifyOpen({ userAgent: UA.chromeWin, ip: '203.0.113.77', method: 'GET' }).ip).toBe('203.0.113.0');
});

test('the ranges list file rejects a bad line', () => {
  expect(() => new IpRanges(['17.0.0.0/8', 'nonsense'])).toThrow('invalid IP range');
  expect(new IpRanges(['# comment', '', '10.0.0.0/8 # inline']).contains('10.1.2.3')).toBe(true);
});
