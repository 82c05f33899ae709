/** An in-memory RecordStore for callers' tests: records kept as JSON text, checked on read like the store's. */
import { isJsonObject } from '../image/json.js';
import type { RecordKind, RecordStore } from '../store/records.js';

export class MemoryRecordStore<T extends object> implements RecordStore<T> {
  private readonly records = new Map<string, string>();

  constructor(readonly kind: string, private readonly spec: RecordKind = {}) {}

  async get(key: string): Promise<T | undefined> {
    const text = this.records.get(key);
    if (text === undefined) return undefined;
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) && (this.spec.valid?.(value) ?? true) ? (value as T) : undefined;
  }

  async put(key: string, value: T): Promise<void> {
    this.records.set(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }

  async keys(): Promise<string[]> {
    return [...this.records.keys()];
  }
}
