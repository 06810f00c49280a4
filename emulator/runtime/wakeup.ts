// A sleep that can be cut short: loops that wait for time to pass or for something to change
// (new metadata, a fault being lifted, shutdown) sleep on one of these and are woken by notify().
export class Wakeup {
  private waiters: (() => void)[] = [];

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
