// Preloaded by test/run.js (`node --import`): test files that import "uvu" get ./strict.js instead, so a hook that throws fails the file.
import { register } from 'node:module';

register('./loader.js', import.meta.url);
