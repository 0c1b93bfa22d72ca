/** The page shell (head, navigation, the live region the refresh script swaps), the login form and error pages. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApiKey } from '../../store/store.js';
import { html, type Html } from './html.js';

const STATIC_DIR = fileURLToPath(new URL('../../../../src/web/dashboard/static/', import.meta.url));

export interface Asset {
  body: string;
  type: string;
  /** Part of the URL, so a changed file is fetched again while an unchanged one is cached. */
  version: string;
}

function asset(file: string, type: string): Asset {
  const body = readFileSync(STATIC_DIR + file, 'utf8');
  return { body, type, version: createHash('sha256').update(body).digest('hex').slice(0, 10) };
}

/** The stylesheet, the refresh script and the icon, by file name, read once at start. */
export const ASSETS = new Map<string, Asset>([
  ['dashboard.css', asset('dashboard.css', 'text/css; charset=utf-8')],
  ['dashboard.js', asset('dashboard.js', 'text/javascript; charset=utf-8')],
  ['favicon.svg', asset('favicon.svg', 'image/svg+xml')],
]);

const href = (name: string) => `/assets/${name}?v=${ASSETS.get(name)!.version}`;

/** Milliseconds between two refreshes of a page's live region. */
export const REFRESH_MS = 3000;

function head(title: string, script: boolean): Html {
  return html`<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CloudRoutes</title><link rel="icon" href="${href('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${href('dashboard.css')}">${script && html`<script src="${href('dashboard.js')}" defer></script>`}</head>`;
}

export interface Shell {
  title: string;
  section: 'monitors' | 'reactions';
  key: ApiKey;
  /** A search form for the top bar. */
  search?: Html;
}

/** A whole page whose `live` part the refresh script replaces with `?fragment=1` of the same URL. */
export function page(shell: Shell, live: Html): string {
  const tab = (section: Shell['section'], path: string, label: string) =>
    html`<a href="${path}"${shell.section === section && html` aria-current="page"`}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">${head(shell.title, true)}<body>
<header class="top"><a class="brand" href="/">CloudRoutes</a><nav>${tab('monitors', '/', 'Monitors')}${tab('reactions', '/reactions', 'Reactions')}</nav>${shell.search}
<form class="who" method="post" action="/logout"><span class="muted">key “${shell.key.name}”${shell.key.readOnly && ' (read-only)'}</span><button type="submit">Log out</button></form></header>
<main id="live" data-refresh="${REFRESH_MS}" aria-live="polite">${live}</main>
</body></html>`.text;
}

export interface LoginForm {
  message?: string;
  /** Where to go after logging in (a path on this site). */
  next?: string;
  /** Shown when the browser will not keep a Secure cookie on this connection. */
  plainHttp?: boolean;
}

/** The login form: an API key, kept in an HttpOnly cookie once it is checked. */
export function loginPage(form: LoginForm): string {
  return html`<!doctype html>
<html lang="en">${head('Log in', false)}<body class="login">
<main><h1>CloudRoutes</h1>
<form method="post" action="/login">
${form.message && html`<p class="error" role="alert">${form.message}</p>`}
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${form.next ?? '/'}">
<button type="submit">Log in</button>
<p class="muted">Make a key with <code>cloudroutes apikey create --name me --read-only</code>; a read-only key is enough to watch.</p>
${form.plainHttp && html`<p class="warning">This page came over plain HTTP from another machine: browsers keep the session cookie (Secure) only over HTTPS or on localhost. Put the web process behind an HTTPS proxy (and set CLOUDROUTES_TRUST_PROXY=1).</p>`}
</form></main></body></html>`.text;
}

/** A page that says what went wrong, for people rather than programs. */
export function errorPage(status: number, message: string): string {
  return html`<!doctype html>
<html lang="en">${head(`Error ${status}`, false)}<body>
<header class="top"><a class="brand" href="/">CloudRoutes</a></header>
<main><h1>Error ${status}</h1><p class="error">${message}</p><p><a href="/">Back to the monitors</a></p></main></body></html>`.text;
}
