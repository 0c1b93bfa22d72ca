/**
 * One timer a second for the periodic chores of every component in the process (counter and lag flushes, the broker's
 * sweep, the worker's credit beat, the sink's look at the store's health). A timer wakeup costs a process about as
 * much CPU as a chore does, so the chores share one wakeup instead of each paying its own. The timer runs while some
 * chore is registered and never keeps the process alive.
 */
const chores = new Set<() => void>();
let timer: NodeJS.Timeout | undefined;

function runChores(): void {
  for (const chore of [...chores]) chore();
}

/** Runs `chore` once a second, in the same wakeup as every other chore of the process, until the returned function is called. */
export function everySecond(chore: () => void): () => void {
  chores.add(chore);
  if (!timer) {
    timer = setInterval(runChores, 1000);
    timer.unref();
  }
  return () => {
    chores.delete(chore);
    if (chores.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
