/** `cloudroutes keys generate`: CURVE key pairs for the broker and its clients. */
import type { Command } from 'commander';
import { writeKeyPair } from '../core/curve.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers the keys commands. */
export function keysCommands(program: Command, run: Run): void {
  const keys = program.command('keys').description('CURVE key pairs that seal the links between the broker and its clients (controls, workers, sinks, web)');
  keys
    .command('generate')
    .description('write a new CURVE key pair: <name>.key (secret, mode 0600) and <name>.pub')
    .option('--name <name>', 'file name of the pair (e.g. broker, worker-1)', 'curve')
    .option('--out <dir>', 'folder to write it in', '.')
    .option('--force', 'replace existing files of that name')
    .option('--json', 'print {"publicKey", "secretKeyFile", "publicKeyFile"}')
    .action((o) =>
      run(async () => {
        const written = writeKeyPair(o.out, o.name, o.force === true);
        if (o.json) return printJson(written);
        console.log(`secret key: ${written.secretKeyFile} (mode 0600; keep it on this machine only)`);
        console.log(`public key: ${written.publicKeyFile} ${written.publicKey}`);
        console.log('a broker: CLOUDROUTES_CURVE_SECRET_KEY_FILE=<.key>; a client: the same, plus CLOUDROUTES_BROKER_PUBLIC_KEY and its .pub line in the broker\'s CLOUDROUTES_CURVE_CLIENTS file');
      }),
    );
}
