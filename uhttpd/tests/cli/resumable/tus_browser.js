// Uploads a generated Blob with tus-js-client's browser bundle, for
// tests/cli/browser.rs, which drives it over the DevTools protocol:
// `startUpload(protocol, size, chunkSize, name)` returns the upload's state,
// whose `done` promise resolves once tus-js-client reports success.

'use strict';

/** `size` bytes, byte i being bits 13..20 of i * 2654435761 (mod 2^32). */
function content(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    bytes[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff;
  }
  return new Blob([bytes]);
}

function startUpload(protocol, size, chunkSize, name) {
  const state = { url: null, offset: 0, retries: 0 };
  state.done = new Promise((resolve, reject) => {
    const upload = new tus.Upload(content(size), {
      endpoint: `${location.origin}/upload/`,
      protocol,
      chunkSize,
      metadata: { filename: name },
      retryDelays: Array(100).fill(100),
      // tus-js-client does not retry while the browser says it is offline;
      // this one retries through the cut, as the test wants.
      onShouldRetry() {
        state.retries += 1;
        return true;
      },
      onUploadUrlAvailable() {
        state.url = upload.url;
      },
      onChunkComplete(_size, accepted) {
        state.offset = accepted;
      },
      onSuccess() {
        resolve({ url: upload.url, offset: state.offset, retries: state.retries });
      },
      onError(error) {
        reject(new Error(String(error)));
      },
    });
    upload.start();
  });
  return state;
}
