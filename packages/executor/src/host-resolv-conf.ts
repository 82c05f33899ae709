/** The host's /etc/resolv.conf, read once per process ('' when there is none): the DNS a step on the host's network gets. */
import { readFileSync } from 'node:fs';

let text: string | undefined;

export function hostResolvConf(): string {
  if (text === undefined) {
    try {
      text = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      text = '';
    }
  }
  return text;
}
