/**
 * Progress events of the registry client (it never prints; a renderer draws these).
 * `endpoint` names the host spoken to (a mirror or the registry).
 */
import type { Digest } from '../digest.js';

export type BlobStatus =
  /** Pull: already in the store. Push: already in the repository. */
  | 'exists'
  | 'fetching'
  | 'fetched'
  /** Push: mounted from another repository of the same registry. */
  | 'mounted'
  | 'uploading'
  | 'uploaded';

export type RegistryEvent =
  | { type: 'resolved'; reference: string; endpoint: string; digest: Digest; mediaType: string }
  | { type: 'blob'; digest: Digest; size: number; kind: 'config' | 'layer'; status: BlobStatus; endpoint: string }
  /** Bytes of a blob moved so far; at most one per MiB and one at the end. */
  | { type: 'progress'; digest: Digest; size: number; done: number }
  | { type: 'retry'; endpoint: string; what: string; attempt: number; delayMs: number; reason: string }
  /** A mirror failed; the next endpoint is tried. */
  | { type: 'fallback'; endpoint: string; next: string; reason: string }
  | { type: 'warning'; message: string }
  | { type: 'pushed'; reference: string; digest: Digest; size: number };

export type EventSink = (e: RegistryEvent) => void;
