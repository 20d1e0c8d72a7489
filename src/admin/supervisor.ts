import { XmlRpcClient, type XmlRpcStruct, type XmlRpcValue } from "@foxglove/xmlrpc";
import type { ProcessInfo } from "./api-types.js";

export type { ProcessInfo };

/** One supervisord to control: `url` like http://user:pass@127.0.0.1:9001 (the /RPC2 path is added). */
export interface SupervisorConfig {
  /** Host label shown in the UI and used in API paths. */
  name: string;
  url: string;
}

function num(v: XmlRpcValue): number {
  return typeof v === "number" ? v : 0;
}

function text(v: XmlRpcValue): string {
  return typeof v === "string" ? v : "";
}

/** A supervisord XML-RPC client (supervisor.* namespace). */
export class SupervisorClient {
  private readonly client: XmlRpcClient;
  /** The URL without credentials, safe to show. */
  readonly displayUrl: string;

  constructor(readonly config: SupervisorConfig) {
    const u = new URL(config.url);
    const headers: Record<string, string> = {};
    if (u.username !== "" || u.password !== "") {
      const creds = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      headers["Authorization"] = `Basic ${Buffer.from(creds).toString("base64")}`;
    }
    u.username = "";
    u.password = "";
    if (u.pathname === "/" || u.pathname === "") u.pathname = "/RPC2";
    this.displayUrl = u.toString();
    this.client = new XmlRpcClient(this.displayUrl, { headers });
  }

  get name(): string {
    return this.config.name;
  }

  private call(method: string, params: XmlRpcValue[] = []): Promise<XmlRpcValue> {
    return this.client.methodCall(method, params);
  }

  async list(): Promise<ProcessInfo[]> {
    const res = await this.call("supervisor.getAllProcessInfo");
    if (!Array.isArray(res)) throw new Error("getAllProcessInfo: unexpected response");
    return res.map((v) => {
      const p = v as XmlRpcStruct;
      const name = text(p["name"]);
      const group = text(p["group"]) || name;
      const state = text(p["statename"]);
      const start = num(p["start"]);
      const now = num(p["now"]);
      return {
        host: this.name,
        name,
        group,
        fullName: `${group}:${name}`,
        state,
        pid: num(p["pid"]),
        uptimeSec: state === "RUNNING" && start > 0 ? Math.max(0, now - start) : 0,
        startedAtMs: state === "RUNNING" && start > 0 ? start * 1000 : 0,
        description: text(p["description"]),
      };
    });
  }

  /** Starts a program and (wait) returns once it is RUNNING (startsecs passed). */
  async start(fullName: string, wait = true): Promise<void> {
    await this.call("supervisor.startProcess", [fullName, wait]);
  }

  /** Stops a program: its stopsignal (SIGTERM by default), then SIGKILL after stopwaitsecs. */
  async stop(fullName: string, wait = true): Promise<void> {
    await this.call("supervisor.stopProcess", [fullName, wait]);
  }

  /** The last `length` bytes of the program's stdout log. */
  async tail(fullName: string, length: number): Promise<{ text: string; offset: number; overflow: boolean }> {
    const res = await this.call("supervisor.tailProcessStdoutLog", [fullName, 0, length]);
    if (!Array.isArray(res)) throw new Error("tailProcessStdoutLog: unexpected response");
    return { text: text(res[0]), offset: num(res[1]), overflow: res[2] === true };
  }
}
