/** RecordingExecutor keeps the Executor contract (testing/contract.ts), scripted to the outcome asked for. */
import test from 'ava';
import { executorContract } from './contract.js';
import { RecordingExecutor } from './recording.js';

executorContract(test, 'RecordingExecutor', (want) => ({
  executor: new RecordingExecutor([{ exitCode: want.exitCode, stdout: want.stdout, stderr: want.stderr }]),
  request: { rootfs: { lowerdirs: ['/l'] }, process: { args: ['/bin/sh', '-c', 'scripted'], env: [], cwd: '/', user: { uid: 0, gid: 0 } }, network: 'none' },
}));
