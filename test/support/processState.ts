/** Waiting on a process's state, for tests that stop processes to simulate hangs. */
import { readdir, readFile } from 'node:fs/promises';

/**
 * Sends SIGSTOP and waits until every thread of the process is stopped (state T in /proc):
 * the signal takes effect asynchronously, and on a loaded machine a thread busy on a CPU may
 * still answer a request sent right after `kill` returns.
 */
export async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const threads = await readdir(`/proc/${pid}/task`);
    const states = await Promise.all(threads.map(async (t) => (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]?.[0]));
    if (states.every((s) => s === 'T' || s === 't')) return;
    if (Date.now() > deadline) throw new Error(`pid ${pid} is not stopped after SIGSTOP: thread states ${states.join('')}`);
    await new Promise((r) => setImmediate(r));
  }
}
