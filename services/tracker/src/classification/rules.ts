/*
 * What ua-parser-js does not know: mail clients (which look like bare WebKit or carry their own
 * tokens), image proxies and the security scanners that open and click before anyone reads.
 * Tables, so a new agent is one line; the order matters (first match wins).
 */

export type Device = 'desktop' | 'mobile' | 'tablet' | 'proxy' | 'bot' | 'unknown';

export interface ClientRule {
  test: RegExp;
  client: string;
  /** Capture group 1 of this pattern is the client version. */
  version?: RegExp;
  device?: Device;
  /** An image proxy fetches on the recipient's behalf: the open is real-ish, the agent is not. */
  machineReason?: string;
}

export const CLIENT_RULES: ClientRule[] = [
  { test: /GoogleImageProxy/, client: 'Gmail', device: 'proxy', machineReason: 'gmail_image_proxy' },
  { test: /YahooMailProxy/, client: 'Yahoo Mail', device: 'proxy', machineReason: 'yahoo_image_proxy' },
  { test: /Outlook-iOS\//, client: 'Outlook', version: /Outlook-iOS\/([\d.]+)/, device: 'mobile' },
  { test: /Outlook-Android\//, client: 'Outlook', version: /Outlook-Android\/([\d.]+)/, device: 'mobile' },
  { test: /Microsoft Outlook/, client: 'Outlook', version: /Microsoft Outlook (\d[\d.]*)/, device: 'desktop' },
  { test: /\bms-office\b|Microsoft Office\//, client: 'Outlook', version: /Microsoft Office\/(\d[\d.]*)/, device: 'desktop' },
  { test: /Thunderbird\//, client: 'Thunderbird', version: /Thunderbird\/([\d.]+)/, device: 'desktop' },
  { test: /\bGmail(?:Android)?\/|com\.google\.Gmail/, client: 'Gmail app', version: /Gmail(?:Android)?\/([\d.]+)/ },
  { test: /YahooMobile(?:Mail)?\/|YMobile\//, client: 'Yahoo Mail app', version: /YahooMobile(?:Mail)?\/([\d.]+)/, device: 'mobile' },
  { test: /SamsungEmail\//, client: 'Samsung Email', version: /SamsungEmail\/([\d.]+)/, device: 'mobile' },
  // Apple Mail (macOS, iOS, iPadOS) renders with WebKit and, unlike Safari, adds no "Version/…
  // Safari/…": a WebKit agent on an Apple OS without those is the Mail app.
  {
    test: /^Mozilla\/5\.0 \((?:Macintosh|iPhone|iPad|iPod)[^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)(?: Mobile\/\w+)?$/,
    client: 'Apple Mail',
    version: /AppleWebKit\/([\d.]+)/,
  },
];

/** Agents of scanners, link checkers and libraries: nobody reads mail with curl. */
export const SCANNER_AGENTS: RegExp[] = [
  /Barracuda/i,
  /Mimecast/i,
  /Proofpoint/i,
  /Symantec|MessageLabs/i,
  /Trend ?Micro/i,
  /Sophos/i,
  /FireEye|Trellix/i,
  /Forcepoint|Websense/i,
  /IronPort|Cisco/i,
  /Zscaler/i,
  /Microsoft Defender|SafeLinks|BingPreview/i,
  /python-requests|python-urllib|aiohttp|httpx/i,
  /^curl\/|^Wget\//i,
  /Go-http-client|okhttp|^Java\/|libwww-perl|node-fetch|axios\/|undici/i,
  /HeadlessChrome|PhantomJS|Puppeteer|Playwright/i,
  /facebookexternalhit|Slackbot|WhatsApp\/|TelegramBot|Discordbot|LinkedInBot|Twitterbot/i,
  /\b(?:bot|crawler|spider|scanner)\b|[a-z]bot\//i,
];

/**
 * Microsoft Office fetches a link itself for previews and Safe Links checks ("Microsoft Office/16.0
 * …", "ms-office"). On a pixel the same agent is Outlook for Windows showing images, so this
 * applies to clicks only.
 */
export const CLICK_ONLY_SCANNER_AGENTS: RegExp[] = [/\bms-office\b|Microsoft Office\/|Microsoft Outlook/i];

/** Rewriting gateways whose checks arrive with the gateway page as the referrer. */
export const SCANNER_REFERRERS: RegExp[] = [
  /safelinks\.protection\.outlook\.com/i,
  /urldefense\.(?:proofpoint\.)?com/i,
  /mimecast\.com/i,
  /linkprotect\.cudasvc\.com/i,
  /scanner|linkscan|sandbox/i,
];

/** Apple Mail Privacy Protection's prefetch announces itself with exactly this agent. */
export const BARE_MOZILLA = /^Mozilla\/5\.0$/;
