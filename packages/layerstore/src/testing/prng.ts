/**
 * A small seeded pseudo-random generator (mulberry32) for generative tests: the same
 * cases on every run, no dependency. `rand(n)` is an integer in [0, n). (The low bits of
 * a power-of-two LCG repeat with short periods, which correlates the choices a test makes.)
 */
export function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return Math.floor((((z ^ (z >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}
