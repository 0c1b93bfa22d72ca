// The first step of `npm test`: stops at once, in one line, when a system tool the suite runs is missing
// (rather than letting a few dozen tests fail each with a reason of its own). The list is test/system-tools.txt.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const LIST = new URL('./system-tools.txt', import.meta.url);
// Where tools live besides PATH; SYSTEM_TOOLS_DIRS replaces it (the preflight's own test uses a machine without them).
const SYSTEM_DIRS = process.env.SYSTEM_TOOLS_DIRS ?? ['/usr/sbin', '/sbin'].join(delimiter);

/** [tool, package] pairs of test/system-tools.txt. */
function tools() {
  return readFileSync(LIST, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) => line.split(/\s+/));
}

function found(tool, dirs) {
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SYSTEM_DIRS.split(delimiter)].filter(Boolean);
const missing = tools().filter(([tool]) => !found(tool, dirs));
if (missing.length > 0) {
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  console.error(`npm test needs ${missing.map(([tool]) => tool).join(', ')}: install with "apt-get install ${packages.join(' ')}" (as .ci/run does)`);
  process.exit(1);
}
