import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCAbortedError,
  GRPCAlreadyExistsError,
  GRPCCancelledError,
  GRPCDataLossError,
  GRPCDeadlineExceededError,
  GRPCFailedPreconditionError,
  GRPCInternalError,
  GRPCInvalidArgumentError,
  GRPCNotFoundError,
  GRPCNotImplementedError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
} from "etcd3";
import { Code, GomsError } from "../errors/index.js";

type ErrorClass = abstract new (...args: never[]) => Error;

const byClass: [ErrorClass, Code][] = [
  [EtcdLeaseInvalidError, Code.NotFound],
  [GRPCUnavailableError, Code.Unavailable],
  [ClientClosedError, Code.Unavailable],
  [GRPCDeadlineExceededError, Code.DeadlineExceeded],
  [GRPCCancelledError, Code.Canceled],
  [GRPCNotFoundError, Code.NotFound],
  [GRPCOutOfRangeError, Code.OutOfRange],
  [GRPCInvalidArgumentError, Code.InvalidArgument],
  [GRPCAlreadyExistsError, Code.AlreadyExists],
  [GRPCFailedPreconditionError, Code.FailedPrecondition],
  [GRPCAbortedError, Code.Aborted],
  [GRPCResourceExhastedError, Code.ResourceExhausted],
  [GRPCNotImplementedError, Code.Unimplemented],
  [GRPCInternalError, Code.Internal],
  [GRPCDataLossError, Code.DataLoss],
  [EtcdPermissionDeniedError, Code.PermissionDenied],
  [EtcdAuthenticationFailedError, Code.Unauthenticated],
  [EtcdInvalidAuthTokenError, Code.Unauthenticated],
  [GRPCUnauthenticatedError, Code.Unauthenticated],
];

/** etcd server messages that mean "try again later" rather than a real failure. */
const transient = [
  "etcdserver: request timed out",
  "etcdserver: leader changed",
  "etcdserver: no leader",
  "etcdserver: too many requests",
  "etcdserver: server stopped",
  "ECONNREFUSED",
  "No connection established",
];

/** Maps anything the etcd3 client throws to a GomsError; `what` names the operation. */
export function fromEtcd(err: unknown, what: string): GomsError {
  if (GomsError.is(err)) return err;
  if (!(err instanceof Error)) return new GomsError(`etcd ${what}: ${String(err)}`, Code.Unknown, { cause: err });
  let code = Code.Unknown;
  for (const [cls, c] of byClass) {
    if (err instanceof cls) {
      code = c;
      break;
    }
  }
  // cockatiel's BrokenCircuitError / isolation errors carry no class we can import.
  if (code === Code.Unknown && (transient.some((m) => err.message.includes(m)) || /circuit|bulkhead/i.test(err.name))) {
    code = Code.Unavailable;
  }
  return new GomsError(`etcd ${what}: ${err.message}`, code, { cause: err });
}
