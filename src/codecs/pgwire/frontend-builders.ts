import { MessageWriter } from './writer.js';
import { Fe } from './message-codes.js';

/** Client messages the gateway itself sends upstream in place of ones policy refused. */

export function writeQuery(w: MessageWriter, sql: string): MessageWriter {
  return w.begin(Fe.Query).cstring(sql).end();
}

export function writeParse(w: MessageWriter, name: string, sql: string): MessageWriter {
  return w.begin(Fe.Parse).cstring(name).cstring(sql).int16(0).end();
}

export const TERMINATE = new MessageWriter(8).begin(Fe.Terminate).end().take();
