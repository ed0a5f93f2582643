// How often a crashed renderer gets a new window: at most `maxRestarts` within `periodMs`. A renderer
// that crashes faster than that (a broken build, a page that always dies) is given up on rather than
// restarted forever; the shell then quits with an error so a supervisor or the operator sees it.
export interface RestartPolicyOptions {
  maxRestarts?: number;
  periodMs?: number;
  now?: () => number;
}

export interface RestartPolicy {
  /** Records a crash; true when a restart is still allowed. */
  allow(): boolean;
}

export function createRestartPolicy(o: RestartPolicyOptions = {}): RestartPolicy {
  const maxRestarts = o.maxRestarts ?? 3;
  const periodMs = o.periodMs ?? 60_000;
  const now = o.now ?? Date.now;
  let restarts: number[] = [];
  return {
    allow() {
      const t = now();
      restarts = restarts.filter((at) => t - at < periodMs);
      if (restarts.length >= maxRestarts) return false;
      restarts.push(t);
      return true;
    },
  };
}
