/**
 * Live progress of `instances launch --wait`. On a terminal: a spinner with the current state and the elapsed time,
 * redrawn in place, and one permanent line per state change. Elsewhere (a pipe, a CI log): one plain line per state
 * change and no escape codes.
 */
import { duration } from "./output.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Progress {
  state(status: string): void;
  stop(): void;
  elapsedSeconds(): number;
}

export function createProgress(stream: NodeJS.WriteStream, tty: boolean, label: string): Progress {
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  let current: string | undefined;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    if (current === undefined) return;
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} ${current} · ${duration(elapsed())}`);
  };
  if (tty) timer = setInterval(draw, 100);
  return {
    elapsedSeconds: elapsed,
    state(status) {
      if (status === current) return;
      current = status;
      if (tty) {
        stream.write(`\r\x1b[2K✓ ${status} (${duration(elapsed())})\n`);
        draw();
      } else {
        stream.write(`${label} ${status} after ${duration(elapsed())}\n`);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) stream.write("\r\x1b[2K");
    },
  };
}
