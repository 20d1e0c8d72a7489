/**
 * The environment convention between an instance manager (`goms run`,
 * createInstanceManager) and the program it starts. Each copy of the program
 * gets its own identity and port through these variables; the program passes
 * them to createNode. A program started by hand (no GOMS_INSTANCE) keeps its
 * own defaults, so the same file runs both ways.
 */
export const INSTANCE_ENV = {
  /** This copy's index, 0 … N-1. */
  instance: "GOMS_INSTANCE",
  /** N, the number of copies the manager runs. */
  instances: "GOMS_INSTANCES",
  /** The node id to use: the manager's base id + the instance index. */
  nodeId: "GOMS_NODE_ID",
  /** The node name to use, when the manager was given a name prefix: prefix + node id. */
  nodeName: "GOMS_NODE_NAME",
  /** The port to listen on: base port + instance index, or 0 (a free port; the registry tells callers which). */
  port: "GOMS_PORT",
  /** The registry URL, when the manager was given one (the examples read it as their --registry default). */
  registry: "GOMS_REGISTRY",
  /**
   * The plain-HTTP health port for orchestrators' probes (/livez, /readyz):
   * base health port + instance index, or 0. Read by startHealthPort, also in
   * a program started without a manager (set it by hand, in a container spec...).
   */
  healthPort: "GOMS_HEALTH_PORT",
  /** The address the health port binds (default 127.0.0.1; 0.0.0.0 for probes from outside the machine). */
  healthHost: "GOMS_HEALTH_HOST",
} as const;

/** A health port per instance: instance i serves /livez and /readyz on port + i (0: a free port each). */
export interface HealthPortOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** What a program started by an instance manager learns from its environment. */
export interface InstanceEnv {
  instance: number;
  instances: number;
  nodeId: number;
  /** Set only when the manager was given a name prefix. */
  nodeName: string | undefined;
  /** Set only when the manager was given a port (0 = pick a free one). */
  port: number | undefined;
  registry: string | undefined;
  /** Set only when the manager was given a health port (0 = pick a free one). */
  healthPort: number | undefined;
}

/** A non-negative integer variable, or undefined when unset or malformed. */
export function envInt(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * This process's instance settings, or undefined when it was not started by an
 * instance manager. Malformed values read as unset rather than throwing: the
 * program then falls back to its own defaults, as when it is started by hand.
 */
export function instanceFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): InstanceEnv | undefined {
  const instance = envInt(env[INSTANCE_ENV.instance]);
  if (instance === undefined) return undefined;
  const name = env[INSTANCE_ENV.nodeName];
  const registry = env[INSTANCE_ENV.registry];
  return {
    instance,
    instances: envInt(env[INSTANCE_ENV.instances]) ?? instance + 1,
    nodeId: envInt(env[INSTANCE_ENV.nodeId]) ?? instance,
    nodeName: name === undefined || name === "" ? undefined : name,
    port: envInt(env[INSTANCE_ENV.port]),
    registry: registry === undefined || registry === "" ? undefined : registry,
    healthPort: envInt(env[INSTANCE_ENV.healthPort]),
  };
}

/** The variables the manager sets for instance `i`. */
export function instanceVars(
  i: number,
  o: { instances: number; baseId: number; namePrefix?: string | undefined; basePort?: number | undefined; registry?: string | undefined; health?: HealthPortOptions | undefined },
): Record<string, string> {
  const id = o.baseId + i;
  const vars: Record<string, string> = {
    [INSTANCE_ENV.instance]: String(i),
    [INSTANCE_ENV.instances]: String(o.instances),
    [INSTANCE_ENV.nodeId]: String(id),
  };
  if (o.namePrefix !== undefined) vars[INSTANCE_ENV.nodeName] = `${o.namePrefix}${id}`;
  if (o.basePort !== undefined) vars[INSTANCE_ENV.port] = String(o.basePort === 0 ? 0 : o.basePort + i);
  if (o.registry !== undefined) vars[INSTANCE_ENV.registry] = o.registry;
  if (o.health !== undefined) {
    vars[INSTANCE_ENV.healthPort] = String(o.health.port === 0 ? 0 : o.health.port + i);
    if (o.health.host !== undefined) vars[INSTANCE_ENV.healthHost] = o.health.host;
  }
  return vars;
}
