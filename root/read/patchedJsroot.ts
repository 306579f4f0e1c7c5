/**
 * The one module that imports jsroot. It refuses to run on an unpatched jsroot:
 * patches/jsroot+7.11.2.patch (applied by `npm install`'s postinstall) routes
 * zlib blocks to node:zlib and turns errors on corrupt baskets into rejections
 * instead of unhandled ones that leave the read hanging.
 */
import { internals } from 'jsroot/core';
import { openFile, type JsrootFile } from 'jsroot/io';

export { TSelector, treeProcess } from 'jsroot/tree';
export type { JsrootBranch, JsrootFile, JsrootTree } from 'jsroot/io';

export function checkJsrootPatched(): void {
  if (internals.nativeZlib !== true) {
    throw new Error('jsroot is not patched: run `npm install` (its postinstall applies patches/jsroot+7.11.2.patch)');
  }
}

/** Opens a whole ROOT file held in memory: jsroot reads it in place, ~7x faster than through its file reader. */
export async function openJsrootFile(bytes: Uint8Array): Promise<JsrootFile> {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return openFile(whole ? bytes.buffer : bytes.slice().buffer);
}
