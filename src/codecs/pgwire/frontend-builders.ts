import { MessageWriter } from './writer.js';
import { Fe } from './message-codes.js';

/** Client messages the gateway itself sends upstream in place of ones policy refused. */

export function writeQuery(w: MessageWriter, sql: string): MessageWriter {
  return w.begin(Fe.Query).cstring(sql).end();
}

export function writeParse(w: MessageWriter, name: string, sql: string): MessageWriter {
  return w.begin(Fe.Parse).cstring(name).cstring(sql).int16(0).end();
}

/** Describe of a portal: the gateway asks for a result's columns the client did not ask for. */
export function writeDescribePortal(w: MessageWriter, portal: string): MessageWriter {
  return w.begin(Fe.Describe).int8(0x50).cstring(portal).end();
}

export const TERMINATE = new MessageWriter(8).begin(Fe.Terminate).end().take();
