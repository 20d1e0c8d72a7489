import { Code, isCode } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { getCodec } from "../../codec/index.js";
import { StatusSchema } from "../../gen/goms/v1/node_pb.js";
import type { Metadata } from "../wire/metadata.js";

const statusCodec = getCodec(StatusSchema);

/** The GomsError of a RESPONSE or STREAM_END whose status is not 0: its goms.v1.Status payload, `ret` and metadata. */
export function decodeStatusError(status: number, buf: Buffer, start: number, end: number, ret: number, metadata: Metadata): GomsError {
  const code = isCode(status) ? status : Code.Unknown;
  try {
    const st = statusCodec.decode(buf, start, end);
    return new GomsError(st.message, code, {
      ret,
      metadata,
      details: st.details.map((d) => ({ type: d.typeUrl, value: d.value })),
      // A reason id this build does not know is kept: it is still the
      // server's stable id, and dropping it would hide the situation.
      ...(st.reason !== "" ? { reason: st.reason } : {}),
    });
  } catch {
    return new GomsError("error response with undecodable status", code, { ret, metadata });
  }
}
