/** `node test/dist/helpers/tree-cli.js DIR`: print a tree listing (used by fixtures/scripts/docker-goldens.sh). */
import { treeOf } from './tree.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: tree-cli DIR\n');
  // eslint-disable-next-line no-restricted-properties -- a command-line script: a usage error ends it with status 2
  process.exit(2);
}
process.stdout.write(await treeOf(dir));
