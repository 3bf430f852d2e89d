import { ConcurrencyLimit } from '../src/catalog/catalog-database';

/** A call that runs until released from outside. */
function deferred() {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { done, release, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit (page reads running at once)', () => {
  it('runs at most `limit` calls at once and starts the waiting ones in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const calls = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const results = calls.map((call, i) =>
      limit.run(async () => {
        started.push(i);
        running += 1;
        most = Math.max(most, running);
        await call.done;
        running -= 1;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    calls[1].release();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    calls[0].release();
    calls[2].release();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    calls[3].release();
    calls[4].release();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('a failing call gives its slot to the next one', async () => {
    const limit = new ConcurrencyLimit(1);
    const first = deferred();
    const failed = limit.run(() => first.done);
    const second = limit.run(async () => 'second ran');
    first.fail(new Error('statement timeout'));
    await expect(failed).rejects.toThrow('statement timeout');
    await expect(second).resolves.toBe('second ran');
    await expect(limit.run(async () => 'and the slot is free again')).resolves.toBe('and the slot is free again');
  });
});
