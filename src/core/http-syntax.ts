/** What HTTP allows in a URL to call and in a request header (RFC 9110), checked when a monitor or reaction is saved. */

/** A field name is a token: visible ASCII except the delimiters "(),/:;<=>?@[\]{}. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value: visible ASCII, obs-text (0x80-0xFF), and spaces or tabs only between visible characters. */
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
/** Headers the HTTP client sets itself from the request and refuses to take from its caller. */
const CLIENT_HEADERS = new Set(['connection', 'content-length', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** What is wrong with `name` as a request header name, or undefined. */
export function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name)) return 'is not a valid HTTP header name: use letters, digits and !#$%&\'*+.^_`|~- only (no spaces, colons or control characters)';
  if (CLIENT_HEADERS.has(name.toLowerCase())) return 'is set by the HTTP client itself and cannot be given';
  return undefined;
}

/** What is wrong with `value` as a request header value, or undefined. The value is never quoted: it may be a secret. */
export function headerValueProblem(value: string): string | undefined {
  if (FIELD_VALUE.test(value)) return undefined;
  if (/[\r\n\0]/.test(value)) return 'is not a valid HTTP header value: it contains a line break (CR or LF) or NUL';
  if (/^[\t ]|[\t ]$/.test(value)) return 'is not a valid HTTP header value: it starts or ends with a space or tab';
  return 'is not a valid HTTP header value: it contains a control character or a character above U+00FF';
}

/** What is wrong with `url` as an address to call over HTTP, or undefined. */
export function httpUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL: give an address such as https://example.com/path';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must be an http:// or https:// URL, not ${parsed.protocol}`;
  if (!parsed.hostname) return 'must name a host, as in https://example.com/path';
  if (/\s/.test(url)) return 'must not contain spaces or line breaks: encode them (%20)';
  return undefined;
}
