/**
 * Splits `line` at its first `count` tabs: `count` fields, then the rest of the line (tabs and all) as the last.
 * With fewer tabs only the fields that end in one come back (no rest): the caller names what is missing.
 */
export function tabFields(line: string, count: number): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < count; i++) {
    const tab = line.indexOf('\t', from);
    if (tab < 0) return out;
    out.push(line.slice(from, tab));
    from = tab + 1;
  }
  out.push(line.slice(from));
  return out;
}
