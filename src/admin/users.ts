import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from "node:crypto";
import { join } from "node:path";
import { readIfExists, writeFileAtomic } from "./fs-util.js";

/** viewer: read only. operator: process control and method calls. admin: operator + user management. */
export type Role = "viewer" | "operator" | "admin";

export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` may do what `needed` may do. */
export function allows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function isRole(s: unknown): s is Role {
  return s === "viewer" || s === "operator" || s === "admin";
}

interface StoredUser {
  name: string;
  role: Role;
  /** scrypt parameters and output, hex. */
  salt: string;
  hash: string;
  N: number;
  r: number;
  p: number;
  /** Session generation (Sessions): moves on with every change to the user. Absent in older files: 0. */
  gen?: number;
}

interface UsersFile {
  version: 1;
  users: StoredUser[];
}

const KEYLEN = 32;
const PARAMS = { N: 16384, r: 8, p: 1 };

function scryptAsync(password: BinaryLike, salt: BinaryLike, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * A generation newer than `prev`. Based on the clock, so that a user removed
 * and created again does not get back a generation its old sessions carry.
 */
function nextGeneration(prev: number | undefined): number {
  return Math.max(Date.now(), (prev ?? 0) + 1);
}

const NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

export function validUserName(name: unknown): name is string {
  return typeof name === "string" && NAME_RE.test(name);
}

/** Minimum password rules (length only: long passphrases beat composition rules). */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "password must be a string";
  if (password.length < 10) return "password must be at least 10 characters";
  if (password.length > 1024) return "password is too long";
  return undefined;
}

/**
 * The users file (`users.json` in the data directory): scrypt-hashed passwords,
 * written by atomic rename. All reads come from memory after load().
 */
export class UserStore {
  private users = new Map<string, StoredUser>();
  private writing: Promise<void> = Promise.resolve();
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, "users.json");
  }

  async load(): Promise<void> {
    const text = await readIfExists(this.path);
    if (text === undefined) return;
    const f = JSON.parse(text) as UsersFile;
    this.users = new Map(f.users.map((u) => [u.name, u]));
  }

  get size(): number {
    return this.users.size;
  }

  role(name: string): Role | undefined {
    return this.users.get(name)?.role;
  }

  /** The user's session generation; undefined when there is no such user. */
  generation(name: string): number | undefined {
    const u = this.users.get(name);
    return u === undefined ? undefined : (u.gen ?? 0);
  }

  /** Ends every session of the user issued so far (sessions carry the generation they were issued under). */
  async bumpGeneration(name: string): Promise<void> {
    const u = this.users.get(name);
    if (u === undefined) return;
    u.gen = nextGeneration(u.gen);
    await this.save();
  }

  list(): { name: string; role: Role }[] {
    return [...this.users.values()].map((u) => ({ name: u.name, role: u.role }));
  }

  /**
   * Creates or replaces a user. Replacing (a password reset, a role change)
   * moves the generation on, so every session issued before ends.
   */
  async set(name: string, password: string, role: Role): Promise<void> {
    const salt = randomBytes(16);
    const hash = await scryptAsync(password, salt, KEYLEN, { ...PARAMS, maxmem: 64 * 1024 * 1024 });
    const gen = nextGeneration(this.users.get(name)?.gen);
    this.users.set(name, { name, role, salt: salt.toString("hex"), hash: hash.toString("hex"), ...PARAMS, gen });
    await this.save();
  }

  async remove(name: string): Promise<boolean> {
    const had = this.users.delete(name);
    if (had) await this.save();
    return had;
  }

  /** The user's role when the password matches; undefined otherwise (same cost for unknown users). */
  async verify(name: string, password: string): Promise<Role | undefined> {
    const u = this.users.get(name);
    const salt = u ? Buffer.from(u.salt, "hex") : randomBytes(16);
    const params = u ? { N: u.N, r: u.r, p: u.p } : PARAMS;
    const got = await scryptAsync(password, salt, KEYLEN, { ...params, maxmem: 64 * 1024 * 1024 });
    if (!u) return undefined;
    const want = Buffer.from(u.hash, "hex");
    return want.length === got.length && timingSafeEqual(want, got) ? u.role : undefined;
  }

  private save(): Promise<void> {
    const file: UsersFile = { version: 1, users: [...this.users.values()] };
    const text = JSON.stringify(file, null, 2) + "\n";
    this.writing = this.writing.then(() => writeFileAtomic(this.path, text));
    return this.writing;
  }
}
