// Module resolution hook: "uvu" resolves to ./strict.js for everyone but ./strict.js itself, which needs the real one.
const STRICT = new URL('./strict.js', import.meta.url).href;

/** Sends imports of "uvu" to the strict wrapper. */
export async function resolve(specifier, context, next) {
  if (specifier === 'uvu' && context.parentURL !== STRICT) return { url: STRICT, shortCircuit: true };
  return next(specifier, context);
}
