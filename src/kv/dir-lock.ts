import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Code, GomsError } from "../errors/index.js";

export const LOCK_FILE = "LOCK";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `dir/LOCK` (holding our pid) so two stores never share a data
 * directory. A lock left by a dead process is taken over. Returns the release.
 */
export function lockDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(file, "utf8").trim());
    } catch {
      // vanished or unreadable: treat as stale
    }
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw new GomsError(`watch data directory ${dir} is in use by process ${String(holder)}`, Code.FailedPrecondition);
    }
    rmSync(file, { force: true });
  }
  throw new GomsError(`could not lock watch data directory ${dir}`, Code.FailedPrecondition);
}
