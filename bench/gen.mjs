// node bench/gen.mjs SEED MIB > FILE: MIB MiB of deterministic bytes with 7 bits of
// entropy per byte (a splitmix64 stream, top bit of every byte cleared), so gzip and
// zstd save about 12% and neither can short-cut. Same SEED, same bytes, on any machine.
const [seedArg, mibArg] = process.argv.slice(2);
if (seedArg === undefined || mibArg === undefined) {
  process.stderr.write('usage: node bench/gen.mjs SEED MIB > FILE\n');
  // eslint-disable-next-line no-restricted-properties -- a command-line script: a usage error ends it with status 2
  process.exit(2);
}
const M = (1n << 64n) - 1n;
let s = (BigInt(seedArg) * 0xd1b54a32d192ed03n + 0x9e3779b97f4a7c15n) & M;
const words = new BigUint64Array(1 << 17);
for (let m = 0; m < Number(mibArg); m++) {
  for (let i = 0; i < words.length; i++) {
    s = (s + 0x9e3779b97f4a7c15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    words[i] = z & 0x7f7f7f7f7f7f7f7fn;
  }
  if (!process.stdout.write(Buffer.from(words.buffer.slice(0)))) await new Promise((r) => process.stdout.once('drain', r));
}
