/**
 * Module-customization hooks (they run on Node's loader thread, see typescript-modules.ts): `.ts` files under the
 * extra module folders are transpiled to ESM on load, and `./x.js` finds `./x.ts` when only that exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { errors } from './errors.js';

export interface HookData {
  /** Folders whose `.ts` files are transpiled (absolute, real paths). */
  roots: string[];
  /** Bare specifiers (`cloudroutes`, `cloudroutes/testing`) that files under `roots` resolve to this installation. */
  entries: Record<string, string>;
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type NextLoad = (url: string, context?: { format?: string | null; conditions: string[] }) => Promise<LoadResult>;

const roots: string[] = [];
let entries: Record<string, string> = {};
let typescript: Promise<typeof TS> | undefined;

// Each register() of this file runs initialize() on the same module instance, so the folders add up.
export function initialize(data: HookData): void {
  roots.push(...data.roots.map((r) => (r.endsWith(sep) ? r : r + sep)));
  entries = data.entries;
}

/** The file path of `url` when it is one of ours: under a root and not inside node_modules. */
function ownFile(url: string | undefined): string | undefined {
  if (!url?.startsWith('file:')) return undefined;
  const file = fileURLToPath(url);
  if (!roots.some((r) => file.startsWith(r)) || file.split(sep).includes('node_modules')) return undefined;
  return file;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  if (ownFile(context.parentURL)) {
    const entry = entries[specifier];
    if (entry) return { url: entry, shortCircuit: true };
    // TypeScript's NodeNext style: the source says ./util.js, the folder holds util.ts.
    if (/^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
      const js = new URL(specifier, context.parentURL);
      const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (!existsSync(js) && existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true };
    }
  }
  return next(specifier, context);
}

export async function load(url: string, context: { format?: string | null; conditions: string[] }, next: NextLoad): Promise<LoadResult> {
  const file = url.endsWith('.ts') ? ownFile(url) : undefined;
  if (!file) return next(url, context);
  return { format: 'module', source: transpile(await loadTypeScript(file), file, readFileSync(file, 'utf8')), shortCircuit: true };
}

function loadTypeScript(file: string): Promise<typeof TS> {
  typescript ??= import('typescript').then((m) => (m.default ?? m) as typeof TS);
  return typescript.catch((err: Error) => {
    throw errors.typescriptMissing(file, err.message);
  });
}

/** ESM JavaScript with an inline source map; types are dropped unchecked, a syntax error throws naming file:line:column. */
function transpile(ts: typeof TS, file: string, source: string): string {
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: true,
      inlineSources: true,
      isolatedModules: true,
      esModuleInterop: true,
    },
  });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const text = ts.flattenDiagnosticMessageText(error.messageText, ' ');
    if (!error.file || error.start === undefined) throw errors.moduleSyntax(file, text);
    const { line, character } = error.file.getLineAndCharacterOfPosition(error.start);
    throw errors.moduleSyntax(`${file}:${line + 1}:${character + 1}`, text);
  }
  return out.outputText;
}
