/** Flag validation: every instruction names the flags it accepts; anything else is an error naming it. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';

export type FlagKind = 'string' | 'bool' | 'list';

export class Flags {
  private readonly values = new Map<string, string[]>();

  constructor(private readonly raw: RawInstruction, spec: Record<string, FlagKind>) {
    for (const f of raw.flags) {
      const kind = spec[f.name];
      if (!kind) throw this.error(`unknown flag: ${f.name}`, 'TSBUILD_UNKNOWN_FLAG');
      // `--link` alone is true; `--link=` (an empty value) is an error, as in BuildKit.
      if (kind !== 'bool' ? f.value === undefined : f.value === '') throw this.error(`missing a value on flag: ${f.name}`);
      if (kind === 'bool' && f.value !== undefined && !['true', 'false'].includes(f.value.toLowerCase())) {
        throw this.error(`expecting boolean value for flag ${f.name}, not: ${f.value}`);
      }
      const list = this.values.get(f.name) ?? [];
      if (kind !== 'list' && list.length > 0) throw this.error(`duplicate flag specified: ${f.name}`);
      list.push(f.value ?? 'true');
      this.values.set(f.name, list);
    }
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  bool(name: string): boolean {
    return (this.values.get(name)?.[0] ?? 'false').toLowerCase() === 'true';
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  error(message: string, code: 'TSBUILD_UNKNOWN_FLAG' | 'TSBUILD_INVALID_ARGUMENT' = 'TSBUILD_INVALID_ARGUMENT'): BuildError {
    return new BuildError(code, `${this.raw.keyword}: ${message}`, { location: this.raw.location });
  }
}
